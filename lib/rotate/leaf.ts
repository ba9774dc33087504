// `dbtls rotate leaf`: the leaf certificates (and the stores holding them) that expire within the
// window — or all of them, or a node's — issued anew, pushed to their nodes, reloaded there and
// probed. Nothing due → nothing issued, nothing pushed, nothing reloaded. With revocation on it is
// also what keeps the CRL alive (it is what `dbtls schedule` runs every day): a CRL past half its
// life is signed again and delivered to the nodes that read it, which are then reloaded and probed.
import { runCheck } from '../check/check.js';
import { inputError } from '../errors.js';
import { rollOut, type RolloutOptions, type RolloutReport } from './rollout.js';
import { crlPath } from '../deliver/layout.js';
import { runCrlRefresh, type CrlRefreshReport } from '../revoke/revoke.js';
import type { Cluster } from '../inventory/model.js';

export interface RotateLeafOptions extends Omit<RolloutOptions, 'renew' | 'nodes' | 'verifyCa'> {
  withinMs: number;
  /** Every leaf, due or not. */
  all?: boolean;
  /** Only these nodes' certificates. */
  nodes?: string[];
  /** Show what is due; change nothing. */
  check?: boolean;
  /** What dueCertificates already found (a caller that showed it first), so it is not looked up twice. */
  due?: DueCertificate[];
  now?: Date;
}

export interface DueCertificate {
  id: string;
  owner: { kind: string; name: string };
  reason: string;
  notAfter?: string;
}

export interface RotateLeafReport {
  ok: boolean;
  changed: boolean;
  due: DueCertificate[];
  /** The nodes pushed, reloaded and probed. */
  nodes: string[];
  rollout?: RolloutReport;
  /** With ca.crlDays: whether the CRL was due and signed again (then pushed with the rest). */
  crl?: CrlRefreshReport;
  failed: string[];
}

/** What the window (or --all / --node) makes due, from `check`'s view of the PKI directory. */
export async function dueCertificates(
  cluster: Cluster,
  opts: Pick<RotateLeafOptions, 'withinMs' | 'all' | 'nodes' | 'now'>,
): Promise<DueCertificate[]> {
  const unknown = (opts.nodes ?? []).filter((n) => !cluster.nodes.some((x) => x.name === n));
  if (unknown.length)
    throw inputError('unknown-node', `no node named ${unknown.map((n) => `"${n}"`).join(', ')} in ${cluster.file}`, {
      file: cluster.file,
      field: '--node',
    });
  const check = await runCheck(cluster, { withinMs: opts.withinMs, ...(opts.now ? { now: opts.now } : {}) });
  const due: DueCertificate[] = [];
  for (const item of check.items) {
    if (item.owner.kind === 'ca' || item.id.endsWith('/rsa')) continue;
    if (opts.nodes && !(item.owner.kind === 'node' && opts.nodes.includes(item.owner.name))) continue;
    const expiring = item.status === 'expiring' || item.status === 'expired';
    if (!opts.all && !expiring && item.status !== 'missing') continue;
    const reason = expiring
      ? `due: ${item.problems.join('; ')}`
      : item.status === 'missing'
        ? 'missing'
        : 'rotate --all';
    due.push({ id: item.id, owner: item.owner, reason, ...(item.notAfter ? { notAfter: item.notAfter } : {}) });
  }
  return due;
}

/** The nodes a rotation of these certificates pushes to, reloads and probes. */
export function dueNodes(due: DueCertificate[]): string[] {
  return [...new Set(due.filter((d) => d.owner.kind === 'node').map((d) => d.owner.name))].sort();
}

export async function runRotateLeaf(cluster: Cluster, opts: RotateLeafOptions): Promise<RotateLeafReport> {
  const due = opts.due ?? (await dueCertificates(cluster, opts));
  let nodes = dueNodes(due);
  const report: RotateLeafReport = { ok: true, changed: false, due, nodes, failed: [] };
  if (opts.check) return report;
  if (cluster.ca.crlDays !== undefined) {
    report.crl = await runCrlRefresh(cluster, {
      ...(opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {}),
      ...(opts.now ? { now: opts.now } : {}),
    });
    if (report.crl.refreshed) {
      report.changed = true;
      const readers = cluster.nodes.filter((n) => (!opts.nodes || opts.nodes.includes(n.name)) && crlPath(cluster, n));
      nodes = report.nodes = [...new Set([...nodes, ...readers.map((n) => n.name)])].sort();
    }
  }
  if (nodes.length === 0 && due.length === 0) return report;
  const rollout = await rollOut(cluster, { ...opts, renew: new Map(due.map((d) => [d.id, d.reason])), nodes });
  report.rollout = rollout;
  report.changed ||= rollout.issue.changed || rollout.push.changed;
  report.failed = rollout.failed;
  report.ok = rollout.ok;
  return report;
}
