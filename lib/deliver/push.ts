// `dbtls push`: every node's delivery plan, compared first (SHA-256 of what is there) so only what
// changed is sent, installed as one set per node and read back (by the transport). Nodes run in
// parallel up to a bound; a failing node is reported and the others finish.
//
// What is sent is one consistent snapshot of the PKI directory: every file is read into memory under
// the lock `issue` takes (lib/store/lock.ts), so an `issue --force` committing meanwhile can never
// give a node a new certificate with an old key. Each node's certificate/key pairs are verified
// against the snapshot's ca.pem before anything leaves (lib/pki/verify-pair.ts); a node whose pair
// does not verify gets nothing. When a reload (or the caller's check after it) fails, the node's
// previous files are put back from the backups the install made (unless rollback is off).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isGaleraNode, type Cluster, type NodeSpec } from '../inventory/model.js';
import { filesDelivery, nodeDelivery, type DeliveryItem } from './plan.js';
import type { InstalledFile, InstallRequest, NodeFs } from './transport.js';
import { DbtlsError, inputError, isDbtlsError } from '../errors.js';
import { plural } from '../text/plural.js';
import { reloadPlans } from '../reload/commands.js';
import { mapLimit } from '../concurrency.js';
import { acquireLock, type Lock } from '../store/lock.js';
import { NODE_FILES, pkiLayout } from '../store/pki-dir.js';
import { readFileNoFollow, readGivenFile } from '../store/safe-fs.js';
import { keyPairProblem, verifyPair, pairError } from '../pki/verify-pair.js';
import { fileFacts, type SentCertificate } from './file-facts.js';
import { sanitizeForTerminal } from '../text/sanitize.js';

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
  /** Put a node's previous files back when its reload or `afterReload` fails (default true). */
  rollback?: boolean;
  /** Run after a node's reload, on the same connection: a problem (text) fails the node, and rolls it back. */
  afterReload?: (node: NodeSpec) => Promise<string | undefined>;
  /** The caller holds the PKI directory's lock already (do not take it again). */
  pkiLocked?: boolean;
  /** How long to wait for a lock another run holds (default 60 s). */
  lockWaitMs?: number;
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
  /** Files put back as they were after a failed reload (or check after it). */
  rolledBack?: string[];
  error?: { code: string; message: string };
}

export type PushEvent =
  | { type: 'node-start'; node: string; files: number }
  /** sha256: of what the node has now; certificate: what a node's certificate file holds (the audit trail's). */
  | {
      type: 'file';
      node: string;
      remote: string;
      action: FileAction;
      sha256?: string;
      certificate?: SentCertificate;
    }
  | { type: 'reload'; node: string; result: ReloadResult }
  | { type: 'rollback'; node: string; files: string[]; ok: boolean; message?: string }
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

/** Every local file the run sends, read once into memory under the lock (the snapshot). */
type Sources = Map<string, Buffer>;

/** Reload timeout: a server that does not answer FLUSH SSL in this long is reported, not waited for. */
const RELOAD_TIMEOUT_MS = 60_000;
const LOCK_WAIT_MS = 60_000;

/** The PKI lock, waiting (bounded) for another run (an `issue`) to finish with it. */
async function pkiLock(root: string, waitMs: number): Promise<Lock> {
  try {
    return await acquireLock(pkiLayout(root).lock, { waitMs });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw inputError(
        'not-issued',
        `${root} does not exist: nothing has been issued to push`,
        { file: root },
        'run: dbtls issue (or dbtls apply)',
      );
    throw e;
  }
}

/** One line of a node's own output, safe for a terminal: no escapes, no forged lines, bounded. */
const remoteText = (s: string) => sanitizeForTerminal(s.trim().split('\n').slice(-3).join(' '));

async function reloadNode(
  node: NodeSpec,
  fs: NodeFs,
  opts: PushOptions,
  result: NodeResult,
  onEvent: (e: PushEvent) => void,
): Promise<void> {
  result.reload = [];
  for (const plan of reloadPlans(node, { restartTungsten: opts.restartTungsten })) {
    let r: ReloadResult;
    if (plan.kind === 'none') r = { status: 'skipped', what: plan.why };
    else if (plan.kind === 'restart-required') r = { status: 'restart-required', what: plan.why };
    else {
      const out = await fs.run(plan.command, RELOAD_TIMEOUT_MS);
      const message = remoteText(out.stderr) || remoteText(out.stdout);
      r =
        out.code === 0
          ? { status: 'done', what: sanitizeForTerminal(plan.describe) }
          : {
              status: 'failed',
              what: sanitizeForTerminal(plan.describe),
              message: message || `exit ${out.code ?? 'timeout'}`,
            };
    }
    result.reload.push(r);
    onEvent({ type: 'reload', node: node.name, result: r });
    if (r.status === 'failed') throw new DbtlsError('reload-failed', `${node.name}: ${r.what} failed: ${r.message}`);
  }
}

/** A node's plan with the pairs it carries verified against the snapshot's CA; throws naming the file. */
function verifyNode(cluster: Cluster, node: NodeSpec, items: DeliveryItem[], sources: Sources): void {
  const nodeDir = join(cluster.pki, 'nodes', node.name);
  // The node's trust file: ca.pem, or (a server behind ProxySQL with ca.intermediate) trust-backends.pem.
  const ca = sources.get(pkiLayout(cluster.pki).ca) ?? sources.get(pkiLayout(cluster.pki).backendTrust);
  const sent = new Set(items.map((i) => i.source));
  const text = (path: string) => sources.get(path)!.toString('utf8');
  const pairs: Array<[string, string, string]> = [
    [NODE_FILES.serverCert, NODE_FILES.serverKey, `${node.name}'s server certificate`],
    [NODE_FILES.clientCert, NODE_FILES.clientKey, `${node.name}'s client certificate`],
  ];
  const hint = `re-issue it deliberately with \`dbtls issue --force --node ${node.name}\`, or restore the files from a backup`;
  for (const [c, k, what] of pairs) {
    const cert = join(nodeDir, c);
    const key = join(nodeDir, k);
    if (!sent.has(cert) && !sent.has(key)) continue;
    if (!ca)
      throw inputError('no-ca', `${pkiLayout(cluster.pki).ca} is not sent with ${what}`, {
        file: pkiLayout(cluster.pki).ca,
      });
    const problem = verifyPair(text(cert), text(key), [ca.toString('utf8')]);
    if (problem) throw pairError(problem, cert, key, what, hint);
  }
  const priv = join(nodeDir, NODE_FILES.rsaPrivate);
  const pub = join(nodeDir, NODE_FILES.rsaPublic);
  if (sent.has(priv) && sent.has(pub)) {
    const problem = keyPairProblem(text(priv), text(pub));
    if (problem)
      throw inputError(
        `pair-${problem.code}`,
        `${node.name}'s RSA key pair: ${problem.which === 'private' ? priv : pub} ${problem.message}`,
        { file: problem.which === 'private' ? priv : pub },
        hint,
      );
  }
}

interface NodeWork {
  items: DeliveryItem[];
  /** Why the node gets nothing (its plan or its pairs did not verify). */
  refused?: DbtlsError;
}

async function pushNode(
  node: NodeSpec,
  work: NodeWork,
  connect: Connect,
  opts: PushOptions,
  sources: Sources,
  onEvent: (e: PushEvent) => void,
): Promise<NodeResult> {
  const check = Boolean(opts.check);
  const items = work.items;
  const result: NodeResult = { node: node.name, ok: false, uploaded: [], unchanged: [], wouldUpload: [] };
  onEvent({ type: 'node-start', node: node.name, files: items.length });
  let fs: NodeFs | undefined;
  let installed: InstalledFile[] = [];
  try {
    if (work.refused) throw work.refused;
    const conn = (fs = await connect(node));
    // What is there is compared first (all at once); then the changed files go in as one set.
    const there = await Promise.all(items.map((item) => conn.read(item.remote)));
    const changed: InstallRequest[] = [];
    const changedFacts: Array<ReturnType<typeof fileFacts>> = [];
    items.forEach((item, i) => {
      const data = sources.get(item.source)!;
      const old = there[i];
      if (old && sha256(old) === sha256(data)) {
        result.unchanged.push(item.remote);
        onEvent({ type: 'file', node: node.name, remote: item.remote, action: 'unchanged', ...fileFacts(item, data) });
      } else if (check) {
        result.wouldUpload.push(item.remote);
        onEvent({ type: 'file', node: node.name, remote: item.remote, action: 'would-upload' });
      } else {
        changedFacts.push(fileFacts(item, data));
        changed.push({
          remote: item.remote,
          data,
          mode: item.mode,
          exists: old !== null,
          ...(item.owner ? { owner: item.owner } : {}),
          ...(item.group ? { group: item.group } : {}),
        });
      }
    });
    if (changed.length) {
      installed = await conn.installSet(changed);
      for (const [i, req] of changed.entries()) {
        result.uploaded.push(req.remote);
        onEvent({ type: 'file', node: node.name, remote: req.remote, action: 'uploaded', ...changedFacts[i]! });
      }
    }
    for (const list of [result.uploaded, result.unchanged, result.wouldUpload]) list.sort();
    const reload = opts.reload ?? 'never';
    if (!check && (reload === 'always' || (reload === 'changed' && result.uploaded.length > 0))) {
      try {
        await reloadNode(node, conn, opts, result, onEvent);
        const problem = opts.afterReload ? await opts.afterReload(node) : undefined;
        if (problem) throw new DbtlsError('after-reload', `${node.name}: ${sanitizeForTerminal(problem)}`);
      } catch (e) {
        if (opts.rollback !== false && installed.length) {
          // Whatever the rollback's outcome, the backups are not pruned: they are what is left to restore from.
          const set = installed;
          installed = [];
          await rollBack(node, conn, opts, result, set, onEvent);
        }
        throw e;
      }
    }
    result.ok = true;
  } catch (e) {
    const rolled = result.rolledBack
      ? ` (rolled back ${plural(result.rolledBack.length, 'file')}: the node has its previous files)`
      : '';
    result.error = {
      code: isDbtlsError(e) ? e.code : ((e as NodeJS.ErrnoException).code ?? 'failure'),
      message: sanitizeForTerminal((e as Error).message, 2000) + rolled,
    };
  } finally {
    // Backups beyond the configured count go once the run no longer needs them for a rollback.
    if (fs && installed.length) await fs.prune(installed).catch(() => undefined);
    await fs?.close().catch(() => undefined);
  }
  onEvent({ type: 'node-done', result });
  return result;
}

/** The previous files back in one step; then, if a reload had taken the new ones, a reload of the old. */
async function rollBack(
  node: NodeSpec,
  conn: NodeFs,
  opts: PushOptions,
  result: NodeResult,
  installed: InstalledFile[],
  onEvent: (e: PushEvent) => void,
): Promise<void> {
  const files = installed.map((f) => f.remote).sort();
  try {
    await conn.restore(installed);
  } catch (e) {
    const message = sanitizeForTerminal((e as Error).message);
    onEvent({ type: 'rollback', node: node.name, files, ok: false, message });
    throw new DbtlsError(
      'rollback-failed',
      `${node.name}: the reload failed, and putting the previous files back failed too: ${message}`,
    );
  }
  result.rolledBack = files;
  onEvent({ type: 'rollback', node: node.name, files, ok: true });
  if (result.reload?.some((r) => r.status === 'done')) {
    const first = result.reload;
    await reloadNode(node, conn, opts, result, onEvent).catch(() => undefined);
    result.reload = [...first, ...(result.reload ?? [])];
  }
}

/**
 * Galera nodes go one at a time, in the inventory's order, beside the other nodes: a node is
 * reloaded (and checked Synced, and probed) before the next one's files change. When reloads are on,
 * the first node that fails stops the roll: the others keep the files and certificates they have, so
 * at most one member is ever in doubt and the cluster keeps its quorum.
 */
async function rollGalera(
  order: number[],
  nodes: NodeSpec[],
  one: (i: number) => Promise<NodeResult>,
  stopAtFailure: boolean,
  results: NodeResult[],
  onEvent: (e: PushEvent) => void,
): Promise<void> {
  let failed: string | undefined;
  for (const i of order) {
    const node = nodes[i]!;
    if (failed) {
      const result: NodeResult = {
        node: node.name,
        ok: false,
        uploaded: [],
        unchanged: [],
        wouldUpload: [],
        error: {
          code: 'galera-halted',
          message: `${node.name}: not touched, because ${failed} failed first (Galera nodes are rolled one at a time and the roll stops at a failure)`,
        },
      };
      onEvent({ type: 'node-done', result });
      results[i] = result;
      continue;
    }
    results[i] = await one(i);
    if (stopAtFailure && !results[i]!.ok) failed = node.name;
  }
}

export async function runPush(
  cluster: Cluster,
  opts: PushOptions,
  connect: Connect,
  onEvent: (e: PushEvent) => void = () => {},
): Promise<PushReport> {
  const nodes = cluster.nodes.filter((n) => !opts.nodes || opts.nodes.includes(n.name));
  const sources: Sources = new Map();
  const work: NodeWork[] = [];
  // The snapshot: plans built (bad input refused) and every byte to send read, under the PKI lock.
  const lock = opts.files || opts.pkiLocked ? undefined : await pkiLock(cluster.pki, opts.lockWaitMs ?? LOCK_WAIT_MS);
  try {
    if (lock) {
      const journal = pkiLayout(cluster.pki).journal;
      if (
        await readFileNoFollow(journal).then(
          () => true,
          () => false,
        )
      ) {
        throw inputError(
          'pki-interrupted',
          `${journal} records an interrupted write of the PKI directory: nothing is pushed from it`,
          { file: journal },
          `run: dbtls issue -i ${cluster.file} (it finishes the write), then push`,
        );
      }
    }
    for (const n of nodes) {
      const items = opts.files
        ? await filesDelivery(opts.files.paths, opts.files.dest)
        : await nodeDelivery(cluster, n, opts.renderedDir);
      for (const item of items)
        if (!sources.has(item.source))
          sources.set(item.source, await (opts.files ? readGivenFile(item.source) : readFileNoFollow(item.source)));
      const w: NodeWork = { items };
      if (!opts.files) {
        try {
          verifyNode(cluster, n, items, sources);
        } catch (e) {
          if (!isDbtlsError(e)) throw e;
          w.refused = e;
        }
      }
      work.push(w);
    }
  } finally {
    await lock?.release();
  }
  const one = (i: number) => pushNode(nodes[i]!, work[i]!, connect, opts, sources, onEvent);
  const index = nodes.map((_, i) => i);
  const results: NodeResult[] = new Array(nodes.length);
  await Promise.all([
    mapLimit(
      index.filter((i) => !isGaleraNode(nodes[i]!)),
      opts.concurrency ?? DEFAULT_CONCURRENCY,
      async (i) => void (results[i] = await one(i)),
    ),
    rollGalera(
      index.filter((i) => isGaleraNode(nodes[i]!)),
      nodes,
      one,
      Boolean(!opts.check && opts.reload && opts.reload !== 'never'),
      results,
      onEvent,
    ),
  ]);
  const failed = results.filter((r) => !r.ok).map((r) => r.node);
  // With --check, `changed` means "would change" (what Ansible's check mode expects).
  return {
    ok: failed.length === 0,
    changed: results.some((r) => r.uploaded.length > 0 || r.wouldUpload.length > 0),
    failed,
    nodes: results,
  };
}
