// What `dbtls setup` prints: with -v a line for each step (mysql_ssl_rsa_setup -v's habit); with
// --check the files it would write; with --json the report. A plain run that writes prints nothing,
// as mysql_ssl_rsa_setup did.
import type { SetupEvent, SetupReport } from '../../lib/setup/setup.js';
import { plural, type OutputMode } from './mode.js';
import { describeKeyType, isEcKeyType, keyTypeBits } from '../../lib/pki/keys.js';

/** Prints one -v line; does nothing without -v, or with --json (stdout is the report's). */
export type Say = (line: string) => void;

export function verboseLines(verbose: boolean | undefined, mode: OutputMode): Say {
  return verbose && mode !== 'json' ? (line) => void process.stdout.write(line + '\n') : () => {};
}

const setName = (set: 'ssl' | 'rsa'): string => (set === 'ssl' ? 'SSL files' : 'RSA key pair');

/** One line per event type; a new type without a line here fails to compile. */
const EVENT_LINES: { [K in SetupEvent['type']]: (e: Extract<SetupEvent, { type: K }>) => string } = {
  recovered: (e) => `finished the writes of an interrupted run (${e.journal})`,
  skipped: (e) => `skipped the ${setName(e.skipped.set)}: ${e.skipped.reason}`,
  generating: (e) =>
    `generating ${plural(e.keys, `${isEcKeyType(e.keyType) ? describeKeyType(e.keyType) : `RSA-${keyTypeBits(e.keyType)}`} key`)} for the ${setName(e.set)}`,
  written: ({ file: f }) => {
    const c = f.certificate;
    const detail = c
      ? `  ${c.subject}${c.sans.length ? `  [${c.sans.join(', ')}]` : ''}  until ${c.notAfter.toISOString().slice(0, 10)}`
      : '';
    return `wrote ${f.path}  ${f.mode}${detail}`;
  },
};

export function setupEventLine(e: SetupEvent): string {
  return (EVENT_LINES[e.type] as (e: SetupEvent) => string)(e);
}

export function printSetupReport(report: SetupReport, mode: OutputMode, check: boolean, say: Say): void {
  const out = (s: string): void => void process.stdout.write(s);
  if (check) {
    const would = report.wouldWrite ?? [];
    if (mode === 'json')
      return out(JSON.stringify({ ok: true, check: true, changed: would.length > 0, ...report }, null, 2) + '\n');
    return out(
      would.length ? would.map((f) => `would write ${f}\n`).join('') : 'nothing to do: every file is already there\n',
    );
  }
  if (mode === 'json')
    return out(JSON.stringify({ ok: true, changed: report.written.length > 0, ...report }, null, 2) + '\n');
  if (report.written.some((f) => f.path.endsWith('server-cert.pem')) && report.sans.length === 0) {
    say(
      'note: server-cert.pem has no SAN, so clients can check the CA but not the host name (VERIFY_IDENTITY); pass --san',
    );
  }
}
