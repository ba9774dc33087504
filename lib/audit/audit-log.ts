// The audit trail: <pki>/audit.log, one JSON record a line, appended as each action completes (a
// certificate issued, a node pushed, a node reloaded, a rotation phase done) and a last `run` record
// with the command's exit status. Opened O_APPEND|O_CREAT|O_NOFOLLOW, 0600 from creation; each record
// is one write(2) of one line, then fsync: a run killed at any moment keeps every record it wrote,
// and at most its last line torn. A torn last line is left alone: the next record starts on a new
// line, so no record is ever rewritten, truncated or joined to another. The reader (readAuditLog)
// skips and reports torn lines. No secret is ever a field: callers give facts (ids, serials,
// fingerprints, hashes), never passphrases, PINs, passwords or key material.
import { closeSync, constants, fsyncSync, readSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { inputError } from '../errors.js';
import { openAppendNoFollow } from '../store/safe-fs.js';

/** The log in a PKI folder (an inventory's `pki`). */
export const AUDIT_LOG = 'audit.log';
export const auditLogPath = (pki: string) => join(pki, AUDIT_LOG);

export type AuditEvent =
  | 'ca-created'
  | 'issued'
  | 'store-built'
  | 'revoked'
  | 'crl-signed'
  | 'pushed'
  | 'push-failed'
  | 'reloaded'
  | 'rolled-back'
  | 'rotated'
  | 'keystore-written'
  | 'setup-written'
  | 'run';

/** The fields every record has. */
export interface AuditContext {
  /** A random id shared by the records of one run. */
  run: string;
  user: string;
  /** The user who ran sudo, when the run was under sudo. */
  sudoUser?: string;
  host: string;
  command: string;
  /** SHA-256 (hex) of the inventory file as the run read it; absent without an inventory. */
  inventorySha256?: string;
}

export interface AuditRecord extends AuditContext {
  v: 1;
  time: string;
  event: AuditEvent;
  [field: string]: unknown;
}

/** An open audit log: append(record) writes one line and fsyncs it. */
export class AuditLog {
  private fd: number | undefined;
  /** The file's last byte was not "\n" (a torn line): the next record starts with one. */
  private pendingNewline: boolean;

  private constructor(
    readonly path: string,
    fd: number,
    pendingNewline: boolean,
  ) {
    this.fd = fd;
    this.pendingNewline = pendingNewline;
  }

  /** Opens (or creates, 0600) the log at PATH; a symlink, another user's file or one not 0600 is refused. */
  static open(path: string): AuditLog {
    const { fd, size } = openAppendNoFollow(path, 'its audit trail');
    let torn = false;
    if (size > 0) torn = lastByte(fd, size) !== 0x0a;
    return new AuditLog(path, fd, torn);
  }

  append(record: AuditRecord): void {
    if (this.fd === undefined) throw new Error(`${this.path}: the audit log is closed`);
    const line = (this.pendingNewline ? '\n' : '') + JSON.stringify(record) + '\n';
    const buf = Buffer.from(line, 'utf8');
    // One write(2); a short write (a full disk) is finished rather than left torn, if it can be.
    let n = writeSync(this.fd, buf);
    while (n < buf.length) n += writeSync(this.fd, buf, n);
    fsyncSync(this.fd);
    this.pendingNewline = false;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function lastByte(fd: number, size: number): number | undefined {
  const b = Buffer.alloc(1);
  return readSync(fd, b, 0, 1, size - 1) === 1 ? b[0] : undefined;
}

/** A line of the log that is not a whole record: the tail of a run killed mid-write. */
export interface TornLine {
  line: number;
  bytes: number;
}

export interface AuditLogContents {
  path: string;
  records: AuditRecord[];
  /** Lines skipped as torn (a crash mid-append), with their line numbers. */
  torn: TornLine[];
}

/** A torn record is the start of one: it begins as every record does. */
const RECORD_START = '{"v":1,';

/**
 * Reads every record of the log at PATH (not following a symlink), in the order they were written.
 * A line that is the start of a record but not a whole one is torn: skipped and reported, never an
 * error. A line that is not even that (an edit, another program's output) is an input error naming
 * the file and line. ENOENT is rethrown as is.
 */
export async function readAuditLog(path: string): Promise<AuditLogContents> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP')
      throw inputError('audit-log-refused', `${path} is a symbolic link; dbtls does not follow it`, { file: path });
    throw e;
  }
  const out: AuditLogContents = { path, records: [], torn: [] };
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw inputError('audit-log-refused', `${path} is not a regular file`, { file: path });
    let lineNo = 0;
    const take = (raw: Buffer) => {
      lineNo++;
      if (raw.length === 0) return;
      const text = raw.toString('utf8');
      const rec = parseRecord(text);
      if (rec) out.records.push(rec);
      else if (text.startsWith(RECORD_START) || RECORD_START.startsWith(text))
        out.torn.push({ line: lineNo, bytes: raw.length });
      else
        throw inputError(
          'audit-log-corrupt',
          `${path}:${lineNo}: not a dbtls audit record (${raw.length} bytes)`,
          { file: path, line: lineNo },
          'dbtls only appends to its audit log: check who wrote this line',
        );
    };
    const chunk = Buffer.alloc(1 << 20);
    let rest = Buffer.alloc(0);
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      let data = Buffer.concat([rest, chunk.subarray(0, bytesRead)]);
      let nl: number;
      while ((nl = data.indexOf(0x0a)) >= 0) {
        take(data.subarray(0, nl));
        data = data.subarray(nl + 1);
      }
      rest = Buffer.from(data);
    }
    // The last line without its "\n": a record cut by a crash (kept when only the "\n" was lost).
    if (rest.length) {
      lineNo++;
      const rec = parseRecord(rest.toString('utf8'));
      if (rec) out.records.push(rec);
      else out.torn.push({ line: lineNo, bytes: rest.length });
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  return out;
}

function parseRecord(text: string): AuditRecord | undefined {
  if (!text.startsWith(RECORD_START)) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const r = v as Partial<AuditRecord>;
    if (r.v !== 1 || typeof r.time !== 'string' || typeof r.event !== 'string') return undefined;
    return r as AuditRecord;
  } catch {
    return undefined;
  }
}
