// What `dbtls check` prints: one padded line per certificate and key, notes, a count against the
// window; with --live, one line per node's probe (a task per node on a terminal, as the probes go);
// with --json the report alone.
import type { CheckReport } from '../../lib/check/check.js';
import type { LiveResult, ProbeEvent } from '../../lib/check/live.js';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';
import { lineOf, type Formatters } from './formatters.js';
import { printJson, type OutputMode } from './mode.js';
import { withNodeTasks } from './node-tasks.js';

const MARK: Record<CheckReport['items'][number]['status'], string> = {
  ok: 'ok',
  outdated: 'OUTDATED',
  expiring: 'EXPIRING',
  invalid: 'INVALID',
  expired: 'EXPIRED',
  missing: 'MISSING',
};

const out = (line: string): void => void process.stdout.write(line + '\n');

/** The certificate lines, the notes and the count; printed before any probe starts. */
export function printCheckItems(report: CheckReport, within: string): void {
  const width = Math.max(...report.items.map((i) => i.id.length));
  for (const i of report.items) {
    const days = i.daysLeft === undefined ? '' : `${i.daysLeft} days left`;
    out(
      `${MARK[i.status].padEnd(8)} ${i.id.padEnd(width)}  ${days}${i.problems.length ? `  ${sanitizeForTerminal(i.problems.join('; '), 2000)}` : ''}`.trimEnd(),
    );
  }
  for (const o of report.orphans) out(`note     ${o} is in the manifest but no longer in the inventory`);
  if (report.pkiDir)
    out(
      `note     ${report.pkiDir.path}: mode ${report.pkiDir.mode}, owner uid ${report.pkiDir.uid}${report.pkiDir.ok ? '' : ' (others can write it: see the ca line)'}`,
    );
  const bad = report.items.filter((i) => i.status !== 'ok').length;
  out(
    bad
      ? `${bad} of ${report.items.length} need attention (window ${within})`
      : `all ${report.items.length} ok for at least ${within}`,
  );
}

/**
 * What `check --live` shows of each probe. A plain run prints the probe-done lines after every probe
 * has ended, in inventory order (the probes run at once and end in any order), so its output is the
 * same from run to run; a terminal shows both lines as each node's task title as they come.
 */
export const checkProbeLines: Formatters<ProbeEvent> = {
  'probe-start': (e) => `${'probing'.padEnd(17)} ${e.node}${e.channel ? ` ${e.channel}` : ''} ${e.host}:${e.port}`,
  'probe-done': ({ result: l }) => {
    const what = l.served ? `serial ${l.served.serialHex}${l.tls ? ` ${l.tls.protocol}` : ''}` : '';
    const crl = l.revocation
      ? `  ${l.revocation.enforced ? 'revocation enforced' : `REVOCATION NOT ENFORCED: ${sanitizeForTerminal(l.revocation.detail, 1000)}`}`
      : '';
    return `${(l.status === 'ok' ? 'live ok' : `live ${l.status.toUpperCase()}`).padEnd(17)} ${l.node}${l.channel ? ` ${l.channel}` : ''} ${l.host}:${l.port}${what ? `  ${what}` : ''}${l.problem ? `  ${sanitizeForTerminal(l.problem, 1000)}` : ''}${crl}`;
  },
};

/** Runs the probes (given the event callback): a task per node on a terminal, silent otherwise. */
export async function withLiveProgress(
  mode: OutputMode,
  nodes: string[],
  failed: (r: LiveResult) => boolean,
  work: (onEvent: (e: ProbeEvent) => void) => Promise<LiveResult[]>,
): Promise<LiveResult[]> {
  if (mode !== 'tty') return work(() => {});
  return withNodeTasks(
    nodes,
    {
      nodeOf: (e) => (e.type === 'probe-start' ? e.node : e.result.node),
      line: (e) => lineOf(checkProbeLines, e),
      end: (e) => (e.type === 'probe-done' ? (failed(e.result) ? 'failed' : 'ok') : undefined),
    },
    work,
  );
}

/**
 * The live part and the exit-deciding count. On a terminal the node lines are already on screen
 * (the tasks' last titles), so only the count follows.
 */
export function printLiveResults(live: LiveResult[], bad: number, mode: OutputMode): void {
  if (mode === 'plain') for (const l of live) out(lineOf(checkProbeLines, { type: 'probe-done', result: l })!);
  out(bad === 0 ? `live: every probed node serves its current certificate` : `live: ${bad} node(s) need attention`);
}

export function printCheckJson(report: CheckReport, live: LiveResult[] | undefined, ok: boolean): void {
  printJson({ ...report, ok, ...(live ? { live } : {}) });
}
