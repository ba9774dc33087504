// What `dbtls export ansible` prints: whether --out is (or would be) written, and how to run the
// playbook; with --json the report.
import { HOSTS, PLAYBOOK, type AnsibleExportResult } from '../../lib/export/ansible.js';
import { plural, type OutputMode } from './mode.js';

export interface ExportShown {
  check: boolean;
  /** Nodes of the inventory, for the summary line. */
  nodes: number;
  /** No hosts.yml was written: the run line names the user's own inventory. */
  hostsFromInventory: boolean;
}

export function printExportReport(result: AnsibleExportResult, mode: OutputMode, shown: ExportShown): void {
  const out = (s: string): void => void process.stdout.write(s);
  if (mode === 'json')
    return out(
      JSON.stringify({ ok: true, changed: result.changed, out: result.out, files: result.files }, null, 2) + '\n',
    );
  if (!result.changed)
    return out(`${result.out} is up to date (${plural(result.copies, 'file')} for ${plural(shown.nodes, 'node')})\n`);
  out(
    `${shown.check ? 'would write' : 'wrote'} ${result.out}: ${result.copies} files for ${plural(shown.nodes, 'node')}\n`,
  );
  if (!shown.check)
    out(
      `run: cd ${result.out} && ansible-playbook -i ${shown.hostsFromInventory ? 'YOUR-INVENTORY' : HOSTS} ${PLAYBOOK}\n`,
    );
}
