// `dbtls check -i INVENTORY [--within 30d]`: what cron and monitoring act on.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { duration, seconds } from '../options.js';
import { reportError } from '../report-error.js';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';

interface CheckFlags extends InventoryFlags {
  within: string;
  json?: boolean;
  live?: boolean;
  /** seconds */
  probeTimeout: number;
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
    .option('--live', 'also probe every node\'s SQL port: does it serve the certificate the manifest says?')
    .option('--probe-timeout <seconds>', 'with --live: for each probe', seconds(600), 10)
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
          [1, 'something expires within the window, has expired, is missing, invalid or outdated; with --live, a node serves an old or foreign certificate, one that does not verify, or cannot be reached'],
          [2, 'usage or input error (inventory problems, nothing issued yet, bad --within)'],
        ],
      }),
    )
    .action(async (flags: CheckFlags) => {
      process.exitCode = await runCheckCommand(flags);
    });
}

const MARK: Record<string, string> = { ok: 'ok', outdated: 'OUTDATED', expiring: 'EXPIRING', invalid: 'INVALID', expired: 'EXPIRED', missing: 'MISSING' };

async function runCheckCommand(flags: CheckFlags): Promise<number> {
  try {
    const { parseDuration } = await import('../../lib/check/duration.js');
    const withinMs = parseDuration(flags.within);
    const { loadCluster } = await import('../inventory-options.js');
    const { runCheck } = await import('../../lib/check/check.js');
    const cluster = await loadCluster(flags);
    const report = await runCheck(cluster, { withinMs });
    // The probe (TLS, sockets) loads only with --live.
    let live: import('../../lib/check/live.js').LiveResult[] | undefined;
    let liveBad = 0;
    if (flags.live) {
      const { liveCheck, liveFailed } = await import('../../lib/check/live.js');
      live = await liveCheck(cluster, { timeoutMs: flags.probeTimeout * 1000 });
      liveBad = live.filter(liveFailed).length;
    }
    const liveOk = liveBad === 0;
    if (flags.json) {
      process.stdout.write(JSON.stringify({ ...report, ok: report.ok && liveOk, ...(live ? { live } : {}) }, null, 2) + '\n');
    } else {
      const width = Math.max(...report.items.map((i) => i.id.length));
      for (const i of report.items) {
        const days = i.daysLeft === undefined ? '' : `${i.daysLeft} days left`;
        const line = `${MARK[i.status]!.padEnd(8)} ${i.id.padEnd(width)}  ${days}${i.problems.length ? `  ${sanitizeForTerminal(i.problems.join('; '), 2000)}` : ''}`;
        process.stdout.write(line.trimEnd() + '\n');
      }
      for (const o of report.orphans) process.stdout.write(`note     ${o} is in the manifest but no longer in the inventory\n`);
      if (report.pkiDir) process.stdout.write(`note     ${report.pkiDir.path}: mode ${report.pkiDir.mode}, owner uid ${report.pkiDir.uid}${report.pkiDir.ok ? '' : ' (others can write it: see the ca line)'}\n`);
      const bad = report.items.filter((i) => i.status !== 'ok').length;
      process.stdout.write(bad ? `${bad} of ${report.items.length} need attention (window ${flags.within})\n` : `all ${report.items.length} ok for at least ${flags.within}\n`);
      for (const l of live ?? []) {
        const what = l.served ? `serial ${l.served.serialHex}${l.tls ? ` ${l.tls.protocol}` : ''}` : '';
        process.stdout.write(`${(l.status === 'ok' ? 'live ok' : `live ${l.status.toUpperCase()}`).padEnd(17)} ${l.node} ${l.host}:${l.port}${what ? `  ${what}` : ''}${l.problem ? `  ${sanitizeForTerminal(l.problem, 1000)}` : ''}\n`);
      }
      if (live) process.stdout.write(liveOk ? `live: every probed node serves its current certificate\n` : `live: ${liveBad} node(s) need attention\n`);
    }
    return report.ok && liveOk ? 0 : 1;
  } catch (e) {
    return reportError(e, { json: Boolean(flags.json) });
  }
}
