// One `/probe` scrape: the probe itself (lib/probe, under one deadline for all its steps), what it
// found compared with the manifest when the target is an inventory node, and the answer as metrics
// in blackbox_exporter's style — dbtls_probe_success always, the rest when there is something to say.
// Labels carry the negotiated TLS version, serials, fingerprints, subjects and error codes; never a secret.
import { readFile } from 'node:fs/promises';
import { isDbtlsError } from '../errors.js';
import { probe, probeDirect, type DirectProbeResult } from '../probe/probe.js';
import { ownerDir, pkiLayout } from '../store/pki-dir.js';
import { readManifest } from '../store/manifest.js';
import type { Cluster } from '../inventory/model.js';
import { Exposition } from '../text/exposition.js';
import type { Outcome } from './probe-pool.js';
import type { ProbeRequest } from './probe-target.js';

export interface ProbeAnswer {
  ok: boolean;
  durationMs: number;
  result?: DirectProbeResult;
  /** The error code (probe-timeout, probe-refused, …) when there was nothing to judge. */
  failure?: string;
  /** With an inventory node: whether it serves the certificate the manifest records for it. */
  servesManifest?: boolean;
}

/** Where the trust comes from: the PKI's ca.pem (read at each probe: rotations change it), a file, or Node's roots. */
export type TrustSource = { cluster: Cluster } | { caFile: string } | undefined;

export async function probeOnce(req: ProbeRequest, trust: TrustSource, ms: number): Promise<ProbeAnswer> {
  const started = performance.now();
  const took = () => performance.now() - started;
  try {
    const ca =
      trust === undefined
        ? undefined
        : await readFile('cluster' in trust ? pkiLayout(trust.cluster.pki).ca : trust.caFile, 'utf8');
    const opts = {
      ...(ca !== undefined ? { ca } : {}),
      servername: req.node?.host ?? req.target.host,
      timeoutMs: ms,
      totalTimeoutMs: ms,
    };
    const result = req.module === 'mysql' ? await probe(req.target, opts) : await probeDirect(req.target, opts);
    const answer: ProbeAnswer = { ok: result.ok, durationMs: took(), result };
    if (req.node && trust && 'cluster' in trust) {
      const manifest = await readManifest(pkiLayout(trust.cluster.pki).manifest, trust.cluster.cluster);
      const rec = manifest.certificates.find((r) => r.id === `${ownerDir('node', req.node!.name)}/server`);
      answer.servesManifest = rec?.fingerprint256 === result.leaf.fingerprint256;
      if (!answer.servesManifest) answer.ok = false;
    }
    return answer;
  } catch (e) {
    return { ok: false, durationMs: took(), failure: isDbtlsError(e) ? e.code : 'probe-error' };
  }
}

const unix = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export function probeMetrics(req: ProbeRequest, outcome: Outcome<ProbeAnswer>): string {
  const out = new Exposition();
  const success = out.family(
    'dbtls_probe_success',
    'Whether the probe succeeded: TLS served, verified, and as the manifest says.',
  );
  const duration = out.family('dbtls_probe_duration_seconds', 'How long the probe took.');
  const cached = out.family(
    'dbtls_probe_cached',
    'Whether this answer is a cached result (see dbtls_probe_result_age_seconds).',
  );
  const age = out.family('dbtls_probe_result_age_seconds', 'How old the result is: 0 when probed for this scrape.');
  const failure = out.family(
    'dbtls_probe_failure_info',
    'Why the probe had nothing to judge: a dbtls error code, or exporter-busy.',
  );
  if (outcome.kind === 'busy') {
    success({}, 0);
    failure({ reason: 'exporter-busy', detail: outcome.reason }, 1);
    return out.text();
  }
  const a = outcome.result;
  success({}, a.ok ? 1 : 0);
  duration({}, +(a.durationMs / 1000).toFixed(6));
  cached({}, outcome.kind === 'cached' ? 1 : 0);
  age({}, +(outcome.ageMs / 1000).toFixed(3));
  if (a.failure) failure({ reason: a.failure }, 1);
  const r = a.result;
  if (r) {
    out.family('dbtls_probe_tls_info', 'The TLS version and cipher negotiated.')(
      { version: r.tls.protocol, cipher: r.tls.cipher },
      1,
    );
    out.family('dbtls_probe_chain_verified', 'Whether the served chain verifies against the CA.')(
      {},
      r.verified.chain ? 1 : 0,
    );
    out.family('dbtls_probe_name_verified', 'Whether the certificate is made out to the name dialled.')(
      {},
      r.verified.name ? 1 : 0,
    );
    out.family('dbtls_probe_certificate_not_after_seconds', 'When the served certificate expires (Unix time).')(
      { serial: r.leaf.serialHex, fingerprint_sha256: r.leaf.fingerprint256, subject: r.leaf.subject },
      unix(r.leaf.notAfter),
    );
  }
  if (a.servesManifest !== undefined && req.node)
    out.family('dbtls_probe_serves_manifest', 'Whether the node serves the certificate the manifest records for it.')(
      { node: req.node.name },
      a.servesManifest ? 1 : 0,
    );
  return out.text();
}
