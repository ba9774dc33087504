// `dbtls log [-i INVENTORY | --pki DIR] [--node N] [--serial S] [--since ISO] [--at ISO] [--json]`:
// the audit trail the changing commands append to (<pki>/audit.log), and what was on a node when.
import { InvalidArgumentError, type Command } from 'commander';
import { helpSections } from '../help.js';
import { GROUP, inGroup } from '../options.js';
import { run } from '../run.js';

export interface LogFlags {
  inventory?: string;
  cluster?: string;
  pki?: string;
  file?: string;
  node?: string;
  serial?: string;
  since?: Date;
  at?: Date;
  json?: boolean;
}

const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** An ISO 8601 date or time (a date alone is its midnight UTC; a time without a zone is local). */
export function isoTime(value: string): Date {
  const t = ISO.test(value.trim()) ? Date.parse(value.trim()) : NaN;
  if (Number.isNaN(t))
    throw new InvalidArgumentError('It must be an ISO 8601 date or time (2026-11-01, 2026-11-01T12:00Z).');
  return new Date(t);
}

export function registerLog(program: Command): void {
  const cmd = program
    .command('log')
    .summary('the audit trail: what was issued, revoked, pushed, reloaded and rotated, when and by whom')
    .description(
      'Reads the audit log every changing command appends to (audit.log in the PKI folder): one record for ' +
        'each certificate issued or revoked, CRL signed, node pushed (files with their SHA-256, certificate ' +
        'serials) and reloaded, rotation step, and each run with its exit status. With --node and --at, the ' +
        'certificate the node served at that moment: the one last pushed there and reloaded before it. A ' +
        'record torn by a crash (the last line of a killed run) is skipped and reported.',
    );
  inGroup(cmd, GROUP.inventory, (c) =>
    c
      .option('-i, --inventory <file>', "the inventory: its PKI folder's audit log")
      .option('--cluster <name>', 'cluster name for an Ansible inventory (default: from its file name)')
      .option('--pki <dir>', 'the PKI folder, instead of -i')
      .option('--file <file>', 'this log (the $DBTLS_AUDIT_LOG of setup and keystore), instead of -i'),
  )
    .option('--node <name>', "only the node's records; with --at, what it served then")
    .option('--serial <hex>', 'only the records of this certificate serial (colons allowed)')
    .option('--since <time>', 'only records from this ISO 8601 date or time on', isoTime)
    .option('--at <time>', 'with --node: the certificate the node served at this ISO 8601 date or time', isoTime)
    .option('--json', 'print a JSON report')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls log -i cluster.yml --since 2026-11-01', 'everything since the first of November'],
          ['dbtls log -i cluster.yml --node db3 --at 2026-11-01T12:00Z', 'which certificate db3 served then'],
          ['dbtls log --pki /etc/dbtls/pki --serial 4f:1a:9c --json', 'the history of one certificate'],
        ],
        exitCodes: [
          [0, 'records found (with --at: what the node had then)'],
          [1, 'no record matches (with --at: nothing recorded on the node before then)'],
          [2, 'usage or input error (not one of -i, --pki, --file; a bad time; a line of the log not a dbtls record)'],
        ],
      }),
    )
    .action((flags: LogFlags) => run('log', flags));
}
