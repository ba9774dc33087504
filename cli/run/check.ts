// The work of `dbtls check` (spec: cli/commands/check.ts).
import { runCheck } from '../../lib/check/check.js';
import { parseDuration } from '../../lib/check/duration.js';
import { prometheusText, writePrometheusFile } from '../../lib/check/prometheus.js';
import { resolve } from 'node:path';
import type { LiveResult } from '../../lib/check/live.js';
import type { CheckFlags } from '../commands/check.js';
import { loadCluster } from '../inventory-options.js';
import { printCheckItems, printCheckJson, printLiveResults, withLiveProgress } from '../ui/check-report.js';
import { outputMode } from '../ui/mode.js';

export async function check(flags: CheckFlags): Promise<number> {
  const mode = outputMode(flags.json);
  const withinMs = parseDuration(flags.within);
  const cluster = await loadCluster(flags);
  const report = await runCheck(cluster, { withinMs });
  if (mode !== 'json') printCheckItems(report, flags.within);
  let live: LiveResult[] | undefined;
  let liveBad = 0;
  if (flags.live) {
    // The probe (TLS, sockets, the MySQL handshake) loads only with --live.
    const { liveCheck, liveFailed } = await import('../../lib/check/live.js');
    const timeoutMs = flags.probeTimeout * 1000;
    live = await withLiveProgress(
      mode,
      cluster.nodes.map((n) => n.name),
      liveFailed,
      (onEvent) =>
        liveCheck(cluster, { timeoutMs, onEvent, ...(cluster.ca.crlDays !== undefined ? { revocation: true } : {}) }),
    );
    liveBad = live.filter(liveFailed).length;
    if (mode !== 'json') printLiveResults(live, liveBad, mode);
  }
  const ok = report.ok && liveBad === 0;
  if (flags.prometheus !== undefined) {
    // node_exporter's textfile collector reads FILE: written whole or not at all, whatever check found.
    await writePrometheusFile(resolve(flags.prometheus), prometheusText(report, live, ok, new Date()));
  }
  if (mode === 'json') printCheckJson(report, live, ok);
  return ok ? 0 : 1;
}
