// What `dbtls issue` prints when it is done (its progress: issue-progress.ts): a line that counts
// what was issued and built; with --check, what would be; with --json, the report.
import type { IssueReport } from '../../lib/issue/issue.js';
import { plural, type OutputMode } from './mode.js';

export function printIssueReport(report: IssueReport, mode: OutputMode, check: boolean, revocation = false): void {
  const out = (s: string): void => void process.stdout.write(s);
  if (mode === 'json')
    return out(JSON.stringify({ ok: true, ...(check ? { check: true } : {}), ...report }, null, 2) + '\n');
  if (check) {
    for (const i of report.issued) out(`would issue ${i.id}: ${i.reason}\n`);
    for (const st of report.stores) out(`would build ${st.path}\n`);
    return out(
      report.changed
        ? `check: ${report.ca.action === 'created' ? 'a new CA, ' : ''}${report.issued.length} to issue, ${report.stores.length} stores to build; nothing written\n`
        : 'check: everything is up to date\n',
    );
  }
  for (const r of report.revokedRemoved ?? [])
    out(`revoked ${r.id ?? r.serial} (serial ${r.serial}): no longer in the inventory\n`);
  if (report.revokedRemoved?.length) out('next: dbtls push --reload changed (the servers then refuse them)\n');
  if (report.removed?.length)
    out(
      `note: ${report.removed.join(', ')} ${report.removed.length === 1 ? 'is' : 'are'} no longer in the inventory, but ${report.removed.length === 1 ? 'its' : 'their'} certificates stay valid: ${revocation ? 'revoke them with dbtls issue --revoke-removed' : 'with revocation off (ca.crlDays) only a CA rotation ends them'}\n`,
    );
  const stores = report.stores.length ? `, ${plural(report.stores.length, 'Java store')} built` : '';
  out(
    `${report.changed ? `${report.issued.length} issued${stores}, ${report.unchanged.length} up to date` : 'nothing to do: everything is up to date'} in ${report.pki}\n`,
  );
}
