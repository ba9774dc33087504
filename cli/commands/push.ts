// `dbtls push -i INVENTORY`: deliver every node's files over SSH (or into a local folder), and
// `dbtls apply -i INVENTORY`: issue + render + push in one idempotent run.
import type { Command } from 'commander';
import { collect, GROUP } from '../options.js';
import { helpSections } from '../help.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';
import type { ReloadPolicy } from '../../lib/deliver/push.js';
import { run } from '../run.js';
import { addTransportOptions, type TransportFlags } from '../transport-options.js';

export interface PushFlags extends InventoryFlags, TransportFlags {
  node: string[];
  check?: boolean;
  json?: boolean;
  /** push only (apply has no --files or --dest). */
  files?: string[];
  dest?: string;
  reload: string;
  restartTungsten?: boolean;
  /** commander's --no-rollback: false. */
  rollback?: boolean;
}

export interface ApplyFlags extends PushFlags {
  storepassFile?: string;
  caPassphraseFile?: string;
  newCa?: boolean;
}

function pushOptions(cmd: Command, reloadDefault: ReloadPolicy): Command {
  return addTransportOptions(addInventoryOptions(cmd))
    .option('--node <name>', 'only this node (repeatable)', collect, [] as string[])
    .option('--check', 'change nothing: show what would be uploaded (exit 0)')
    .optionsGroup(GROUP.output)
    .option('--json', 'print a JSON report')
    .optionsGroup('')
    .option(
      '--reload <when>',
      'reload TLS on the nodes afterwards: changed (nodes whose files changed), always, never',
      reloadDefault,
    )
    .option(
      '--restart-tungsten',
      'restart Tungsten on its nodes (stopall/startall) instead of only reporting it is required',
    )
    .option(
      '--no-rollback',
      "when a node's reload fails, leave the new files there (default: put the previous ones back)",
    );
}

const EXIT_CODES: Array<[number, string]> = [
  [0, 'every node succeeded'],
  [1, 'a node failed (the others still finished; the report names it)'],
  [2, 'usage or input error (inventory problems, nothing issued, hostile values); nothing was sent'],
];

export function registerPush(program: Command): void {
  pushOptions(
    program
      .command('push')
      .summary("deliver each node's certificates, keys, stores and configs (SSH or local), atomically")
      .description(
        "Delivers each node's files: compared first (SHA-256), only what changed is sent, each written to a " +
          'temporary name with its mode and owner, the old one kept as a timestamped backup, renamed into place ' +
          'and read back. Host keys are checked against known_hosts. With --files/--dest, copies those local ' +
          'files to one folder on every node (the Tungsten scp loop, done right).',
      )
      .option(
        '--files <glob>',
        'local files to copy instead of the delivery plan (repeatable; bash patterns in the last path part: *, ?, [jpt]*, [!x]*, [[:alpha:]]*, \\ makes the next character literal; a leading dot is matched only by a pattern that starts with one, as in bash)',
        collect,
        [] as string[],
      )
      .option('--dest <dir>', 'with --files: the folder on every node'),
    'never',
  )
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls push -i cluster.yml', 'every node'],
          ['dbtls push -i cluster.yml --check', 'what would change'],
          [
            "dbtls push -i cluster.yml --files '/opt/continuent/share/[jpt]*' --files '/opt/continuent/share/.[jpt]*' --dest /opt/continuent/share",
            'the Tungsten loop',
          ],
        ],
        exitCodes: EXIT_CODES,
      }),
    )
    .action((flags: PushFlags) => run('push', flags));

  pushOptions(
    program
      .command('apply')
      .summary('issue + render + push in one idempotent run: the main job')
      .description(
        'Issues what is new or changed, renders the configs, and pushes every node. A second run changes nothing.',
      )
      .optionsGroup(GROUP.secrets)
      .option('--storepass-file <file>', 'password of the Java stores (default: $DBTLS_STOREPASS, else the kept one)')
      .option('--ca-passphrase-file <file>', 'passphrase of the CA key (default: $DBTLS_CA_PASSPHRASE)')
      .optionsGroup('')
      .option(
        '--new-ca',
        'start over deliberately when the CA the manifest records is gone or replaced: a new CA (or the one in ca.pem), every leaf re-issued and pushed',
      ),
    'changed',
  )
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls apply -i inventories/example.yml', 'the whole job on the example cluster'],
          ['dbtls apply -i cluster.yml --json', 'for Ansible: `changed` in the JSON'],
        ],
        exitCodes: EXIT_CODES,
      }),
    )
    .action((flags: ApplyFlags) => run('apply', flags));
}
