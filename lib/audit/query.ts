// Questions asked of the audit trail (`dbtls log`): the records about a node, a serial or a period,
// and "which certificate did this node serve at that moment?" — the certificate last pushed to it and
// then reloaded there before that moment (a push rolled back gives the node its previous files back).
import type { AuditRecord } from './audit-log.js';

export interface AuditFilter {
  node?: string;
  /** Hex, any case, colons allowed. */
  serial?: string;
  since?: Date;
  /** Only records up to this moment (inclusive). */
  until?: Date;
}

/** "AB:0c:…" → "ab0c…", as serials are recorded (lower-case hex, no colons). */
export const normalizeSerial = (s: string) =>
  s
    .replace(/:/g, '')
    .toLowerCase()
    .replace(/^0+(?=.)/, '');

export interface PushedCertificate {
  /** server or client: which of the node's certificates. */
  of: string;
  serial: string;
  fingerprint256: string;
  notAfter?: string;
}

function serialsOf(r: AuditRecord): string[] {
  const out: string[] = [];
  if (typeof r.serial === 'string') out.push(r.serial);
  if (Array.isArray(r.certificates))
    for (const c of r.certificates as PushedCertificate[]) if (typeof c?.serial === 'string') out.push(c.serial);
  return out.map(normalizeSerial);
}

export function recordAbout(r: AuditRecord, node: string): boolean {
  return r.node === node || (Array.isArray(r.nodes) && (r.nodes as unknown[]).includes(node));
}

export function filterRecords(records: AuditRecord[], f: AuditFilter): AuditRecord[] {
  const serial = f.serial === undefined ? undefined : normalizeSerial(f.serial);
  return records.filter((r) => {
    const t = Date.parse(r.time);
    if (f.since && !(t >= f.since.getTime())) return false;
    if (f.until && !(t <= f.until.getTime())) return false;
    if (f.node !== undefined && !recordAbout(r, f.node)) return false;
    if (serial !== undefined && !serialsOf(r).includes(serial)) return false;
    return true;
  });
}

/** One certificate on a node, with the push (and reload) that put it there. */
export interface NodeCertificate extends PushedCertificate {
  pushedAt: string;
  pushedBy: string;
  pushRun: string;
  command: string;
  reloadedAt?: string;
  reloadedBy?: string;
}

export interface ServedAnswer {
  node: string;
  at: string;
  /** The server certificate last pushed and then reloaded on the node before `at`. */
  serving?: NodeCertificate;
  /** The server certificate in the node's files at `at` (differs from serving when not reloaded since). */
  installed?: NodeCertificate;
}

const by = (r: AuditRecord) => `${r.user}@${r.host}`;

/** Which server certificate NODE served (and had installed) at AT, from the records in the order written. */
export function servedAt(records: AuditRecord[], node: string, at: Date): ServedAnswer {
  let installed: NodeCertificate | undefined;
  let before: NodeCertificate | undefined;
  let serving: NodeCertificate | undefined;
  for (const r of records) {
    if (r.node !== node) continue;
    if (!(Date.parse(r.time) <= at.getTime())) continue;
    if (r.event === 'pushed') {
      const certs = Array.isArray(r.certificates) ? (r.certificates as PushedCertificate[]) : [];
      const server = certs.find((c) => c.of === 'server');
      if (!server) continue; // only other files (a CRL, configs): the certificate stays what it was
      before = installed;
      installed = {
        ...server,
        pushedAt: r.time,
        pushedBy: by(r),
        pushRun: r.run,
        command: r.command,
      };
    } else if (r.event === 'rolled-back' && r.ok === true) {
      installed = before;
    } else if (r.event === 'reloaded' && r.status === 'done' && installed) {
      serving = { ...installed, reloadedAt: r.time, reloadedBy: by(r) };
    }
  }
  return {
    node,
    at: at.toISOString(),
    ...(serving ? { serving } : {}),
    ...(installed ? { installed } : {}),
  };
}
