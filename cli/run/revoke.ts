// The work of `dbtls revoke` and `dbtls crl refresh` (spec: cli/commands/revoke.ts).
import { auditLogPath } from '../../lib/audit/audit-log.js';
import { runCrlRefresh, runRevoke, type RevokeReport } from '../../lib/revoke/revoke.js';
import type { CrlReason } from '../../lib/pki/crl.js';
import type { RevokedRecord } from '../../lib/store/manifest.js';
import type { CrlRefreshFlags, RevokeFlags } from '../commands/revoke.js';
import { startAudit, type AuditSink } from '../audit.js';
import { loadCluster } from '../inventory-options.js';
import { caPassphrase } from '../secrets.js';
import { outputMode } from '../ui/mode.js';
import { printCrlRefreshReport, printRevokeReport } from '../ui/revoke-report.js';

export async function revoke(flags: RevokeFlags): Promise<number> {
  const cluster = await loadCluster(flags);
  const passphrase = await caPassphrase(flags.caPassphraseFile);
  const audit = await startAudit({ command: 'revoke', path: auditLogPath(cluster.pki), inventory: cluster.file });
  const report = await runRevoke(cluster, {
    ...(flags.node !== undefined ? { node: flags.node } : {}),
    ...(flags.client !== undefined ? { client: flags.client } : {}),
    ...(flags.serial !== undefined ? { serial: flags.serial } : {}),
    reason: flags.reason as CrlReason,
    passphrase,
  });
  revokedRecords(audit, report.revoked, report.crl);
  printRevokeReport(report, outputMode(flags.json), cluster.file);
  return 0;
}

export async function crlRefresh(flags: CrlRefreshFlags): Promise<number> {
  const cluster = await loadCluster(flags);
  const passphrase = await caPassphrase(flags.caPassphraseFile);
  const audit = await startAudit({ command: 'crl refresh', path: auditLogPath(cluster.pki), inventory: cluster.file });
  const report = await runCrlRefresh(cluster, { passphrase, ...(flags.force ? { withinMs: Infinity } : {}) });
  if (report.refreshed) crlSigned(audit, report.crl);
  printCrlRefreshReport(report, outputMode(flags.json));
  return 0;
}

/** The audit records of a revocation, once it is written: each certificate revoked, then the CRL signed. */
export function revokedRecords(audit: AuditSink, revoked: RevokedRecord[], crl: RevokeReport['crl'] | undefined): void {
  for (const r of revoked)
    audit.record('revoked', {
      ...(r.id ? { id: r.id, ...idOwner(r.id) } : {}),
      serial: r.serial,
      subject: r.subject,
      reason: r.reason,
      revokedAt: r.revokedAt,
      caFingerprint256: r.caFingerprint256,
    });
  if (crl) crlSigned(audit, crl);
}

export function crlSigned(audit: AuditSink, crl: RevokeReport['crl']): void {
  audit.record('crl-signed', { number: crl.number, nextUpdate: crl.nextUpdate, entries: crl.entries });
}

/** nodes/db3/server → node: db3 (clients/app/client → client: app). */
function idOwner(id: string): Record<string, string> {
  const m = /^(node|client)s\/([^/]+)\//.exec(id);
  return m ? { [m[1]!]: m[2]! } : {};
}
