// The work of `dbtls export ansible` (spec: cli/commands/export.ts).
import { resolve } from 'node:path';
import { exportAnsible } from '../../lib/export/ansible.js';
import type { ExportAnsibleFlags } from '../commands/export.js';
import { loadCluster } from '../inventory-options.js';
import { printExportReport } from '../ui/export-report.js';
import { outputMode } from '../ui/mode.js';

export async function exportAnsibleCommand(flags: ExportAnsibleFlags): Promise<number> {
  const cluster = await loadCluster(flags);
  const result = await exportAnsible(cluster, {
    out: resolve(flags.out),
    ...(flags.force ? { force: true } : {}),
    ...(flags.check ? { check: true } : {}),
    ...(flags.hostsFromInventory ? { hostsFromInventory: true } : {}),
    ...(flags.knownHosts ? { knownHostsFile: resolve(flags.knownHosts) } : {}),
  });
  printExportReport(result, outputMode(flags.json), {
    check: Boolean(flags.check),
    nodes: cluster.nodes.length,
    hostsFromInventory: Boolean(flags.hostsFromInventory),
  });
  return 0;
}
