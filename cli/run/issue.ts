// The work of `dbtls issue` (spec: cli/commands/issue.ts).
import { auditLogPath } from '../../lib/audit/audit-log.js';
import { usageError } from '../../lib/errors.js';
import { runIssue } from '../../lib/issue/issue.js';
import { removedOwners, runRevokeRemoved } from '../../lib/revoke/revoke.js';
import { readManifest } from '../../lib/store/manifest.js';
import { pkiLayout } from '../../lib/store/pki-dir.js';
import { storepassFromSources } from '../../lib/keystore/passwords.js';
import type { IssueFlags } from '../commands/issue.js';
import { loadCluster } from '../inventory-options.js';
import { caPassphrase, storepassFlags } from '../secrets.js';
import { withIssueProgress } from '../ui/issue-progress.js';
import { printIssueReport } from '../ui/issue-report.js';
import { outputMode } from '../ui/mode.js';
import { auditUnless, both } from '../audit.js';
import { issueAudit } from '../audit-events.js';
import { revokedRecords } from './revoke.js';

export async function issue(flags: IssueFlags): Promise<number> {
  if ((flags.caCert === undefined) !== (flags.caKey === undefined))
    throw usageError('byo-ca', '--ca-cert and --ca-key go together');
  if (flags.revokeRemoved && flags.check)
    throw usageError('bad-usage', '--revoke-removed changes things: not with --check');
  const cluster = await loadCluster(flags);
  const passphrase = await caPassphrase(flags.caPassphraseFile);
  const storepass = await storepassFromSources(await storepassFlags(flags));
  const mode = outputMode(flags.json);
  const audit = await auditUnless(flags.check, {
    command: 'issue',
    path: auditLogPath(cluster.pki),
    inventory: cluster.file,
  });
  const onIssued = issueAudit(audit);
  const report = await withIssueProgress(mode, (onEvent) =>
    runIssue(
      cluster,
      {
        nodes: flags.node.length ? flags.node : undefined,
        clients: flags.client.length ? flags.client : undefined,
        force: flags.force,
        newCa: flags.newCa,
        check: flags.check,
        passphrase,
        storepass,
        importCa: flags.caCert && flags.caKey ? { certPath: flags.caCert, keyPath: flags.caKey } : undefined,
      },
      both(onEvent, onIssued),
    ),
  );
  const manifest = await readManifest(pkiLayout(cluster.pki).manifest, cluster.cluster);
  // With revocation on, issue signs CRLs (a new CA's first, one listing the canary) in its batch.
  if (!flags.check && report.written.includes('crl.pem'))
    for (const crl of manifest.crls ?? [])
      audit.record('crl-signed', {
        number: crl.number,
        nextUpdate: crl.nextUpdate,
        caFingerprint256: crl.caFingerprint256,
      });
  // A node or client taken out of the inventory keeps valid certificates until revoked.
  const removed = removedOwners(cluster, manifest);
  if (removed.length) report.removed = removed.map((o) => `${o.kind}/${o.name}`);
  if (flags.revokeRemoved && !flags.check && removed.length) {
    const r = await runRevokeRemoved(cluster, { passphrase });
    revokedRecords(audit, r.revoked, r.crl);
    report.revokedRemoved = r.revoked.map((x) => ({ ...(x.id ? { id: x.id } : {}), serial: x.serial }));
    report.removed = [];
    report.changed = true;
  }
  printIssueReport(report, mode, Boolean(flags.check), cluster.ca.crlDays !== undefined);
  return 0;
}
