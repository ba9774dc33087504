// `dbtls check`: is every certificate the inventory needs present, valid, signed by the cluster CA,
// matched by its key, named for its node as the inventory says now, and far enough from expiry?
// Cron and monitoring act on the result, so each finding is data with a status.
import type { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { certificateInfo, parseCertificates, parseCertificatesOf, signedBy } from '../pki/cert-info.js';
import { verifyChain } from '../pki/chain.js';
import { DAY_MS } from '../pki/validity.js';
import { keyPairProblem, verifyPair } from '../pki/verify-pair.js';
import { readTextIfExists } from '../store/safe-fs.js';
import { describeDirTrust } from '../store/trust.js';
import { formatSan } from '../pki/san.js';
import { missingUsages } from '../pki/profiles.js';
import { describeKeyType, keyTypeOf } from '../pki/keys.js';
import { pkiLayout } from '../store/pki-dir.js';
import { readManifest, type Owner } from '../store/manifest.js';
import { desiredItems, type PlannedItem } from '../issue/plan.js';
import { inputError, isDbtlsError } from '../errors.js';
import { plural } from '../text/plural.js';
import type { Cluster } from '../inventory/model.js';

export type CheckStatus = 'ok' | 'expiring' | 'expired' | 'missing' | 'invalid' | 'outdated';

export interface CheckItem {
  id: string;
  owner: Owner | { kind: 'ca'; name: string };
  status: CheckStatus;
  problems: string[];
  subject?: string;
  /** Of the certificate on disk (lower-case hex, and colon-separated SHA-256): for monitoring labels. */
  serial?: string;
  fingerprint256?: string;
  notAfter?: string;
  daysLeft?: number;
}

export interface CheckReport {
  cluster: string;
  pki: string;
  withinDays: number;
  ok: boolean;
  items: CheckItem[];
  /** In the manifest but no longer in the inventory: reported, not counted as failures. */
  orphans: string[];
  /** The PKI directory's own mode and owner, and whether only root and dbtls's user can write it and the folders above it. */
  pkiDir?: { path: string; mode: string; uid: number; ok: boolean; problem?: string; fix?: string };
}

/** Worse statuses win when a certificate has several problems. */
const RANK: CheckStatus[] = ['ok', 'outdated', 'expiring', 'invalid', 'expired', 'missing'];
const worse = (a: CheckStatus, b: CheckStatus) => (RANK.indexOf(b) > RANK.indexOf(a) ? b : a);

/** A file of the PKI directory (no symlink followed, regular files only, bounded), or null when absent. */
const read = async (path: string): Promise<string | null> =>
  (await readTextIfExists(path, { what: 'certificates and keys' })) ?? null;

/** read(), with a refused file (a symlink, a FIFO, too large) as a finding of the item instead of the end of the run. */
async function readFor(
  path: string,
  rel: string,
  fail: (status: CheckStatus, problem: string) => void,
): Promise<string | null | undefined> {
  try {
    return await read(path);
  } catch (e) {
    if (!isDbtlsError(e)) throw e;
    fail('invalid', `${rel}: ${e.message.replace(path, 'it')}`);
    return undefined;
  }
}

function expiry(
  cert: X509Certificate,
  now: Date,
  withinMs: number,
): { status: CheckStatus; problem?: string; daysLeft: number } {
  const left = Date.parse(cert.validTo) - now.getTime();
  const daysLeft = Math.floor(left / DAY_MS);
  if (left <= 0) return { status: 'expired', problem: `expired on ${new Date(cert.validTo).toISOString()}`, daysLeft };
  if (Date.parse(cert.validFrom) > now.getTime())
    return { status: 'invalid', problem: `not valid before ${cert.validFrom}`, daysLeft };
  if (left <= withinMs) return { status: 'expiring', problem: `expires in ${plural(daysLeft, 'day')}`, daysLeft };
  return { status: 'ok', daysLeft };
}

async function checkCertificate(
  root: string,
  item: Extract<PlannedItem, { kind: 'certificate' }>,
  ca: X509Certificate[],
  /** The intermediate that signs leaves (ca.intermediate), which every leaf file must carry. */
  intermediate: X509Certificate | undefined,
  caPem: string,
  now: Date,
  withinMs: number,
  specInManifest: string | undefined,
): Promise<CheckItem> {
  const out: CheckItem = { id: item.id, owner: item.owner, status: 'ok', problems: [] };
  const fail = (status: CheckStatus, problem: string) => {
    out.status = worse(out.status, status);
    out.problems.push(problem);
  };
  const [pem, keyPem] = await Promise.all([
    readFor(join(root, item.cert), item.cert, fail),
    readFor(join(root, item.key), item.key, fail),
  ]);
  if (pem === null) fail('missing', `${item.cert} is missing`);
  if (keyPem === null) fail('missing', `${item.key} is missing`);
  if (pem === null || pem === undefined) return out;
  let cert: X509Certificate | undefined;
  let carried: X509Certificate[] = [];
  try {
    [cert, ...carried] = parseCertificates(pem);
  } catch (err) {
    fail('invalid', `${item.cert} is not a readable certificate (${String((err as Error).message).split('\n')[0]})`);
    return out;
  }
  if (!cert) {
    fail('invalid', `${item.cert} holds no certificate`);
    return out;
  }
  const info = certificateInfo(cert);
  out.subject = info.subject;
  out.serial = info.serial;
  out.fingerprint256 = info.fingerprint256;
  out.notAfter = info.notAfter.toISOString();
  // A leaf is good no longer than the CA that vouches for it: past the CA's notAfter it fails to
  // verify, whatever its own date says. Its days left are counted to the earlier of the two.
  const issuerCa = [...(intermediate ? [intermediate] : []), ...ca].find((c) => signedBy(cert, c));
  const outlives = issuerCa !== undefined && Date.parse(issuerCa.validTo) < info.notAfter.getTime();
  const e = expiry(outlives ? issuerCa : cert, now, withinMs);
  out.daysLeft = e.daysLeft;
  if (outlives)
    fail(
      'outdated',
      `outlives its CA: valid until ${info.notAfter.toISOString()}, but the CA only until ${new Date(issuerCa.validTo).toISOString()} (renew the CA: dbtls rotate ca)`,
    );
  if (e.problem) fail(e.status, outlives ? `its CA ${e.problem}` : e.problem);
  // The chain as a server sends it: the file's own certificates after the leaf, up to ca.pem's root.
  const chain = verifyChain(cert, ca, carried, now);
  if (!chain.ok && e.status !== 'expired') {
    const whole = intermediate && verifyChain(cert, ca, [intermediate], now).ok;
    fail(
      'invalid',
      whole
        ? `chain incomplete: ${item.cert} lacks the intermediate after the leaf, so peers cannot verify it (run: dbtls issue --force)`
        : `chain: ${chain.reason}`,
    );
  }
  if (keyPem !== null && keyPem !== undefined) {
    // The same check issue and push make (lib/pki/verify-pair.ts); the chain was judged above, with time.
    const problem = verifyPair(pem, keyPem, intermediate ? [caPem, intermediate.toString()] : [caPem]);
    if (problem?.code === 'key-mismatch') fail('invalid', `${item.key} does not belong to ${item.cert}`);
    else if (problem && problem.which === 'key') fail('invalid', `${item.key} ${problem.message}`);
  }
  // The key the inventory asks for (TiKV/PD and old ProxySQL are held to RSA when it is read).
  const keyType = keyTypeOf(cert.publicKey);
  const keyDiffers = keyType !== item.keyType;
  if (keyDiffers)
    fail(
      'outdated',
      `its key is ${keyType ? describeKeyType(keyType) : `${info.keyType}${info.keyBits ? ` ${info.keyBits}` : ''}`}, the inventory asks for ${describeKeyType(item.keyType)}`,
    );
  // A server certificate is also the one a node dials its peers with (Galera's gcomm, MaxScale,
  // replication, the TiDB stack): without clientAuth those peers refuse it, though clients still connect.
  const lacks = missingUsages(item.profile, info.extKeyUsage);
  if (lacks.length)
    fail(
      'invalid',
      `its extended key usage lacks ${lacks.join(' and ')}${item.profile === 'peer' ? ': the node serves and dials its peers (Galera, MaxScale, replication, TiDB) with it' : ''}`,
    );
  const want = item.sans.map(formatSan).map(normaliseSan).sort();
  const have = info.sans.map(normaliseSan).sort();
  const missing = want.filter((s) => !have.includes(s));
  const extra = have.filter((s) => !want.includes(s));
  if (missing.length || extra.length) {
    fail(
      'outdated',
      `SANs differ from the inventory:${missing.length ? ` missing ${missing.join(', ')}` : ''}${extra.length ? ` extra ${extra.join(', ')}` : ''}`,
    );
  } else if (!keyDiffers && specInManifest !== undefined && specInManifest !== item.spec) {
    fail('outdated', 'issued for another subject, profile, key type or CA than the inventory now asks for');
  }
  return out;
}

/** "IP:0:0:0:0:0:0:0:1" (as certificates print) and "IP:::1" (as people type) are one address. */
function normaliseSan(s: string): string {
  if (!s.startsWith('IP:')) return s.replace(/^DNS:(.*)$/, (_, name: string) => `DNS:${name.toLowerCase()}`);
  const ip = s.slice(3);
  if (!ip.includes(':')) return s;
  // Expand IPv6 to 8 groups without leading zeros.
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return 'IP:' + groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

async function checkKeyPair(root: string, item: Extract<PlannedItem, { kind: 'key-pair' }>): Promise<CheckItem> {
  const out: CheckItem = { id: item.id, owner: item.owner, status: 'ok', problems: [] };
  const fail = (status: CheckStatus, problem: string) => {
    out.status = worse(out.status, status);
    out.problems.push(problem);
  };
  const [priv, pub] = await Promise.all([
    readFor(join(root, item.private), item.private, fail),
    readFor(join(root, item.public), item.public, fail),
  ]);
  if (priv === null || pub === null) {
    fail('missing', `${priv === null ? item.private : item.public} is missing`);
    return out;
  }
  if (priv === undefined || pub === undefined) return out;
  const problem = keyPairProblem(priv, pub);
  if (problem) fail('invalid', `${problem.which === 'private' ? item.private : item.public} ${problem.message}`);
  return out;
}

/** The intermediate (ca.intermediate): present, signed by ca.pem's root, a CA, its key its own, not expiring. */
async function checkIntermediate(
  layout: ReturnType<typeof pkiLayout>,
  roots: X509Certificate[],
  now: Date,
  withinMs: number,
): Promise<{ item: CheckItem; cert?: X509Certificate }> {
  const item: CheckItem = {
    id: 'intermediate',
    owner: { kind: 'ca', name: 'intermediate.pem' },
    status: 'ok',
    problems: [],
  };
  const fail = (status: CheckStatus, problem: string) => {
    item.status = worse(item.status, status);
    item.problems.push(problem);
  };
  const [pem, keyPem] = await Promise.all([
    readFor(layout.intermediate, 'intermediate.pem', fail),
    readFor(layout.intermediateKey, 'intermediate-key.pem', fail),
  ]);
  if (pem === null)
    fail('missing', 'intermediate.pem is missing: no leaf can be signed (restore it, or: dbtls rotate intermediate)');
  if (keyPem === null) fail('missing', 'intermediate-key.pem is missing (restore it, or: dbtls rotate intermediate)');
  if (typeof pem !== 'string') return { item };
  // The intermediate, then (one brought from your PKI) any CA between it and the root.
  const [cert, ...above] = parseCertificatesOf(pem, layout.intermediate);
  if (!cert) {
    fail('invalid', 'intermediate.pem holds no certificate');
    return { item };
  }
  const info = certificateInfo(cert);
  item.subject = info.subject;
  item.serial = info.serial;
  item.fingerprint256 = info.fingerprint256;
  item.notAfter = info.notAfter.toISOString();
  const e = expiry(cert, now, withinMs);
  item.daysLeft = e.daysLeft;
  if (e.problem) fail(e.status, `${e.problem} (run: dbtls rotate intermediate)`);
  const chain = verifyChain(cert, roots, above, now);
  if (!chain.ok) fail('invalid', `chain: ${chain.reason}`);
  if (typeof keyPem === 'string') {
    const problem = verifyPair(pem, keyPem, [roots.map((r) => r.toString()).join('')]);
    if (problem?.code === 'key-mismatch') fail('invalid', 'intermediate-key.pem does not belong to intermediate.pem');
    else if (problem && problem.which === 'key') fail('invalid', `intermediate-key.pem ${problem.message}`);
  }
  return { item, cert };
}

export async function runCheck(cluster: Cluster, opts: { withinMs: number; now?: Date }): Promise<CheckReport> {
  const now = opts.now ?? new Date();
  const layout = pkiLayout(cluster.pki);
  const caPem = await read(layout.ca);
  if (caPem === null) {
    const recorded = (await readManifest(layout.manifest, cluster.cluster)).ca;
    if (recorded) {
      throw inputError(
        'ca-missing',
        `${layout.ca} is missing, but ${layout.manifest} records the CA ${recorded.subject} (SHA-256 fingerprint ${recorded.fingerprint256}) that signed this cluster's certificates`,
        { file: layout.ca },
        'put ca.pem and ca-key.pem back from a backup; `dbtls issue --new-ca` starts over with a new CA (every certificate re-issued)',
      );
    }
    throw inputError(
      'no-ca',
      `${layout.ca} does not exist: nothing has been issued for cluster "${cluster.cluster}" yet`,
      { file: layout.ca },
      `run: dbtls issue -i ${cluster.file}`,
    );
  }
  const cas = parseCertificatesOf(caPem, layout.ca);
  const caCert = cas[0];
  if (!caCert) throw inputError('no-ca', `${layout.ca} holds no certificate`, { file: layout.ca });
  if ((await read(layout.journal)) !== null) {
    throw inputError(
      'interrupted',
      `an interrupted dbtls run left ${layout.journal}: the PKI directory is between two states`,
      { file: layout.journal },
      `run: dbtls issue -i ${cluster.file} (it finishes the interrupted writes)`,
    );
  }
  const manifest = await readManifest(layout.manifest, cluster.cluster);
  const report: CheckReport = {
    cluster: cluster.cluster,
    pki: layout.root,
    withinDays: opts.withinMs / DAY_MS,
    ok: true,
    items: [],
    orphans: [],
  };

  const caInfo = certificateInfo(caCert);
  const caItem: CheckItem = {
    id: 'ca',
    owner: { kind: 'ca', name: caInfo.subject },
    status: 'ok',
    problems: [],
    subject: caInfo.subject,
    serial: caInfo.serial,
    fingerprint256: caInfo.fingerprint256,
    notAfter: caInfo.notAfter.toISOString(),
  };
  const e = expiry(caCert, now, opts.withinMs);
  caItem.daysLeft = e.daysLeft;
  if (e.problem) {
    caItem.status = e.status;
    caItem.problems.push(e.problem);
  }
  const caFail = (status: CheckStatus, problem: string) => {
    caItem.status = worse(caItem.status, status);
    caItem.problems.push(problem);
  };
  // The folder itself: another user who can write it (or a folder above it) can plant or swap what
  // dbtls trusts, as OpenSSH refuses a key in a loose folder. Flagged on the CA's line (exit 1).
  const trust = await describeDirTrust(layout.root);
  report.pkiDir = {
    path: layout.root,
    mode: '0' + trust.mode.toString(8).padStart(3, '0'),
    uid: trust.uid,
    ok: trust.ok,
    ...(trust.problem ? { problem: trust.problem } : {}),
    ...(trust.fix ? { fix: trust.fix } : {}),
  };
  if (!trust.ok) caFail('invalid', `${trust.problem} (fix: ${trust.fix})`);
  // The CA key: present, readable and ca.pem's own (an encrypted one is only checked when it signs).
  // With ca.pkcs11 the key is in the token: check opens no token (it needs the PIN), but a key file
  // beside it means the key is in two places, or the wrong one would sign.
  const caKeyPem = await readFor(layout.caKey, 'ca-key.pem', caFail);
  if (cluster.ca.pkcs11 || manifest.ca?.external) {
    if (typeof caKeyPem === 'string')
      caFail('invalid', 'ca-key.pem exists, but the inventory puts the CA key in a PKCS#11 token (ca.pkcs11)');
  } else if (caKeyPem === null)
    caFail('missing', 'ca-key.pem is missing: the CA cannot sign (restore it from a backup)');
  else if (caKeyPem !== undefined && !/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(caKeyPem)) {
    const problem = verifyPair(caPem, caKeyPem, [caPem]);
    if (problem?.code === 'key-mismatch')
      caFail('invalid', 'ca-key.pem does not belong to ca.pem (restore the CA key that goes with it from a backup)');
    else if (problem && problem.which === 'key') caFail('invalid', `ca-key.pem ${problem.message}`);
  }
  report.items.push(caItem);

  const intermediate = cluster.ca.intermediate ? await checkIntermediate(layout, cas, now, opts.withinMs) : undefined;
  if (intermediate) report.items.push(intermediate.item);
  const signer = intermediate?.cert;

  const specs = new Map<string, string>([...manifest.certificates, ...manifest.keyPairs].map((r) => [r.id, r.spec]));
  const items = desiredItems(cluster, (signer ? certificateInfo(signer) : caInfo).fingerprint256);
  report.items.push(
    ...(await Promise.all(
      items.map((item) =>
        item.kind === 'certificate'
          ? checkCertificate(layout.root, item, cas, signer, caPem, now, opts.withinMs, specs.get(item.id))
          : checkKeyPair(layout.root, item),
      ),
    )),
  );
  if (cluster.ca.crlDays !== undefined) {
    const { checkCrl } = await import('./crl.js');
    // A CRL from the intermediate (for leaves) and from the root (for the intermediate).
    const issuers = signer ? caPem + signer.toString() : caPem;
    report.items.push(await checkCrl(layout, issuers, manifest, now, opts.withinMs));
  }
  // A revoked certificate still in use: servers that read the CRL refuse it (issue replaces it).
  const revoked = new Set((manifest.revoked ?? []).map((r) => BigInt(`0x${r.serial}`)));
  for (const rec of manifest.certificates) {
    const item = report.items.find((i) => i.id === rec.id);
    if (item && revoked.has(BigInt(`0x${rec.serial}`))) {
      item.status = worse(item.status, 'invalid');
      item.problems.push(`revoked (serial ${rec.serial}): run dbtls issue -i ${cluster.file} to replace it`);
    }
  }
  const { checkStores } = await import('./stores.js');
  report.items.push(...(await checkStores(layout.root, cluster, manifest)));
  const wanted = new Set(items.map((i) => i.id));
  report.orphans = [...specs.keys()].filter((id) => !wanted.has(id)).sort();
  report.ok = report.items.every((i) => i.status === 'ok');
  return report;
}
