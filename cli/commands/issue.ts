// `dbtls issue -i INVENTORY`: the cluster's CA and every node's and client's certificates and keys.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';
import { collect } from '../options.js';
import { run } from '../run.js';

export interface IssueFlags extends InventoryFlags {
  node: string[];
  client: string[];
  force?: boolean;
  revokeRemoved?: boolean;
  newCa?: boolean;
  check?: boolean;
  json?: boolean;
  caCert?: string;
  caKey?: string;
  caPassphraseFile?: string;
  storepass?: string;
  storepassFile?: string;
}

export function registerIssue(program: Command): void {
  const cmd = program
    .command('issue')
    .summary("create the CA and every node's and client's certificates and keys")
    .description(
      'Creates the cluster CA once, then for every node a server certificate (SANs: its name, host and ' +
        'sans), a client certificate, and for mysql/percona nodes the private_key.pem/public_key.pem pair; ' +
        'for every client a client certificate. Idempotent: only what is new or changed is issued.',
    );
  addInventoryOptions(cmd)
    .option('--node <name>', 'only this node (repeatable)', collect, [] as string[])
    .option('--client <name>', 'only this client (repeatable)', collect, [] as string[])
    .option('--force', 're-issue even what is up to date')
    .option(
      '--revoke-removed',
      'revoke the certificates of nodes and clients no longer in the inventory (needs ca.crlDays), then push',
    )
    .option(
      '--new-ca',
      'start over deliberately when the CA the manifest records is gone or replaced: a new CA (or the one in ca.pem), every leaf re-issued',
    )
    .option(
      '--check',
      'change nothing: show what would be issued (exit 0; `changed` in --json says whether anything would be)',
    )
    .option('--json', 'print a JSON report')
    .option('--ca-cert <file>', 'bring your own CA: its certificate (imported on first run)')
    .option('--ca-key <file>', 'bring your own CA: its private key')
    .option(
      '--ca-passphrase-file <file>',
      'passphrase of the CA key (default: $DBTLS_CA_PASSPHRASE); a new CA key is encrypted with it',
    )
    .option(
      '--storepass-file <file>',
      'password of the Java stores (default: $DBTLS_STOREPASS, else the one kept in <pki>/storepass, else a new one)',
    )
    .option('--storepass <password>', 'the same, on the command line (visible to other users in ps: prefer the file)')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls issue -i inventories/example.yml', 'issue everything the inventory needs'],
          ['dbtls issue -i cluster.yml --node db7', 'a new node only'],
          [
            'DBTLS_CA_PASSPHRASE=… dbtls issue -i cluster.yml --json',
            'with the CA key encrypted at rest, for automation',
          ],
          ['dbtls issue -i hosts.ini --role-map dbservers=mariadb', 'from an Ansible inventory'],
          ['dbtls issue -i cluster.yml --ca-cert corp-ca.pem --ca-key corp-ca-key.pem', 'with your own CA'],
        ],
        exitCodes: [
          [0, 'issued, or everything already up to date'],
          [1, 'the work failed (I/O, another run holds the PKI directory lock)'],
          [
            2,
            'usage or input error (inventory problems with file:line:col, unknown --node, wrong CA passphrase); nothing written',
          ],
        ],
      }),
    )
    .action((flags: IssueFlags) => run('issue', flags));
}
