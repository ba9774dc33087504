// The work of `dbtls issue` (spec: cli/commands/issue.ts).
import { usageError } from '../../lib/errors.js';
import { runIssue } from '../../lib/issue/issue.js';
import { storepassFromSources } from '../../lib/keystore/passwords.js';
import type { IssueFlags } from '../commands/issue.js';
import { loadCluster } from '../inventory-options.js';
import { caPassphrase, storepassFlags } from '../secrets.js';
import { withIssueProgress } from '../ui/issue-progress.js';
import { printIssueReport } from '../ui/issue-report.js';
import { outputMode } from '../ui/mode.js';

export async function issue(flags: IssueFlags): Promise<number> {
  if ((flags.caCert === undefined) !== (flags.caKey === undefined))
    throw usageError('byo-ca', '--ca-cert and --ca-key go together');
  const cluster = await loadCluster(flags);
  const passphrase = await caPassphrase(flags.caPassphraseFile);
  const storepass = await storepassFromSources(await storepassFlags(flags));
  const mode = outputMode(flags.json);
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
      onEvent,
    ),
  );
  printIssueReport(report, mode, Boolean(flags.check));
  return 0;
}
