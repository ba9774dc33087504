// `dbtls issue -i INVENTORY`: the cluster's CA and every node's and client's certificates and keys.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { reportError } from '../report-error.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';

interface IssueFlags extends InventoryFlags {
  node: string[];
  client: string[];
  force?: boolean;
  newCa?: boolean;
  check?: boolean;
  json?: boolean;
  caCert?: string;
  caKey?: string;
  caPassphraseFile?: string;
  storepass?: string;
  storepassFile?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerIssue(program: Command): void {
  const cmd = program
    .command('issue')
    .summary('create the CA and every node\'s and client\'s certificates and keys')
    .description(
      'Creates the cluster CA once, then for every node a server certificate (SANs: its name, host and ' +
        'sans), a client certificate, and for mysql/percona nodes the private_key.pem/public_key.pem pair; ' +
        'for every client a client certificate. Idempotent: only what is new or changed is issued.',
    );
  addInventoryOptions(cmd)
    .option('--node <name>', 'only this node (repeatable)', collect, [] as string[])
    .option('--client <name>', 'only this client (repeatable)', collect, [] as string[])
    .option('--force', 're-issue even what is up to date')
    .option('--new-ca', 'start over deliberately when the CA the manifest records is gone or replaced: a new CA (or the one in ca.pem), every leaf re-issued')
    .option('--check', 'change nothing: show what would be issued (exit 0; `changed` in --json says whether anything would be)')
    .option('--json', 'print a JSON report')
    .option('--ca-cert <file>', 'bring your own CA: its certificate (imported on first run)')
    .option('--ca-key <file>', 'bring your own CA: its private key')
    .option('--ca-passphrase-file <file>', 'passphrase of the CA key (default: $DBTLS_CA_PASSPHRASE); a new CA key is encrypted with it')
    .option('--storepass-file <file>', 'password of the Java stores (default: $DBTLS_STOREPASS, else the one kept in <pki>/storepass, else a new one)')
    .option('--storepass <password>', 'the same, on the command line (visible to other users in ps: prefer the file)')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls issue -i inventories/example.yml', 'issue everything the inventory needs'],
          ['dbtls issue -i cluster.yml --node db7', 'a new node only'],
          ['DBTLS_CA_PASSPHRASE=… dbtls issue -i cluster.yml --json', 'with the CA key encrypted at rest, for automation'],
          ['dbtls issue -i hosts.ini --role-map dbservers=mariadb', 'from an Ansible inventory'],
          ['dbtls issue -i cluster.yml --ca-cert corp-ca.pem --ca-key corp-ca-key.pem', 'with your own CA'],
        ],
        exitCodes: [
          [0, 'issued, or everything already up to date'],
          [1, 'the work failed (I/O, another run holds the PKI directory lock)'],
          [2, 'usage or input error (inventory problems with file:line:col, unknown --node, wrong CA passphrase); nothing written'],
        ],
      }),
    )
    .action(async (flags: IssueFlags) => {
      process.exitCode = await runIssueCommand(flags);
    });
}

async function runIssueCommand(flags: IssueFlags): Promise<number> {
  try {
    const { usageError } = await import('../../lib/errors.js');
    if ((flags.caCert === undefined) !== (flags.caKey === undefined)) throw usageError('byo-ca', '--ca-cert and --ca-key go together');
    const { loadCluster } = await import('../inventory-options.js');
    const { caPassphrase } = await import('../secrets.js');
    const { runIssue } = await import('../../lib/issue/issue.js');
    const { withIssueProgress } = await import('../ui/issue-progress.js');
    const { outputMode } = await import('../ui/mode.js');
    const cluster = await loadCluster(flags);
    const passphrase = await caPassphrase(flags.caPassphraseFile);
    const { storepassFromSources } = await import('../../lib/keystore/passwords.js');
    const storepass = await storepassFromSources(await (await import('../secrets.js')).storepassFlags(flags));
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
    if (mode === 'json') process.stdout.write(JSON.stringify({ ok: true, ...(flags.check ? { check: true } : {}), ...report }, null, 2) + '\n');
    else if (flags.check) {
      for (const i of report.issued) process.stdout.write(`would issue ${i.id}: ${i.reason}\n`);
      for (const st of report.stores) process.stdout.write(`would build ${st.path}\n`);
      process.stdout.write(report.changed ? `check: ${report.ca.action === 'created' ? 'a new CA, ' : ''}${report.issued.length} to issue, ${report.stores.length} stores to build; nothing written\n` : 'check: everything is up to date\n');
    } else {
      const stores = report.stores.length ? `, ${report.stores.length} Java store${report.stores.length === 1 ? '' : 's'} built` : '';
      process.stdout.write(`${report.changed ? `${report.issued.length} issued${stores}, ${report.unchanged.length} up to date` : 'nothing to do: everything is up to date'} in ${report.pki}\n`);
    }
    return 0;
  } catch (e) {
    return reportError(e, { json: Boolean(flags.json) });
  }
}
