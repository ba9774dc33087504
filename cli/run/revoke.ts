// The work of `dbtls revoke` and `dbtls crl refresh` (spec: cli/commands/revoke.ts).
import { runCrlRefresh, runRevoke } from '../../lib/revoke/revoke.js';
import type { CrlReason } from '../../lib/pki/crl.js';
import type { CrlRefreshFlags, RevokeFlags } from '../commands/revoke.js';
import { loadCluster } from '../inventory-options.js';
import { caPassphrase } from '../secrets.js';
import { outputMode } from '../ui/mode.js';
import { printCrlRefreshReport, printRevokeReport } from '../ui/revoke-report.js';

export async function revoke(flags: RevokeFlags): Promise<number> {
  const cluster = await loadCluster(flags);
  const passphrase = await caPassphrase(flags.caPassphraseFile);
  const report = await runRevoke(cluster, {
    ...(flags.node !== undefined ? { node: flags.node } : {}),
    ...(flags.client !== undefined ? { client: flags.client } : {}),
    ...(flags.serial !== undefined ? { serial: flags.serial } : {}),
    reason: flags.reason as CrlReason,
    passphrase,
  });
  printRevokeReport(report, outputMode(flags.json), cluster.file);
  return 0;
}

export async function crlRefresh(flags: CrlRefreshFlags): Promise<number> {
  const cluster = await loadCluster(flags);
  const passphrase = await caPassphrase(flags.caPassphraseFile);
  const report = await runCrlRefresh(cluster, { passphrase, ...(flags.force ? { withinMs: Infinity } : {}) });
  printCrlRefreshReport(report, outputMode(flags.json));
  return 0;
}
