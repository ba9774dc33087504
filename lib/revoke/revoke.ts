// `dbtls revoke` and `dbtls crl refresh`: record revocations in the manifest and sign the current
// CA's CRL again, under the PKI lock, committed with the manifest as one batch (all or nothing).
// A revoked certificate that the inventory still needs is issued anew by the next `dbtls issue`;
// `push` then delivers the new certificate and the CRL, and the reload makes the server read both.
import { CANARY_ID } from './canary.js';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { CRL_REASONS, crlSignedBy, parseCrls, type CrlReason } from '../pki/crl.js';
import { parseCertificatesOf } from '../pki/cert-info.js';
import { readTextIfExists } from '../store/safe-fs.js';
import { CERT_MODE } from '../store/atomic-write.js';
import { commitBatch, recoverBatch } from '../store/batch.js';
import { acquireLock } from '../store/lock.js';
import { pkiLayout } from '../store/pki-dir.js';
import { readManifest, serializeManifest, type Manifest, type RevokedRecord } from '../store/manifest.js';
import { prepareCa, type CaState } from '../issue/ca.js';
import { prepareSigningCa, type SigningCa } from '../issue/intermediate.js';
import { inputError, isDbtlsError, usageError } from '../errors.js';
import { signCrls } from './crl-file.js';
import { crlIssuers } from './crl-issuers.js';
import type { Cluster } from '../inventory/model.js';

const LOCK_WAIT_MS = 60_000;
const DAY_MS = 86_400_000;

export interface RevokeTarget {
  node?: string;
  client?: string;
  /** Hex, with or without colons. */
  serial?: string;
}

export interface RevokeOptions extends RevokeTarget {
  reason: CrlReason;
  passphrase?: string;
  now?: Date;
}

export interface RevokeReport {
  revoked: RevokedRecord[];
  /** Already revoked before this run: nothing new for them. */
  already: string[];
  crl: { path: string; number: number; nextUpdate: string; entries: number };
}

export interface CrlRefreshOptions {
  passphrase?: string;
  now?: Date;
  /** Sign again only when the CRL ends within this many ms (default: half its validity); 0 = always. */
  withinMs?: number;
}

export interface CrlRefreshReport {
  refreshed: boolean;
  crl: { path: string; number: number; nextUpdate: string; entries: number };
}

export const normalizeSerial = (s: string): string => BigInt(`0x${s.replace(/[:\s]/g, '')}`).toString(16);

function crlDays(cluster: Cluster): number {
  const days = cluster.ca.crlDays;
  if (days === undefined)
    throw inputError(
      'no-revocation',
      `${cluster.file} does not turn revocation on: set ca.crlDays (e.g. 7) so that a CRL is signed, delivered and enforced`,
      { file: cluster.file, field: 'ca.crlDays' },
    );
  return days;
}

/** Under the PKI lock: the manifest and the loaded CA (never a new one: revocation needs an issued PKI). */
async function withPki<T>(
  cluster: Cluster,
  passphrase: string | undefined,
  now: Date,
  work: (manifest: Manifest, ca: CaState, signing: SigningCa) => Promise<T>,
): Promise<T> {
  const layout = pkiLayout(cluster.pki);
  try {
    await access(layout.manifest);
  } catch {
    throw inputError(
      'not-issued',
      `${layout.manifest} does not exist: nothing has been issued for cluster "${cluster.cluster}" yet`,
      undefined,
      `run: dbtls issue -i ${cluster.file}`,
    );
  }
  const lock = await acquireLock(layout.lock, { waitMs: LOCK_WAIT_MS });
  try {
    await recoverBatch(layout.journal);
    const manifest = await readManifest(layout.manifest, cluster.cluster);
    const ca = await prepareCa(layout, cluster, { passphrase, now, recorded: manifest.ca });
    try {
      const signing = await prepareSigningCa(layout, cluster, ca, {
        passphrase,
        now,
        ...(manifest.intermediate ? { recorded: manifest.intermediate } : {}),
      });
      return await work(manifest, ca, signing);
    } finally {
      ca.close();
    }
  } finally {
    await lock.release();
  }
}

async function commit(
  cluster: Cluster,
  manifest: Manifest,
  ca: CaState,
  signing: SigningCa,
  now: Date,
  passphrase: string | undefined,
) {
  const layout = pkiLayout(cluster.pki);
  const signed = await signCrls(layout, manifest, ca, crlDays(cluster), now, passphrase, signing);
  manifest.crls = signed.records;
  await commitBatch(
    [signed.file, { path: layout.manifest, data: serializeManifest(manifest), mode: CERT_MODE }],
    layout.journal,
  );
  const first = signed.records[0]!;
  return { path: first.path, number: first.number, nextUpdate: first.nextUpdate, entries: signed.revoked };
}

/**
 * The CA that signed a certificate of the manifest: during `rotate ca` ca.pem trusts two, and only
 * the issuer's CRL may list it. One not in the manifest (or whose file is gone) is the signing CA's.
 */
async function issuerOf(
  cluster: Cluster,
  ca: CaState,
  signing: SigningCa,
  certFile: string | undefined,
): Promise<string> {
  const cas = [
    ...(signing.record ? parseCertificatesOf(signing.certPem, pkiLayout(cluster.pki).intermediate) : []),
    ...parseCertificatesOf(ca.certPem, pkiLayout(cluster.pki).ca),
  ];
  if (cas.length > 1 && certFile !== undefined) {
    const text = await readTextIfExists(join(cluster.pki, certFile), { what: 'a certificate' });
    const [cert] = text === undefined ? [] : parseCertificatesOf(text, certFile);
    const issuer = cert && cas.find((c) => cert.checkIssued(c) && cert.verify(c.publicKey));
    if (issuer) return issuer.fingerprint256;
  }
  return signing.info.fingerprint256;
}

export async function runRevoke(cluster: Cluster, opts: RevokeOptions): Promise<RevokeReport> {
  const given = [opts.node, opts.client, opts.serial].filter((v) => v !== undefined).length;
  if (given !== 1) throw usageError('bad-usage', 'give exactly one of --node, --client or --serial');
  if (!(CRL_REASONS as readonly string[]).includes(opts.reason))
    throw usageError('bad-usage', `--reason must be one of ${CRL_REASONS.join(', ')}, got "${opts.reason}"`);
  if (opts.serial !== undefined && !/^(?=.*[0-9a-f])[0-9a-f:]+$/i.test(opts.serial))
    throw usageError('bad-usage', `--serial "${opts.serial}" is not hexadecimal`);
  crlDays(cluster);
  const now = opts.now ?? new Date();
  return withPki(cluster, opts.passphrase, now, async (manifest, ca, signing) => {
    // Names come from the manifest, not the inventory: a node already removed from it is the usual case.
    const targets: Array<{ serial: string; id?: string; subject: string; cert?: string }> = manifest.certificates
      .filter((r) =>
        opts.node !== undefined
          ? r.owner.kind === 'node' && r.owner.name === opts.node
          : opts.client !== undefined
            ? r.owner.kind === 'client' && r.owner.name === opts.client
            : normalizeSerial(r.serial) === normalizeSerial(opts.serial!),
      )
      .map((r) => ({ serial: normalizeSerial(r.serial), id: r.id, subject: r.subject, cert: r.cert }));
    if (opts.serial !== undefined && targets.length === 0) {
      targets.push({ serial: normalizeSerial(opts.serial), subject: '(not in the manifest)' });
    }
    if (targets.length === 0)
      throw inputError(
        'not-issued',
        `the manifest has no certificate of ${opts.node !== undefined ? `node "${opts.node}"` : `client "${opts.client}"`}`,
        { file: pkiLayout(cluster.pki).manifest },
      );
    const known = new Set((manifest.revoked ?? []).map((r) => r.serial));
    const revoked: RevokedRecord[] = [];
    const already: string[] = [];
    for (const t of targets) {
      if (known.has(t.serial)) {
        already.push(t.serial);
        continue;
      }
      revoked.push({
        serial: t.serial,
        ...(t.id ? { id: t.id } : {}),
        subject: t.subject,
        reason: opts.reason,
        revokedAt: now.toISOString(),
        caFingerprint256: await issuerOf(cluster, ca, signing, t.cert),
      });
    }
    manifest.revoked = [...(manifest.revoked ?? []), ...revoked];
    const crl = await commit(cluster, manifest, ca, signing, now, opts.passphrase);
    return { revoked, already, crl };
  });
}

/** When the CRLs on disk lapse: undefined when crl.pem is missing, damaged, or not one CRL for each of ISSUERS. */
async function fileNextUpdate(path: string, issuers: string[]): Promise<number | undefined> {
  const text = await readTextIfExists(path, { what: 'the CRL' });
  if (text === undefined) return undefined;
  try {
    const crls = parseCrls(text, path);
    if (crls.length !== issuers.length) return undefined;
    let next = Infinity;
    for (const [i, pem] of issuers.entries()) {
      const crl = crls[i]!;
      if (!crlSignedBy(crl, pem) || !crl.nextUpdate) return undefined;
      next = Math.min(next, crl.nextUpdate.getTime());
    }
    return next;
  } catch (e) {
    if (isDbtlsError(e)) return undefined;
    throw e;
  }
}

export async function runCrlRefresh(cluster: Cluster, opts: CrlRefreshOptions = {}): Promise<CrlRefreshReport> {
  const days = crlDays(cluster);
  const now = opts.now ?? new Date();
  return withPki(cluster, opts.passphrase, now, async (manifest, ca, signing) => {
    const layout = pkiLayout(cluster.pki);
    const issuers = await crlIssuers(layout, ca, opts.passphrase, signing);
    const within = opts.withinMs ?? (days * DAY_MS) / 2;
    const records = issuers.map((i) => (manifest.crls ?? []).find((r) => r.caFingerprint256 === i.fingerprint256));
    // What servers read is the file: a missing, damaged or foreign crl.pem, one that misses a CA
    // ca.pem trusts (a rotation began) or has one too many (it ended), or one that lapses is signed again.
    const onDisk = await fileNextUpdate(
      layout.crl,
      issuers.map((i) => i.certPem),
    );
    const recorded = records.every((r) => r !== undefined)
      ? Math.min(...records.map((r) => Date.parse(r!.nextUpdate)))
      : undefined;
    if (onDisk !== undefined && recorded !== undefined && Math.min(onDisk, recorded) - now.getTime() > within) {
      const first = records[0]!;
      const entries = (manifest.revoked ?? []).filter(
        (r) => r.caFingerprint256 === signing.info.fingerprint256 && r.id !== CANARY_ID,
      ).length;
      return {
        refreshed: false,
        crl: { path: first.path, number: first.number, nextUpdate: first.nextUpdate, entries },
      };
    }
    return { refreshed: true, crl: await commit(cluster, manifest, ca, signing, now, opts.passphrase) };
  });
}

/** Nodes and clients the manifest has certificates of but the inventory no longer lists. */
export function removedOwners(cluster: Cluster, manifest: Manifest): Array<{ kind: string; name: string }> {
  const nodes = new Set(cluster.nodes.map((n) => n.name));
  const clients = new Set(cluster.clients.map((c) => c.name));
  const gone = new Map<string, { kind: string; name: string }>();
  for (const r of manifest.certificates) {
    const { kind, name } = r.owner;
    if ((kind === 'node' && !nodes.has(name)) || (kind === 'client' && !clients.has(name)))
      gone.set(`${kind}/${name}`, { kind, name });
  }
  return [...gone.values()];
}

export interface RevokeRemovedReport {
  revoked: RevokedRecord[];
  crl?: RevokeReport['crl'];
}

/**
 * `issue --revoke-removed`: every certificate of a node or client the inventory no longer lists is
 * revoked (cessationOfOperation) and its record leaves the manifest (the revocation keeps its serial,
 * id and subject), so a removed node's certificates stop being valid anywhere a CRL is read.
 */
export async function runRevokeRemoved(
  cluster: Cluster,
  opts: { passphrase?: string; now?: Date } = {},
): Promise<RevokeRemovedReport> {
  crlDays(cluster);
  const now = opts.now ?? new Date();
  return withPki(cluster, opts.passphrase, now, async (manifest, ca, signing) => {
    const gone = new Set(removedOwners(cluster, manifest).map((o) => `${o.kind}/${o.name}`));
    const leaving = manifest.certificates.filter((r) => gone.has(`${r.owner.kind}/${r.owner.name}`));
    if (!leaving.length) return { revoked: [] };
    const known = new Set((manifest.revoked ?? []).map((r) => r.serial));
    const revoked: RevokedRecord[] = [];
    for (const r of leaving) {
      const serial = normalizeSerial(r.serial);
      if (known.has(serial)) continue;
      revoked.push({
        serial,
        id: r.id,
        subject: r.subject,
        reason: 'cessationOfOperation',
        revokedAt: now.toISOString(),
        caFingerprint256: await issuerOf(cluster, ca, signing, r.cert),
      });
    }
    manifest.revoked = [...(manifest.revoked ?? []), ...revoked];
    manifest.certificates = manifest.certificates.filter((r) => !gone.has(`${r.owner.kind}/${r.owner.name}`));
    manifest.keyPairs = manifest.keyPairs.filter((r) => !gone.has(`${r.owner.kind}/${r.owner.name}`));
    const crl = await commit(cluster, manifest, ca, signing, now, opts.passphrase);
    return { revoked, crl };
  });
}
