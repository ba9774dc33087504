// One step of a rotation on the live cluster: issue what is due (or what a new CA makes due), render,
// push to the nodes concerned, reload TLS there, then probe each node's SQL port and compare what it
// serves with the manifest. A node that failed anywhere is named; the others still finish.
import { join } from 'node:path';
import { runIssue, type IssueEvent, type IssueReport } from '../issue/issue.js';
import { runRender } from '../render/render.js';
import { runPush, type Connect, type PushEvent, type PushReport } from '../deliver/push.js';
import { awaitsRestart, reloadPlans } from '../reload/commands.js';
import { liveCheck, liveFailed, type LiveResult, type ProbeEvent } from '../check/live.js';
import type { Cluster } from '../inventory/model.js';

export interface RolloutOptions {
  connect: Connect;
  /** Written into rendered files' headers. */
  generator: string;
  /** Push, reload and probe only these nodes; undefined = every node. */
  nodes?: string[];
  /** Certificates to issue anew (id → reason). */
  renew?: Map<string, string>;
  passphrase?: string;
  storepass?: string;
  concurrency?: number;
  restartTungsten?: boolean;
  probeTimeoutMs?: number;
  /** Trusted CAs the probes verify against (PEM); default the PKI directory's ca.pem. */
  verifyCa?: string;
  onEvent?: (e: RolloutEvent) => void;
  /** Put a node's previous files back when its reload or its probe fails (default true). */
  rollback?: boolean;
}

/**
 * A roll-out as it goes: the issue's and the push's own events, each wrapped as it came (the two
 * unions stay whole, so whoever shows them shows them as `issue` and `push` do), the render's
 * outcome, and each node's probe after its reload.
 */
export type RolloutEvent =
  | { type: 'issue'; event: IssueEvent }
  | { type: 'render'; changed: boolean; files: number }
  | { type: 'push'; event: PushEvent }
  | ProbeEvent;

export interface RolloutReport {
  issue: Pick<IssueReport, 'issued' | 'stores' | 'changed'>;
  renderChanged: boolean;
  push: PushReport;
  live: LiveResult[];
  /** Nodes that failed to take the files, to reload, or that serve something else than expected. */
  failed: string[];
  ok: boolean;
}

export async function rollOut(cluster: Cluster, opts: RolloutOptions): Promise<RolloutReport> {
  const onEvent = opts.onEvent ?? (() => {});
  const issued = await runIssue(
    cluster,
    { ...(opts.renew ? { renew: opts.renew } : {}), passphrase: opts.passphrase, storepass: opts.storepass },
    (event) => onEvent({ type: 'issue', event }),
  );
  const rendered = await runRender(cluster, { generator: opts.generator });
  onEvent({ type: 'render', changed: rendered.changed, files: rendered.files.length });
  // Each node is probed right after its reload, on the push's own turn, so that a node which
  // reloads but then serves the wrong thing is rolled back to its previous files like one whose
  // reload failed.
  const probed: LiveResult[] = [];
  const probeOpts = {
    ...(opts.verifyCa ? { ca: opts.verifyCa } : {}),
    ...(opts.probeTimeoutMs ? { timeoutMs: opts.probeTimeoutMs } : {}),
    onEvent,
  };
  const push = await runPush(
    cluster,
    {
      nodes: opts.nodes,
      renderedDir: join(cluster.pki, 'rendered'),
      reload: 'always',
      restartTungsten: opts.restartTungsten,
      concurrency: opts.concurrency,
      ...(opts.rollback === false ? { rollback: false } : {}),
      afterReload: async (node) => {
        const plans = reloadPlans(node, { restartTungsten: opts.restartTungsten });
        // A node whose only reload is a restart not run still serves its old certificate: not probed now.
        if (awaitsRestart(plans)) return undefined;
        // A Galera node has two results (SQL port, group channel): both must serve the new certificate.
        const results = await liveCheck(cluster, { nodes: [node.name], ...probeOpts });
        probed.push(...results);
        // An old Galera provider keeps its certificate until the restart it reported: judge the SQL port alone.
        const waits = plans.some((p) => p.kind === 'restart-required');
        const bad = results.find((l) => liveFailed(l) && !(waits && l.channel === 'gcomm'));
        return bad ? `live ${bad.status}${bad.channel ? ` (${bad.channel})` : ''}: ${bad.problem ?? ''}` : undefined;
      },
    },
    opts.connect,
    (event) => onEvent({ type: 'push', event }),
  );
  const order = new Map(cluster.nodes.map((n, i) => [n.name, i]));
  const live = probed.sort((a, b) => order.get(a.node)! - order.get(b.node)!);
  const failed = [...new Set([...push.failed, ...live.filter(liveFailed).map((l) => l.node)])].sort();
  return {
    issue: { issued: issued.issued, stores: issued.stores, changed: issued.changed },
    renderChanged: rendered.changed,
    push,
    live,
    failed,
    ok: failed.length === 0,
  };
}
