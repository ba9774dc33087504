// `dbtls check -i INVENTORY [--within 30d]`: what cron and monitoring act on.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { duration, seconds } from '../options.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';
import { run } from '../run.js';

export interface CheckFlags extends InventoryFlags {
  within: string;
  json?: boolean;
  live?: boolean;
  /** seconds */
  probeTimeout: number;
  prometheus?: string;
}

export function registerCheck(program: Command): void {
  const cmd = program
    .command('check')
    .summary('check every certificate: present, valid, signed by the CA, key match, SANs, days left')
    .description(
      'Checks the CA and every certificate and key the inventory needs: present, within its validity, ' +
        'signed by the cluster CA, matched by its key, SANs as the inventory says now, and not expiring ' +
        'within the window. Exit 1 when anything needs attention, so cron and monitoring can act on it.',
    );
  addInventoryOptions(cmd)
    .option('--within <duration>', 'flag certificates that expire within this window (30d, 12h, 2w)', duration, '30d')
    .option('--json', 'print a JSON report')
    .option('--live', "also probe every node's SQL port: does it serve the certificate the manifest says?")
    .option('--probe-timeout <seconds>', 'with --live: for each probe', seconds(600), 10)
    .option(
      '--prometheus <file>',
      "also write the findings as Prometheus metrics to FILE (node_exporter's textfile collector; written atomically)",
    )
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls check -i cluster.yml', 'everything fine for the next 30 days?'],
          ['dbtls check -i cluster.yml --within 60d --json', 'for monitoring'],
          ['dbtls check -i cluster.yml --within 30d || dbtls rotate leaf -i cluster.yml --yes', 'in cron'],
          ['dbtls check -i cluster.yml --live', 'and what every node serves right now'],
        ],
        exitCodes: [
          [0, 'every certificate is present, valid and not expiring within the window'],
          [
            1,
            'something expires within the window, has expired, is missing, invalid or outdated; with --live, a node serves an old or foreign certificate, one that does not verify, or cannot be reached',
          ],
          [2, 'usage or input error (inventory problems, nothing issued yet, bad --within)'],
        ],
      }),
    )
    .action((flags: CheckFlags) => run('check', flags));
}
