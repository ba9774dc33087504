// A command's audit session: the context every record carries (run id, user, host, command, the
// inventory's SHA-256), the log it appends to, and the last `run` record written when the command's
// work is over (cli/run.ts's whenFinished). The work modules start one once their input is checked
// and only when they may change something: a --check run, or a command refused before it starts
// (usage error, bad inventory), writes nothing. The run record is written when the run recorded an
// action, or failed (exit 1) doing its work: a run that changed nothing (a second `issue`, a `crl
// refresh` not due) and one refused with a usage or input error (exit 2) before any action add no
// line. The log is created at the first record, so a refused run leaves no file either.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname, userInfo } from 'node:os';
import { AuditLog, type AuditContext, type AuditEvent } from '../lib/audit/audit-log.js';
import { DbtlsError, isDbtlsError } from '../lib/errors.js';
import { readGivenFile } from '../lib/store/safe-fs.js';
import { whenFinished } from './run.js';

export interface AuditTarget {
  /** The command as typed after `dbtls` (issue, rotate leaf). */
  command: string;
  /** The log: <pki>/audit.log (auditLogPath), or $DBTLS_AUDIT_LOG for a command without a PKI folder. */
  path: string;
  /** The inventory file, hashed into every record. */
  inventory?: string;
}

export type AuditFields = Record<string, unknown>;

/** Where the records go; a no-op sink for runs that write nothing (--check). */
export interface AuditSink {
  record(event: AuditEvent, fields?: AuditFields): void;
}

export const NO_AUDIT: AuditSink = { record: () => undefined };

function user(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown'); // a uid with no passwd entry (a container)
  }
}

class AuditSession implements AuditSink {
  private log: AuditLog | undefined;
  private actions = 0;
  private failure: unknown;
  private readonly started = Date.now();

  constructor(
    readonly path: string,
    private readonly context: AuditContext,
  ) {}

  /** Opens (and judges) a log that is there now, so a planted link is refused before any work. */
  openIfThere(): void {
    try {
      lstatSync(this.path);
    } catch {
      return; // none yet: created at the first record
    }
    this.log = AuditLog.open(this.path);
  }

  record(event: AuditEvent, fields: AuditFields = {}): void {
    if (this.failure !== undefined) return;
    try {
      // The folder may be made by the command itself (the first issue): opened at the first record.
      // No folder at all (push --files with nothing issued): there is no PKI to keep a trail of.
      if (!this.log && !existsSync(dirname(this.path))) return;
      this.log ??= AuditLog.open(this.path);
      this.log.append({ v: 1, time: new Date().toISOString(), ...this.context, event, ...fields });
      if (event !== 'run') this.actions++;
    } catch (e) {
      // The work goes on (a half-done push is worse than a missing line); the run fails at its end.
      this.failure = e;
    }
  }

  finish(exitCode: number, error: unknown): void {
    const worth = this.actions > 0 || exitCode === 1;
    if (worth && (this.log || existsSync(dirname(this.path)))) {
      this.record('run', {
        exitCode,
        durationMs: Date.now() - this.started,
        ...(error !== undefined ? { error: isDbtlsError(error) ? error.code : 'failure' } : {}),
      });
    }
    this.log?.close();
    this.log = undefined;
    const f = this.failure;
    if (f === undefined) return;
    if (isDbtlsError(f)) throw f;
    throw new DbtlsError(
      'audit-log-write',
      `${this.path}: the audit trail could not be written: ${(f as Error).message}`,
      {
        location: { file: this.path },
        cause: f,
      },
    );
  }
}

/**
 * Starts the audit trail of this run: its context, the log opened (and judged) if its folder is
 * there, and the run record registered for the end of the command.
 */
export async function startAudit(target: AuditTarget): Promise<AuditSink> {
  const inventorySha256 =
    target.inventory === undefined
      ? undefined
      : createHash('sha256')
          .update(await readGivenFile(target.inventory))
          .digest('hex');
  const sudoUser = process.env.SUDO_USER;
  const context: AuditContext = {
    run: randomBytes(8).toString('hex'),
    user: user(),
    ...(sudoUser ? { sudoUser } : {}),
    host: hostname(),
    command: target.command,
    ...(inventorySha256 ? { inventorySha256 } : {}),
  };
  const session = new AuditSession(target.path, context);
  session.openIfThere();
  whenFinished((code, error) => session.finish(code, error));
  return session;
}

/**
 * The trail of a command without a PKI folder (setup, keystore create|trust): the log $DBTLS_AUDIT_LOG
 * names, if it names one. Not beside their files: setup's datadir holds what mysql_ssl_rsa_setup's does.
 */
export function standaloneAudit(command: string, check?: boolean): Promise<AuditSink> {
  const path = process.env.DBTLS_AUDIT_LOG;
  return path && !check ? startAudit({ command, path }) : Promise.resolve(NO_AUDIT);
}

/** startAudit for a run that changes things, the no-op sink for a --check run. */
export function auditUnless(check: boolean | undefined, target: AuditTarget): Promise<AuditSink> {
  return check ? Promise.resolve(NO_AUDIT) : startAudit(target);
}

/** Both listeners, in turn: the terminal's progress and the audit trail. */
export function both<E>(a: (e: E) => void, b: (e: E) => void): (e: E) => void {
  return (e) => {
    b(e);
    a(e);
  };
}
