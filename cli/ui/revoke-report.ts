// What `dbtls revoke` and `dbtls crl refresh` print: each certificate revoked, the CRL signed, and the
// next step; with --json the report.
import type { CrlRefreshReport, RevokeReport } from '../../lib/revoke/revoke.js';
import { plural, type OutputMode } from './mode.js';

const out = (s: string): void => void process.stdout.write(s);

export function printRevokeReport(report: RevokeReport, mode: OutputMode, inventory: string): void {
  if (mode === 'json') return out(JSON.stringify({ ok: true, ...report }, null, 2) + '\n');
  for (const r of report.revoked) out(`revoked ${r.id ?? r.serial} (serial ${r.serial}, ${r.reason})\n`);
  for (const s of report.already) out(`already revoked: serial ${s}\n`);
  out(
    `${report.crl.path}: CRL ${report.crl.number}, ${plural(report.crl.entries, 'certificate')} revoked, next update ${report.crl.nextUpdate}\n`,
  );
  out(`next: dbtls issue -i ${inventory} (replaces what the inventory still needs), then dbtls push\n`);
}

export function printCrlRefreshReport(report: CrlRefreshReport, mode: OutputMode): void {
  if (mode === 'json') return out(JSON.stringify({ ok: true, ...report }, null, 2) + '\n');
  out(
    `${report.crl.path}: ${report.refreshed ? 'signed' : 'not due'}, CRL ${report.crl.number}, next update ${report.crl.nextUpdate}\n`,
  );
}
