// How files reach a node. Every transport replaces a file the same way: write a temporary file in the
// destination folder with the final mode and owner, keep the old file as a timestamped backup, rename
// into place (atomic); what was written is read back before the rename, and a mismatch fails the
// install. A transport never leaves a partial file under a final name.
export interface InstallRequest {
  remote: string;
  data: Buffer;
  mode: number;
  owner?: string;
  group?: string;
  /** Whether the file is there now (the caller has just read it): saves a round trip. */
  exists?: boolean;
}

export interface NodeFs {
  /** The file's bytes, or null when it does not exist. */
  read(remote: string): Promise<Buffer | null>;
  /** Replaces the file atomically and verifies its content; several may run at once. */
  install(req: InstallRequest): Promise<void>;
  /** Runs one shell command line on the node (built by shellCommand()); for reloads. */
  run(command: string, timeoutMs?: number): Promise<CommandResult>;
  close(): Promise<void>;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How many backups of a replaced file are kept beside it. */
export const DEFAULT_BACKUPS = 3;

/** "server-key.pem" → "server-key.pem.dbtls-bak-20261121T174502Z": sortable, and recognisable for pruning. */
export function backupName(name: string, now: Date): string {
  return `${name}.dbtls-bak-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

export function isBackupOf(name: string, candidate: string): boolean {
  return candidate.startsWith(`${name}.dbtls-bak-`);
}

/** A temporary file older than this was left by an interrupted run, not by one still writing it. */
export const STALE_TEMP_MS = 10 * 60_000;

/** `.name.<hex>.dbtls-tmp` (a transport's temporary file) last written before now - STALE_TEMP_MS. */
export function isStaleTemp(name: string, mtimeMs: number, nowMs: number): boolean {
  return name.startsWith('.') && name.endsWith('.dbtls-tmp') && mtimeMs < nowMs - STALE_TEMP_MS;
}
