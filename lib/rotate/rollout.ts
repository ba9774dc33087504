// One step of a rotation on the live cluster: issue what is due (or what a new CA makes due), render,
// push to the nodes concerned, reload TLS there, then probe each node's SQL port and compare what it
// serves with the manifest. A node that failed anywhere is named; the others still finish.
import { join } from 'node:path';
import { runIssue, type IssueReport } from '../issue/issue.js';
import { runRender } from '../render/render.js';
import { runPush, type Connect, type PushEvent, type PushReport } from '../deliver/push.js';
import { liveCheck, liveFailed, type LiveResult } from '../check/live.js';
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
  onPushEvent?: (e: PushEvent) => void;
  /** Put a node's previous files back when its reload or its probe fails (default true). */
  rollback?: boolean;
}

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
  const issued = await runIssue(cluster, { ...(opts.renew ? { renew: opts.renew } : {}), passphrase: opts.passphrase, storepass: opts.storepass });
  const rendered = await runRender(cluster, { generator: opts.generator });
  // Each node is probed right after its reload, on the push's own turn, so that a node which
  // reloads but then serves the wrong thing is rolled back to its previous files like one whose
  // reload failed.
  const probed: LiveResult[] = [];
  const probeOpts = { ...(opts.verifyCa ? { ca: opts.verifyCa } : {}), ...(opts.probeTimeoutMs ? { timeoutMs: opts.probeTimeoutMs } : {}) };
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
        const [l] = await liveCheck(cluster, { nodes: [node.name], ...probeOpts });
        if (!l) return undefined;
        probed.push(l);
        return liveFailed(l) ? `live ${l.status}: ${l.problem ?? ''}` : undefined;
      },
    },
    opts.connect,
    opts.onPushEvent,
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
