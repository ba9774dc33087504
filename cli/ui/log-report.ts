// What `dbtls log` prints: one line a record, the answer of --at, and a note for each torn line.
import type { AuditLogContents, AuditRecord } from '../../lib/audit/audit-log.js';
import type { NodeCertificate, ServedAnswer } from '../../lib/audit/query.js';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';
import { plural } from './mode.js';

/** Each part of a line is the log's text (anyone who can write the file wrote it): one printable line each. */
const clean = (s: string) => sanitizeForTerminal(s, 2000);
const say = (line: string) => process.stdout.write(line + '\n');
const note = (line: string) => process.stderr.write(line + '\n');

/** A torn record is not an error: a run killed while it wrote its last line. */
export function printTorn(c: AuditLogContents): void {
  for (const t of c.torn)
    note(`dbtls: note: ${clean(c.path)}:${t.line}: a torn record (${t.bytes} bytes, a run killed mid-write) skipped`);
}

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? clean(String(v)) : '');
const list = (v: unknown) => (Array.isArray(v) ? v : []);

function what(r: AuditRecord): string {
  const serial = r.serial ? ` serial ${str(r.serial)}` : '';
  switch (r.event) {
    case 'ca-created':
      return `CA ${str(r.action)}: ${str(r.subject)} (${str(r.fingerprint256)})`;
    case 'issued':
      return `${str(r.id)} (${str(r.reason)})${serial}${r.notAfter ? `, until ${str(r.notAfter)}` : ''}`;
    case 'store-built':
      return `${str(r.id)}: ${str(r.type)} ${str(r.path)}`;
    case 'revoked':
      return `${str(r.id) || 'certificate'}${serial} (${str(r.reason)})`;
    case 'crl-signed':
      return `CRL #${str(r.number)}, ${plural(Number(r.entries ?? 0), 'entry', 'entries')}, next update ${str(r.nextUpdate)}`;
    case 'pushed': {
      const server = list(r.certificates).find((c: { of?: string }) => c?.of === 'server') as
        { serial?: string } | undefined;
      return `${str(r.node)}: ${plural(list(r.files).length, 'file')}${server ? `, server serial ${str(server.serial)}` : ''}`;
    }
    case 'push-failed':
      return `${str(r.node)}: ${str(r.error)}`;
    case 'reloaded':
      return `${str(r.node)}: ${str(r.status)}`;
    case 'rolled-back':
      return `${str(r.node)}: ${plural(list(r.files).length, 'file')} ${r.ok ? 'put back' : 'NOT put back'}`;
    case 'rotated':
      return [
        str(r.kind),
        r.phase !== undefined ? `phase ${str(r.phase)}` : '',
        str(r.step),
        r.ok === false ? 'FAILED' : '',
      ]
        .filter(Boolean)
        .join(' ');
    case 'keystore-written':
    case 'setup-written':
      return str(r.file);
    case 'run':
      return `exit ${str(r.exitCode)} after ${str(r.durationMs)} ms${r.error ? ` (${str(r.error)})` : ''}`;
    default:
      return '';
  }
}

export function printLogRecords(records: AuditRecord[], missing: string | undefined): void {
  if (missing) note(`dbtls: no audit log at ${clean(missing)} yet: nothing recorded`);
  for (const r of records)
    say(`${str(r.time)}  ${str(r.user)}@${str(r.host)}  ${str(r.command)}  ${str(r.event)}  ${what(r)}`.trimEnd());
}

const cert = (c: NodeCertificate) =>
  `serial ${str(c.serial)}, SHA-256 ${str(c.fingerprint256)}, pushed ${str(c.pushedAt)} by ${str(c.pushedBy)} (${str(c.command)}, run ${str(c.pushRun)})`;

export function printServed(a: ServedAnswer, missing: string | undefined): void {
  if (missing) note(`dbtls: no audit log at ${clean(missing)} yet: nothing recorded`);
  say(`${str(a.node)} at ${a.at}:`);
  if (a.serving)
    say(`  served     ${cert(a.serving)}, reloaded ${str(a.serving.reloadedAt)} by ${str(a.serving.reloadedBy)}`);
  else say('  served     nothing recorded: no push followed by a reload before then');
  if (a.installed && (a.installed.pushRun !== a.serving?.pushRun || a.installed.pushedAt !== a.serving.pushedAt))
    say(`  installed  ${cert(a.installed)}, not reloaded since: served after the next reload or restart`);
}
