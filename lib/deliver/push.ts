// `dbtls push`: every node's delivery plan, compared first (SHA-256 of what is there) so only what
// changed is sent, installed atomically and read back (by the transport). Nodes run in parallel up to a bound; a failing
// node is reported and the others finish.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Cluster, NodeSpec } from '../inventory/model.js';
import { filesDelivery, nodeDelivery, type DeliveryItem } from './plan.js';
import type { NodeFs } from './transport.js';
import { DbtlsError, isDbtlsError } from '../errors.js';
import { reloadPlans } from '../reload/commands.js';
import { mapLimit } from '../concurrency.js';

export interface PushOptions {
  nodes?: string[];
  /** Plan and compare only: change nothing. */
  check?: boolean;
  concurrency?: number;
  /** The seed's loop: these local files to this folder on every node, instead of the delivery plan. */
  files?: { paths: string[]; dest: string };
  renderedDir: string;
  /** After the files: reload TLS on nodes whose files changed, on every node, or never (default). */
  reload?: ReloadPolicy;
  /** Run Tungsten's restart instead of only reporting that one is required. */
  restartTungsten?: boolean;
}

export type ReloadPolicy = 'never' | 'changed' | 'always';

export interface ReloadResult {
  status: 'done' | 'failed' | 'skipped' | 'restart-required';
  /** What ran (the statement or the inventory's command), or why nothing did. */
  what: string;
  /** The server's or the command's message when it failed. */
  message?: string;
}

export type FileAction = 'uploaded' | 'unchanged' | 'would-upload';

export interface NodeResult {
  node: string;
  ok: boolean;
  uploaded: string[];
  unchanged: string[];
  /** With --check: what would be uploaded. */
  wouldUpload: string[];
  reload?: ReloadResult[];
  error?: { code: string; message: string };
}

export type PushEvent =
  | { type: 'node-start'; node: string; files: number }
  | { type: 'file'; node: string; remote: string; action: FileAction }
  | { type: 'reload'; node: string; result: ReloadResult }
  | { type: 'node-done'; result: NodeResult };

export interface PushReport {
  ok: boolean;
  changed: boolean;
  failed: string[];
  nodes: NodeResult[];
}

export type Connect = (node: NodeSpec) => Promise<NodeFs>;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export const DEFAULT_CONCURRENCY = 32;

/** Each local file is read once per run, however many nodes receive it. */
type Sources = (path: string) => Promise<Buffer>;

/** Reload timeout: a server that does not answer FLUSH SSL in this long is reported, not waited for. */
const RELOAD_TIMEOUT_MS = 60_000;

async function reloadNode(node: NodeSpec, fs: NodeFs, opts: PushOptions, result: NodeResult, onEvent: (e: PushEvent) => void): Promise<void> {
  result.reload = [];
  for (const plan of reloadPlans(node, { restartTungsten: opts.restartTungsten })) {
    let r: ReloadResult;
    if (plan.kind === 'none') r = { status: 'skipped', what: plan.why };
    else if (plan.kind === 'restart-required') r = { status: 'restart-required', what: plan.why };
    else {
      const out = await fs.run(plan.command, RELOAD_TIMEOUT_MS);
      const message = (out.stderr.trim() || out.stdout.trim()).split('\n').slice(-3).join(' ');
      r = out.code === 0 ? { status: 'done', what: plan.describe } : { status: 'failed', what: plan.describe, message: message || `exit ${out.code ?? 'timeout'}` };
    }
    result.reload.push(r);
    onEvent({ type: 'reload', node: node.name, result: r });
    if (r.status === 'failed') throw new DbtlsError('reload-failed', `${node.name}: ${r.what} failed: ${r.message}`);
  }
}

async function pushNode(node: NodeSpec, items: DeliveryItem[], connect: Connect, opts: PushOptions, sources: Sources, onEvent: (e: PushEvent) => void): Promise<NodeResult> {
  const check = Boolean(opts.check);
  const result: NodeResult = { node: node.name, ok: false, uploaded: [], unchanged: [], wouldUpload: [] };
  onEvent({ type: 'node-start', node: node.name, files: items.length });
  let fs: NodeFs | undefined;
  try {
    const conn = (fs = await connect(node));
    // A node's files go at once (the transport pipelines them); the first failure fails the node
    // after the others have settled, so the report lists everything that did reach it.
    const settled = await Promise.allSettled(
      items.map(async (item) => {
        const data = await sources(item.source);
        const there = await conn.read(item.remote);
        let action: FileAction;
        if (there && sha256(there) === sha256(data)) action = 'unchanged';
        else if (check) action = 'would-upload';
        else {
          await conn.install({ remote: item.remote, data, mode: item.mode, exists: there !== null, ...(item.owner ? { owner: item.owner } : {}), ...(item.group ? { group: item.group } : {}) });
          action = 'uploaded';
        }
        (action === 'uploaded' ? result.uploaded : action === 'unchanged' ? result.unchanged : result.wouldUpload).push(item.remote);
        onEvent({ type: 'file', node: node.name, remote: item.remote, action });
      }),
    );
    for (const list of [result.uploaded, result.unchanged, result.wouldUpload]) list.sort();
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
    const reload = opts.reload ?? 'never';
    if (!check && (reload === 'always' || (reload === 'changed' && result.uploaded.length > 0))) await reloadNode(node, conn, opts, result, onEvent);
    result.ok = true;
  } catch (e) {
    result.error = { code: isDbtlsError(e) ? e.code : ((e as NodeJS.ErrnoException).code ?? 'failure'), message: (e as Error).message };
  } finally {
    await fs?.close().catch(() => undefined);
  }
  onEvent({ type: 'node-done', result });
  return result;
}

export async function runPush(cluster: Cluster, opts: PushOptions, connect: Connect, onEvent: (e: PushEvent) => void = () => {}): Promise<PushReport> {
  const nodes = cluster.nodes.filter((n) => !opts.nodes || opts.nodes.includes(n.name));
  // Plans are built (and bad input refused) before any node is touched.
  const plans = await Promise.all(nodes.map(async (n) => (opts.files ? filesDelivery(opts.files.paths, opts.files.dest) : nodeDelivery(cluster, n, opts.renderedDir))));
  const cache = new Map<string, Promise<Buffer>>();
  const sources: Sources = (path) => {
    if (!cache.has(path)) cache.set(path, readFile(path));
    return cache.get(path)!;
  };
  const results = await mapLimit(nodes, opts.concurrency ?? DEFAULT_CONCURRENCY, (node, i) => pushNode(node, plans[i]!, connect, opts, sources, onEvent));
  const failed = results.filter((r) => !r.ok).map((r) => r.node);
  // With --check, `changed` means "would change" (what Ansible's check mode expects).
  return { ok: failed.length === 0, changed: results.some((r) => r.uploaded.length > 0 || r.wouldUpload.length > 0), failed, nodes: results };
}
