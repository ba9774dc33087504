// The work of `dbtls revoke` and `dbtls crl refresh` (spec: cli/commands/revoke.ts).
import { runCrlRefresh, runRevoke } from '../../lib/revoke/revoke.js';
import type { CrlReason } from '../../lib/pki/crl.js';
import type { CrlRefreshFlags, RevokeFlags } from '../commands/revoke.js';
import { loadCluster } from '../inventory-options.js';
import { caPassphrase } from '../secrets.js';

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
  if (flags.json) process.stdout.write(JSON.stringify({ ok: true, ...report }, null, 2) + '\n');
  else {
    for (const r of report.revoked)
      process.stdout.write(`revoked ${r.id ?? r.serial} (serial ${r.serial}, ${r.reason})\n`);
    for (const s of report.already) process.stdout.write(`already revoked: serial ${s}\n`);
    process.stdout.write(
      `${report.crl.path}: CRL ${report.crl.number}, ${report.crl.entries} revoked, next update ${report.crl.nextUpdate}\n` +
        `next: dbtls issue -i ${cluster.file} (replaces what the inventory still needs), then dbtls push\n`,
    );
  }
  return 0;
}

export async function crlRefresh(flags: CrlRefreshFlags): Promise<number> {
  const cluster = await loadCluster(flags);
  const passphrase = await caPassphrase(flags.caPassphraseFile);
  const report = await runCrlRefresh(cluster, { passphrase, ...(flags.force ? { withinMs: Infinity } : {}) });
  if (flags.json) process.stdout.write(JSON.stringify({ ok: true, ...report }, null, 2) + '\n');
  else
    process.stdout.write(
      `${report.crl.path}: ${report.refreshed ? 'signed' : 'not due'}, CRL ${report.crl.number}, next update ${report.crl.nextUpdate}\n`,
    );
  return 0;
}
