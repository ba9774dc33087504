// `dbtls rotate leaf|ca|status -i INVENTORY`: renew certificates on a live cluster — issue, push,
// reload, probe — and the three-phase CA rotation, resumable from its state in the PKI directory.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { collect, count, duration, GROUP, seconds } from '../options.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';
import { addTransportOptions, type TransportFlags } from '../transport-options.js';
import { run } from '../run.js';

/** What every roll-out of a rotation (leaf, ca) takes from the command line. */
export interface RotateFlags extends InventoryFlags, TransportFlags {
  yes?: boolean;
  json?: boolean;
  caPassphraseFile?: string;
  storepassFile?: string;
  restartTungsten?: boolean;
  /** seconds */
  probeTimeout: number;
  /** false with --no-rollback */
  rollback: boolean;
}

export interface RotateLeafFlags extends RotateFlags {
  within: string;
  all?: boolean;
  node: string[];
  check?: boolean;
}

export interface RotateCaFlags extends RotateFlags {
  phase?: 1 | 2 | 3;
  check?: boolean;
}

export interface RotateStatusFlags extends InventoryFlags {
  json?: boolean;
}

const EXIT_CODES: Array<[number, string]> = [
  [0, 'done: every node took its files, reloaded, and serves what the manifest says (or nothing was due)'],
  [1, 'a node failed to take its files, to reload, or still serves another certificate (named in the report)'],
  [2, 'usage or input error, or no --yes without a terminal; nothing was changed'],
];

function common(cmd: Command): Command {
  return addTransportOptions(addInventoryOptions(cmd))
    .option('--yes', 'do not ask for confirmation (needed without a terminal: cron, Ansible)')
    .optionsGroup(GROUP.output)
    .option('--json', 'print a JSON report')
    .optionsGroup(GROUP.secrets)
    .option('--ca-passphrase-file <file>', 'passphrase of the CA key (default: $DBTLS_CA_PASSPHRASE)')
    .option('--storepass-file <file>', 'password of the Java stores (default: $DBTLS_STOREPASS, else the kept one)')
    .optionsGroup('')
    .option(
      '--restart-tungsten',
      'restart Tungsten on its nodes (stopall/startall) instead of only reporting it is required',
    )
    .option('--probe-timeout <seconds>', 'for each probe of a node after its reload', seconds(600), 10)
    .option(
      '--no-rollback',
      "when a node's reload or probe fails, leave the new files there (default: put the previous ones back)",
    );
}

export function registerRotate(program: Command): void {
  const rotate = program
    .command('rotate')
    .summary('renew leaf certificates or the CA on a live cluster: issue, push, reload, probe')
    .description(
      'Renews certificates on a running cluster without downtime: servers reload TLS in place and are probed afterwards.',
    )
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls rotate leaf -i cluster.yml --check', 'which leaf certificates are due'],
          [
            'dbtls rotate leaf -i cluster.yml --within 30d --yes',
            'renew what expires within 30 days, push, reload, probe',
          ],
          ['dbtls rotate ca -i cluster.yml --yes', 'replace the CA in three phases'],
          ['dbtls rotate intermediate -i cluster.yml --yes', 'a new intermediate (ca.intermediate), no trust change'],
          ['dbtls rotate status -i cluster.yml', 'where a CA rotation stands'],
        ],
        exitCodes: EXIT_CODES,
      }),
    );

  common(
    rotate
      .command('leaf')
      .summary('re-issue the leaves that expire within the window, push, reload, probe')
      .description(
        'Re-issues the leaf certificates that expire within --within (or all with --all), pushes them, reloads TLS on each node and probes it.',
      )
      .option('--within <duration>', 'renew what expires within this window (30d, 12h, 2w)', duration, '30d')
      .option('--all', 'renew every leaf, due or not')
      .option('--node <name>', "only this node's certificates (repeatable)", collect, [] as string[])
      .option('--check', 'show what is due; change nothing'),
  )
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls rotate leaf -i cluster.yml --within 30d --yes', 'what cron runs (see dbtls schedule)'],
          ['dbtls rotate leaf -i cluster.yml --check', 'what is due'],
          ['dbtls rotate leaf -i cluster.yml --node db3 --all --yes', 'one node, now'],
        ],
        exitCodes: EXIT_CODES,
      }),
    )
    .action((flags: RotateLeafFlags) => run('rotate leaf', flags));

  common(
    rotate
      .command('ca')
      .summary('replace the CA in three phases: trust both, swap leaves, drop the old')
      .description(
        'Replaces the CA in three phases (trust both CAs, swap the leaves to the new CA, drop the old CA), resumable from its state in the PKI directory.',
      )
      .option('--phase <n>', 'run only this phase (it must be the one the rotation is at)', count(1, 3))
      .option('--check', 'change nothing: say which phase would run and what it does'),
  )
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls rotate ca -i cluster.yml --yes', 'all three phases (or the rest of an interrupted rotation)'],
          ['dbtls rotate ca -i cluster.yml --phase 1 --yes', 'one phase at a time, e.g. a day apart'],
          ['dbtls rotate status -i cluster.yml', 'where it stands'],
        ],
        exitCodes: EXIT_CODES,
      }),
    )
    .action((flags: RotateCaFlags) => run('rotate ca', flags));

  common(
    rotate
      .command('intermediate')
      .summary('a new intermediate signed by the root, every leaf re-issued under it; no trust change')
      .description(
        "With ca.intermediate: the root (its sealed key: the passphrase or the token's PIN) signs a new intermediate, every leaf is re-issued under it, pushed, reloaded and probed. Trust files hold the root alone, so nothing else changes.",
      ),
  )
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['DBTLS_CA_PASSPHRASE=… dbtls rotate intermediate -i cluster.yml --yes', 'the root signs a new intermediate'],
          ['dbtls check -i cluster.yml', 'how long the intermediate has left'],
        ],
        exitCodes: EXIT_CODES,
      }),
    )
    .action((flags: RotateFlags) => run('rotate intermediate', flags));

  addInventoryOptions(
    rotate
      .command('status')
      .summary('where a CA rotation stands')
      .description('Says whether a CA rotation is under way, which phases are done and which comes next.'),
  )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls rotate status -i cluster.yml', 'the phase a CA rotation is at, or that none is under way'],
          ['dbtls rotate status -i cluster.yml --json', 'the same, for a script'],
        ],
        exitCodes: [
          [0, 'the state was read and printed'],
          [1, 'the PKI directory could not be read'],
          [2, 'usage or input error (inventory problems, a damaged rotation state); nothing was changed'],
        ],
      }),
    )
    .action((flags: RotateStatusFlags) => run('rotate status', flags));
}
