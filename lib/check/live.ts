// `dbtls check --live`: what each node serves on its SQL port right now (the MySQL protocol's TLS
// upgrade, lib/probe), compared with what the manifest says it should serve. A node still serving an
// older certificate of this CA (it was never reloaded) or a foreign one is flagged; so is one whose
// certificate does not verify against the CA bundle or for the name clients dial. A Galera node's
// group channel (gcomm) is probed too: TLS from the first byte, with the node's client certificate.
import { readFile } from 'node:fs/promises';
import { pkiLayout } from '../store/pki-dir.js';
import { readManifest } from '../store/manifest.js';
import { ownerDir } from '../store/pki-dir.js';
import { probe, probeDirect, type DirectProbeResult, type ProbeResult, type ServedCert } from '../probe/probe.js';

import { NODE_FILES } from '../store/pki-dir.js';
import { readFileNoFollow } from '../store/safe-fs.js';
import { crlPath } from '../deliver/layout.js';
import { canaryPaths } from '../revoke/canary.js';
import { probeRevokedClient } from '../probe/revoked-client.js';
import { join } from 'node:path';
import { isDbtlsError } from '../errors.js';
import { mapLimit } from '../concurrency.js';
import { isGaleraNode, type Cluster, type NodeSpec, type Role } from '../inventory/model.js';

/** Roles whose SQL port speaks the MySQL protocol (and its TLS upgrade). */
// MaxScale's and MySQL Router's port is their listener (node.port): it speaks the MySQL protocol and
// serves the node's own certificate.
const MYSQL_PROTOCOL: readonly Role[] = ['mysql', 'mariadb', 'percona', 'tidb', 'proxysql', 'maxscale', 'mysqlrouter'];

export type LiveStatus = 'ok' | 'old' | 'foreign' | 'unverified' | 'unreachable' | 'not-probed';

export interface LiveResult {
  node: string;
  host: string;
  port: number;
  /** Set on a Galera node's second result: its group channel (gcomm), TLS from the first byte. */
  channel?: 'gcomm';
  status: LiveStatus;
  /** What the node serves (leaf). */
  served?: Pick<ServedCert, 'subject' | 'serialHex' | 'fingerprint256' | 'notAfter'>;
  /** What the manifest says it should serve. */
  expected?: { serial: string; fingerprint256: string };
  tls?: { protocol: string; cipher: string };
  problem?: string;
  /** With revocation on (LiveOptions.revocation): whether the server refused the revocation canary. */
  revocation?: { enforced: boolean; detail: string };
}

export interface LiveOptions {
  nodes?: string[];
  timeoutMs?: number;
  /** Trusted CAs (PEM); default the PKI directory's ca.pem (old + new during a CA rotation). */
  ca?: string;
  /** Probes at once. */
  concurrency?: number;
  /** Told as each node's probe starts and ends, so a caller can show the probes as they go. */
  onEvent?: (e: ProbeEvent) => void;
  /**
   * With ca.crlDays: present the revocation canary (lib/revoke/canary.ts) to each server that should
   * read the CRL; one that takes it fails (`check --live`; a rotation's probes leave it out).
   */
  revocation?: boolean;
}

/** A probe of one node's SQL port: started (only when there is something to connect to), and its result (every node). */
export type ProbeEvent =
  | { type: 'probe-start'; node: string; host: string; port: number; channel?: 'gcomm' }
  | { type: 'probe-done'; result: LiveResult };

export function probesSql(node: NodeSpec): boolean {
  return node.roles.some((r) => MYSQL_PROTOCOL.includes(r));
}

export async function liveCheck(cluster: Cluster, opts: LiveOptions = {}): Promise<LiveResult[]> {
  const layout = pkiLayout(cluster.pki);
  const ca = opts.ca ?? (await readFile(layout.ca, 'utf8'));
  const manifest = await readManifest(layout.manifest, cluster.cluster);
  const records = new Map(manifest.certificates.map((r) => [r.id, r]));
  const nodes = cluster.nodes.filter((n) => !opts.nodes || opts.nodes.includes(n.name));

  const onEvent = opts.onEvent ?? (() => {});
  // A Galera node is probed twice: its SQL port, then its group channel (with its own client certificate).
  const one = async (node: NodeSpec): Promise<LiveResult[]> => {
    const out = [await probeNode(node, 'sql')];
    onEvent({ type: 'probe-done', result: out[0]! });
    if (isGaleraNode(node) && node.transport !== 'local') {
      out.push(await probeNode(node, 'gcomm'));
      onEvent({ type: 'probe-done', result: out[1]! });
    }
    return out;
  };

  const probeNode = async (node: NodeSpec, channel: 'sql' | 'gcomm'): Promise<LiveResult> => {
    const gcomm = channel === 'gcomm';
    const port = gcomm ? node.galera!.port : node.port;
    const base: LiveResult = {
      node: node.name,
      host: node.host,
      port,
      ...(gcomm ? { channel } : {}),
      status: 'not-probed',
    };
    if (!gcomm && !probesSql(node))
      return { ...base, problem: `${node.roles.join(', ')}: no MySQL-protocol port to probe` };
    if (node.transport === 'local') return { ...base, problem: 'transport: local (no server to probe)' };
    const rec = records.get(`${ownerDir('node', node.name)}/server`);
    if (rec) base.expected = { serial: rec.serial, fingerprint256: rec.fingerprint256 };
    onEvent({ type: 'probe-start', node: node.name, host: node.host, port, ...(gcomm ? { channel } : {}) });
    try {
      const common = { ca, servername: node.host, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
      const r: ProbeResult | DirectProbeResult = gcomm
        ? await probeDirect({ host: node.host, port }, { ...common, ...(await clientIdentity(cluster, node)) })
        : await probe({ host: node.host, port }, common);
      const served = {
        subject: r.leaf.subject,
        serialHex: r.leaf.serialHex,
        fingerprint256: r.leaf.fingerprint256,
        notAfter: r.leaf.notAfter,
      };
      const out: LiveResult = { ...base, served, tls: r.tls, status: 'ok' };
      if (!rec) return { ...out, status: 'foreign', problem: 'the manifest has no server certificate for this node' };
      if (r.leaf.fingerprint256 !== rec.fingerprint256) {
        // Signed by a CA of the bundle: one of ours, just not the current one (not reloaded?).
        return r.verified.chain
          ? {
              ...out,
              status: 'old',
              problem: `serves serial ${r.leaf.serialHex}, the manifest's is ${rec.serial} (files not pushed, or the server not reloaded)`,
            }
          : {
              ...out,
              status: 'foreign',
              problem: `serves a certificate this CA did not sign (${r.leaf.subject}, issuer ${r.leaf.issuer})`,
            };
      }
      if (!r.ok)
        return {
          ...out,
          status: 'unverified',
          problem: [r.verified.chainError, r.verified.nameError].filter(Boolean).join('; '),
        };
      if (opts.revocation && !gcomm && crlPath(cluster, node))
        out.revocation = await canaryRefused(cluster, node, opts);
      return out;
    } catch (e) {
      return { ...base, status: 'unreachable', problem: isDbtlsError(e) ? e.message : String(e) };
    }
  };

  return (await mapLimit(nodes, opts.concurrency ?? 32, one)).flat();
}

/** The node's own client certificate and key from the PKI directory: Galera admits only peers with one. */
async function clientIdentity(cluster: Cluster, node: NodeSpec): Promise<{ cert?: Buffer; key?: Buffer }> {
  const dir = join(cluster.pki, ownerDir('node', node.name));
  try {
    return {
      cert: await readFileNoFollow(join(dir, NODE_FILES.clientCert)),
      key: await readFileNoFollow(join(dir, NODE_FILES.clientKey)),
    };
  } catch {
    return {}; // the handshake then fails as Galera refuses it, and says so
  }
}

/** A live result that should fail a check or a rotation. */
export function liveFailed(r: LiveResult): boolean {
  return (r.status !== 'ok' && r.status !== 'not-probed') || r.revocation?.enforced === false;
}

/** The revocation canary presented to NODE's SQL port: refused (enforced), or taken (not enforced). */
async function canaryRefused(
  cluster: Cluster,
  node: NodeSpec,
  opts: LiveOptions,
): Promise<{ enforced: boolean; detail: string }> {
  const paths = canaryPaths(pkiLayout(cluster.pki));
  let cert: Buffer, key: Buffer;
  try {
    [cert, key] = await Promise.all([readFileNoFollow(paths.cert), readFileNoFollow(paths.key)]);
  } catch {
    return { enforced: false, detail: `no revocation canary in ${paths.dir} (run: dbtls issue)` };
  }
  try {
    const r = await probeRevokedClient(
      { host: node.host, port: node.port },
      { cert, key, timeoutMs: opts.timeoutMs ?? 10_000 },
    );
    return r.refused
      ? { enforced: true, detail: `the revoked canary was refused: ${r.detail}` }
      : {
          enforced: false,
          detail: `took the revoked canary certificate (${r.detail}): is crl.pem delivered, ssl_crl set and the server reloaded?`,
        };
  } catch (e) {
    return { enforced: false, detail: `the canary probe failed: ${isDbtlsError(e) ? e.message : String(e)}` };
  }
}
