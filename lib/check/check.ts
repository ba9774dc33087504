// `dbtls check`: is every certificate the inventory needs present, valid, signed by the cluster CA,
// matched by its key, named for its node as the inventory says now, and far enough from expiry?
// Cron and monitoring act on the result, so each finding is data with a status.
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspectCertificate, parseCertificates, verifyChain } from '../pki/inspect.js';
import { formatSan } from '../pki/san.js';
import { pkiLayout } from '../store/pki-dir.js';
import { readManifest, type Owner } from '../store/manifest.js';
import { desiredItems, type PlannedItem } from '../issue/plan.js';
import { inputError } from '../errors.js';
import type { Cluster } from '../inventory/model.js';

export type CheckStatus = 'ok' | 'expiring' | 'expired' | 'missing' | 'invalid' | 'outdated';

export interface CheckItem {
  id: string;
  owner: Owner | { kind: 'ca'; name: string };
  status: CheckStatus;
  problems: string[];
  subject?: string;
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
}

const DAY = 86_400_000;
/** Worse statuses win when a certificate has several problems. */
const RANK: CheckStatus[] = ['ok', 'outdated', 'expiring', 'invalid', 'expired', 'missing'];
const worse = (a: CheckStatus, b: CheckStatus) => (RANK.indexOf(b) > RANK.indexOf(a) ? b : a);

async function read(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function expiry(cert: X509Certificate, now: Date, withinMs: number): { status: CheckStatus; problem?: string; daysLeft: number } {
  const left = Date.parse(cert.validTo) - now.getTime();
  const daysLeft = Math.floor(left / DAY);
  if (left <= 0) return { status: 'expired', problem: `expired on ${new Date(cert.validTo).toISOString()}`, daysLeft };
  if (Date.parse(cert.validFrom) > now.getTime()) return { status: 'invalid', problem: `not valid before ${cert.validFrom}`, daysLeft };
  if (left <= withinMs) return { status: 'expiring', problem: `expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'}`, daysLeft };
  return { status: 'ok', daysLeft };
}

async function checkCertificate(root: string, item: Extract<PlannedItem, { kind: 'certificate' }>, ca: X509Certificate[], now: Date, withinMs: number, specInManifest: string | undefined): Promise<CheckItem> {
  const out: CheckItem = { id: item.id, owner: item.owner, status: 'ok', problems: [] };
  const fail = (status: CheckStatus, problem: string) => {
    out.status = worse(out.status, status);
    out.problems.push(problem);
  };
  const [pem, keyPem] = await Promise.all([read(join(root, item.cert)), read(join(root, item.key))]);
  if (pem === null) fail('missing', `${item.cert} is missing`);
  if (keyPem === null) fail('missing', `${item.key} is missing`);
  if (pem === null) return out;
  const cert = parseCertificates(pem)[0];
  if (!cert) {
    fail('invalid', `${item.cert} holds no certificate`);
    return out;
  }
  const info = inspectCertificate(cert);
  out.subject = info.subject;
  out.notAfter = info.notAfter.toISOString();
  const e = expiry(cert, now, withinMs);
  out.daysLeft = e.daysLeft;
  if (e.problem) fail(e.status, e.problem);
  const chain = verifyChain(cert, ca, [], now);
  if (!chain.ok && e.status !== 'expired') fail('invalid', `chain: ${chain.reason}`);
  if (keyPem !== null) {
    try {
      if (!cert.checkPrivateKey(createPrivateKey(keyPem))) fail('invalid', `${item.key} does not belong to ${item.cert}`);
    } catch (err) {
      fail('invalid', `${item.key} is not a readable key (${(err as Error).message})`);
    }
  }
  const want = item.sans.map(formatSan).map(normaliseSan).sort();
  const have = info.sans.map(normaliseSan).sort();
  const missing = want.filter((s) => !have.includes(s));
  const extra = have.filter((s) => !want.includes(s));
  if (missing.length || extra.length) {
    fail('outdated', `SANs differ from the inventory:${missing.length ? ` missing ${missing.join(', ')}` : ''}${extra.length ? ` extra ${extra.join(', ')}` : ''}`);
  } else if (specInManifest !== undefined && specInManifest !== item.spec) {
    fail('outdated', 'issued for another subject, profile, key size or CA than the inventory now asks for');
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
  const [priv, pub] = await Promise.all([read(join(root, item.private)), read(join(root, item.public))]);
  if (priv === null || pub === null) {
    out.status = 'missing';
    out.problems.push(`${priv === null ? item.private : item.public} is missing`);
    return out;
  }
  try {
    const a = createPublicKey(createPrivateKey(priv)).export({ type: 'spki', format: 'der' });
    const b = createPublicKey(pub).export({ type: 'spki', format: 'der' });
    if (!a.equals(b)) {
      out.status = 'invalid';
      out.problems.push(`${item.public} is not the public half of ${item.private}`);
    }
  } catch (err) {
    out.status = 'invalid';
    out.problems.push(`unreadable key: ${(err as Error).message}`);
  }
  return out;
}

export async function runCheck(cluster: Cluster, opts: { withinMs: number; now?: Date }): Promise<CheckReport> {
  const now = opts.now ?? new Date();
  const layout = pkiLayout(cluster.pki);
  const caPem = await read(layout.ca);
  if (caPem === null) {
    throw inputError('no-ca', `${layout.ca} does not exist: nothing has been issued for cluster "${cluster.cluster}" yet`, { file: layout.ca }, `run: dbtls issue -i ${cluster.file}`);
  }
  const cas = parseCertificates(caPem);
  const caCert = cas[0];
  if (!caCert) throw inputError('no-ca', `${layout.ca} holds no certificate`, { file: layout.ca });
  if ((await read(layout.journal)) !== null) {
    throw inputError('interrupted', `an interrupted dbtls run left ${layout.journal}: the PKI directory is between two states`, { file: layout.journal }, `run: dbtls issue -i ${cluster.file} (it finishes the interrupted writes)`);
  }
  const manifest = await readManifest(layout.manifest, cluster.cluster);
  const report: CheckReport = { cluster: cluster.cluster, pki: layout.root, withinDays: opts.withinMs / DAY, ok: true, items: [], orphans: [] };

  const caInfo = inspectCertificate(caCert);
  const caItem: CheckItem = { id: 'ca', owner: { kind: 'ca', name: caInfo.subject }, status: 'ok', problems: [], subject: caInfo.subject, notAfter: caInfo.notAfter.toISOString() };
  const e = expiry(caCert, now, opts.withinMs);
  caItem.daysLeft = e.daysLeft;
  if (e.problem) {
    caItem.status = e.status;
    caItem.problems.push(e.problem);
  }
  report.items.push(caItem);

  const specs = new Map<string, string>([...manifest.certificates, ...manifest.keyPairs].map((r) => [r.id, r.spec]));
  const items = desiredItems(cluster, caInfo.fingerprint256);
  report.items.push(
    ...(await Promise.all(
      items.map((item) => (item.kind === 'certificate' ? checkCertificate(layout.root, item, cas, now, opts.withinMs, specs.get(item.id)) : checkKeyPair(layout.root, item))),
    )),
  );
  const { checkStores } = await import('./stores.js');
  report.items.push(...(await checkStores(layout.root, cluster, manifest)));
  const wanted = new Set(items.map((i) => i.id));
  report.orphans = [...specs.keys()].filter((id) => !wanted.has(id)).sort();
  report.ok = report.items.every((i) => i.status === 'ok');
  return report;
}
