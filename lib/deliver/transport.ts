// How files reach a node. Every transport replaces a file the same way: write a temporary file in the
// destination folder with the final mode and owner, keep the old file as a timestamped backup, rename
// into place (atomic); what was written is read back before the rename, and a mismatch fails the
// install. A transport never leaves a partial file under a final name.
import { randomBytes } from 'node:crypto';

export interface InstallRequest {
  remote: string;
  data: Buffer;
  mode: number;
  owner?: string;
  group?: string;
  /** Whether the file is there now (the caller has just read it): saves a round trip. */
  exists?: boolean;
}

/** One file of an installed set: where it went and how to put back what was there before. */
export interface InstalledFile {
  remote: string;
  /** The previous file's hard-linked backup (full path on the node), when there was one. */
  backup?: string;
  /** No file was there before: rollback removes it. */
  created: boolean;
}

export interface NodeFs {
  /** The file's bytes, or null when it does not exist. A symbolic link there is refused. */
  read(remote: string): Promise<Buffer | null>;
  /**
   * Installs a node's files as one set: every file is written under a temporary name in its
   * destination folder and read back first; only when all of them are there and right are the old
   * ones hard-linked to backups and the new ones renamed into place, back to back in one step (one
   * remote shell, one pipelined burst of SFTP requests, or synchronous renames here). A failure
   * before that step leaves every final name as it was.
   */
  installSet(reqs: InstallRequest[]): Promise<InstalledFile[]>;
  /** Puts back what a set replaced (its backups renamed back, files it created removed), in one step. */
  restore(files: InstalledFile[]): Promise<void>;
  /** Drops backups beyond the configured count for these files (the run kept them for rollback). */
  prune(files: InstalledFile[]): Promise<void>;
  /** Runs one shell command line on the node (built by shellCommand()); for reloads. */
  run(command: string, timeoutMs?: number): Promise<CommandResult>;
  close(): Promise<void>;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export { DEFAULT_BACKUPS } from './defaults.js';

/**
 * "server-key.pem" → "server-key.pem.dbtls-bak-20261121T174502Z-3fa9c1": sortable by time, unique
 * (two runs in one second never share a name, so a backup is never overwritten), recognisable for pruning.
 */
export function backupName(name: string, now: Date): string {
  return `${name}.dbtls-bak-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
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
