// `dbtls issue`: one CA for the cluster, and for every node and client the certificates and keys
// its roles need. Keys are generated in parallel on every core; everything a run writes (keys,
// certificates, the manifest) is committed as one journaled batch under the PKI directory's lock.
import { createHash, type KeyObject } from 'node:crypto';
import { dirname, join } from 'node:path';
import {
  generateKey,
  generateRsaKey,
  isEcKeyType,
  keyTypeBits,
  privateKeyToPem,
  publicKeyToPem,
  spkiDer,
} from '../pki/keys.js';
import { certificateInfo, parseCertificates } from '../pki/cert-info.js';
import { formatSan } from '../pki/san.js';
import { CERT_MODE, KEY_MODE } from '../store/atomic-write.js';
import { commitBatch, recoverBatch, type BatchFile } from '../store/batch.js';
import { acquireLock } from '../store/lock.js';
import { ensurePrivateDir, pkiLayout } from '../store/pki-dir.js';
import {
  readManifest,
  serializeManifest,
  type CertificateRecord,
  type KeyPairRecord,
  type Owner,
} from '../store/manifest.js';
import { inputError } from '../errors.js';
import { prepareCa, type CaAction, type CaImport } from './ca.js';
import { readTextIfExists } from '../store/safe-fs.js';
import { backendTrust, prepareSigningCa } from './intermediate.js';
import { importIntermediate } from './byo-intermediate.js';
import { desiredItems, planIssuance, refuseOutlivingCa, type PlannedItem } from './plan.js';
import { buildStore, certSource, desiredStores, jgroupsStores, storesToBuild } from './stores.js';
import { clusterStorepass } from '../keystore/passwords.js';
import type { Cluster } from '../inventory/model.js';

/** A push holds the PKI lock only while it reads its snapshot: wait that long rather than fail. */
const LOCK_WAIT_MS = 60_000;

export interface IssueOptions {
  nodes?: string[];
  clients?: string[];
  force?: boolean;
  /** Plan only: report what would be issued and built, generate and write nothing. */
  check?: boolean;
  /** Certificates to issue anew whatever their state (id → reason), e.g. those `rotate leaf` found due. */
  renew?: Map<string, string>;
  passphrase?: string;
  importCa?: CaImport;
  /**
   * Start over with a new CA (everything re-issued) although the manifest records one whose files
   * are gone; without it that state is refused (exit 2), never silently replaced.
   */
  newCa?: boolean;
  /** The store password for Java stores (default: the kept one, else a new one). */
  storepass?: string;
  now?: Date;
}

export interface IssuedItem {
  id: string;
  owner: Owner;
  kind: PlannedItem['kind'];
  reason: string;
  /** Paths relative to the PKI directory. */
  files: string[];
  subject?: string;
  sans?: string[];
  notAfter?: string;
}

export type IssueEvent =
  | { type: 'ca'; action: CaAction; subject: string; fingerprint256: string }
  | { type: 'plan'; toIssue: Array<{ id: string; owner: Owner; reason: string }>; unchanged: string[] }
  /** serial and fingerprint256: a certificate's (a key pair has none); the audit trail records them. */
  | { type: 'issued'; item: IssuedItem; serial?: string; fingerprint256?: string }
  | { type: 'store'; store: BuiltStore }
  | { type: 'committed'; files: number };

export interface BuiltStore {
  id: string;
  owner: Owner;
  type: string;
  path: string;
  reason: string;
}

export interface IssueReport {
  cluster: string;
  pki: string;
  ca: { action: CaAction; subject: string; fingerprint256: string; notAfter: string };
  issued: IssuedItem[];
  unchanged: string[];
  stores: BuiltStore[];
  /** Every file written, relative to the PKI directory (manifest.json included). */
  written: string[];
  changed: boolean;
  /** Nodes and clients (node/db3) the manifest still has certificates of; --revoke-removed revokes them. */
  removed?: string[];
  /** What --revoke-removed revoked this run. */
  revokedRemoved?: Array<{ id?: string; serial: string }>;
}

function checkFilter(cluster: Cluster, opts: IssueOptions): void {
  const unknown = (names: string[] | undefined, known: string[]) => (names ?? []).filter((n) => !known.includes(n));
  const badNodes = unknown(
    opts.nodes,
    cluster.nodes.map((n) => n.name),
  );
  const badClients = unknown(
    opts.clients,
    cluster.clients.map((c) => c.name),
  );
  if (badNodes.length)
    throw inputError('unknown-node', `no node named ${badNodes.map((n) => `"${n}"`).join(', ')} in ${cluster.file}`, {
      file: cluster.file,
      field: '--node',
    });
  if (badClients.length)
    throw inputError(
      'unknown-client',
      `no client named ${badClients.map((n) => `"${n}"`).join(', ')} in ${cluster.file}`,
      { file: cluster.file, field: '--client' },
    );
}

function spkiSha256(key: KeyObject): string {
  return createHash('sha256').update(spkiDer(key)).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/**
 * --check: what a run would do. Keys are not generated; a store counts as due when a certificate it
 * holds would be issued, or when its own plan says so against the files as they are.
 */
async function checkOnly(
  report: IssueReport,
  caAction: CaAction,
  todo: PlannedItem[],
  root: string,
  stores: ReturnType<typeof desiredStores>,
  manifest: Awaited<ReturnType<typeof readManifest>>,
  caPem: string,
  /** A key entry's chain after its leaf: the intermediate (if any) and ca.pem. */
  chainPem: string,
  opts: IssueOptions,
): Promise<IssueReport> {
  report.issued = todo.map((i) => ({
    id: i.id,
    owner: i.owner,
    kind: i.kind,
    reason: i.reason!,
    files: i.kind === 'certificate' ? [i.cert, i.key] : [i.private, i.public],
  }));
  const renewed = new Set(todo.map((i) => i.id));
  const storeDue = (s: (typeof stores)[number]) =>
    s.entries.some((e) => e.certId !== undefined && renewed.has(e.certId));
  const due = stores.filter(storeDue);
  const rest = stores.filter((s) => !storeDue(s));
  if (rest.length) {
    const pass = await clusterStorepass(root, opts.storepass);
    if (pass.file)
      due.push(...rest); // a new or changed password rebuilds every store
    else {
      const work = await storesToBuild(
        root,
        rest,
        manifest,
        certSource(root, manifest, chainPem, new Map()),
        caPem,
        pass.password,
        opts.force,
      );
      due.push(...work.map((w) => w.store));
    }
  }
  report.stores = due.map((s) => ({ id: s.id, owner: s.owner, type: s.type, path: s.path, reason: 'would be built' }));
  report.changed = caAction !== 'loaded' || report.issued.length > 0 || report.stores.length > 0;
  return report;
}

export async function runIssue(
  cluster: Cluster,
  opts: IssueOptions = {},
  onEvent: (e: IssueEvent) => void = () => {},
): Promise<IssueReport> {
  checkFilter(cluster, opts);
  const now = opts.now ?? new Date();
  const layout = pkiLayout(cluster.pki);
  // --check reads only: no folder made, no lock taken, no interrupted batch rolled forward.
  if (!opts.check) await ensurePrivateDir(dirname(layout.root), layout.root);
  const lock = opts.check ? { release: async () => {} } : await acquireLock(layout.lock, { waitMs: LOCK_WAIT_MS });
  let caState: { close(): void } | undefined;
  try {
    if (!opts.check) await recoverBatch(layout.journal);
    const manifest = await readManifest(layout.manifest, cluster.cluster);
    // A brought intermediate (ca.intermediate with --ca-cert/--ca-key) comes with its root, keyless.
    const byo = cluster.ca.intermediate && opts.importCa && !manifest.ca;
    const brought = byo ? await importIntermediate(layout, cluster, opts.importCa!, opts.passphrase, now) : undefined;
    const ca =
      brought?.ca ??
      (await prepareCa(layout, cluster, {
        passphrase: opts.passphrase,
        import: cluster.ca.intermediate ? undefined : opts.importCa,
        now,
        recorded: manifest.ca,
        newCa: opts.newCa,
        ...(opts.check ? { dryRun: true } : {}),
      }));
    caState = ca;
    // What signs the leaves: ca.pem's CA, or (ca.intermediate) the online intermediate it signed.
    const signing =
      brought?.signing ??
      (await prepareSigningCa(layout, cluster, ca, {
        passphrase: opts.passphrase,
        now,
        ...(manifest.intermediate ? { recorded: manifest.intermediate } : {}),
        ...(opts.check ? { dryRun: true } : {}),
      }));
    onEvent({ type: 'ca', action: ca.action, subject: ca.info.subject, fingerprint256: ca.info.fingerprint256 });

    const plan = await planIssuance(
      layout.root,
      desiredItems(cluster, signing.info.fingerprint256, opts),
      manifest,
      opts.force,
      opts.renew,
      {
        caPems: signing.record ? [signing.certPem, ca.certPem] : [ca.certPem],
        remedy: (owner) => `dbtls issue -i ${cluster.file} --force --${owner.kind} ${owner.name}`,
      },
    );
    const todo = plan.filter((i) => i.reason !== null);
    const unchanged = plan.filter((i) => i.reason === null).map((i) => i.id);
    refuseOutlivingCa(cluster, todo, signing.info.notAfter, now);
    onEvent({ type: 'plan', toIssue: todo.map((i) => ({ id: i.id, owner: i.owner, reason: i.reason! })), unchanged });

    const report: IssueReport = {
      cluster: cluster.cluster,
      pki: layout.root,
      ca: {
        action: ca.action,
        subject: ca.info.subject,
        fingerprint256: ca.info.fingerprint256,
        notAfter: ca.info.notAfter.toISOString(),
      },
      issued: [],
      unchanged,
      stores: [],
      written: [],
      changed: false,
    };
    const stores = desiredStores(cluster, opts);
    const chainPem = signing.chainPem + ca.certPem;
    if (opts.check)
      return checkOnly(report, ca.action, todo, layout.root, stores, manifest, ca.certPem, chainPem, opts);
    const storepass = stores.length ? await clusterStorepass(layout.root, opts.storepass) : undefined;

    // Every key starts now, on the thread pool; certificates are signed as their keys arrive.
    const keys = todo.map((i) => (i.kind === 'certificate' ? generateKey(i.keyType) : generateRsaKey(i.keySize)));
    keys.forEach((k) => k.catch(() => undefined));
    const files: BatchFile[] = [...ca.files, ...signing.files];
    const fresh = new Map<string, { certPem: string; key: KeyObject }>();
    const issuedAt = now.toISOString();
    if (todo.length) {
      const signer = await signing.signer();
      const { issueCertificate, loadIssuer } = await import('../pki/certificate.js');
      const issuer = loadIssuer(signing.certPem, signer);
      const certRecords = new Map(manifest.certificates.map((r) => [r.id, r]));
      const pairRecords = new Map(manifest.keyPairs.map((r) => [r.id, r]));
      for (const [n, item] of todo.entries()) {
        const key = await keys[n]!;
        const abs = (rel: string) => join(layout.root, rel);
        let issued: IssuedItem;
        let facts: { serial: string; fingerprint256: string } | undefined;
        if (item.kind === 'certificate') {
          const cert = issueCertificate({
            profile: item.profile,
            subject: item.subject,
            sans: item.sans,
            days: item.days,
            subjectKey: key,
            issuer,
            now,
          });
          files.push(
            // The leaf, then the intermediate (if any): servers send the chain from this file.
            { path: abs(item.cert), data: cert.pem + signing.chainPem, mode: CERT_MODE },
            { path: abs(item.key), data: privateKeyToPem(key), mode: KEY_MODE },
          );
          fresh.set(item.id, { certPem: cert.pem, key });
          const info = certificateInfo(parseCertificates(cert.pem)[0]!);
          const rec: CertificateRecord = {
            id: item.id,
            owner: item.owner,
            profile: item.profile,
            subject: info.subject,
            serial: info.serial,
            fingerprint256: info.fingerprint256,
            sans: item.sans.map(formatSan),
            notBefore: info.notBefore.toISOString(),
            notAfter: info.notAfter.toISOString(),
            keySize: keyTypeBits(item.keyType),
            ...(isEcKeyType(item.keyType) ? { keyType: item.keyType } : {}),
            cert: item.cert,
            key: item.key,
            spec: item.spec,
            issuedAt,
          };
          certRecords.set(item.id, rec);
          facts = { serial: rec.serial, fingerprint256: rec.fingerprint256 };
          issued = {
            id: item.id,
            owner: item.owner,
            kind: item.kind,
            reason: item.reason!,
            files: [item.cert, item.key],
            subject: rec.subject,
            sans: rec.sans,
            notAfter: rec.notAfter,
          };
        } else {
          files.push(
            { path: abs(item.private), data: privateKeyToPem(key), mode: KEY_MODE },
            { path: abs(item.public), data: publicKeyToPem(key), mode: CERT_MODE },
          );
          const rec: KeyPairRecord = {
            id: item.id,
            owner: item.owner,
            keySize: item.keySize,
            private: item.private,
            public: item.public,
            publicKeySha256: spkiSha256(key),
            spec: item.spec,
            issuedAt,
          };
          pairRecords.set(item.id, rec);
          issued = {
            id: item.id,
            owner: item.owner,
            kind: item.kind,
            reason: item.reason!,
            files: [item.private, item.public],
          };
        }
        report.issued.push(issued);
        onEvent({ type: 'issued', item: issued, ...facts });
      }
      manifest.certificates = [...certRecords.values()];
      manifest.keyPairs = [...pairRecords.values()];
    }

    if (storepass) {
      if (storepass.file) files.push(storepass.file);
      // A key entry's chain: leaf, intermediate, root; a truststore holds the root(s) of ca.pem.
      const source = certSource(layout.root, manifest, chainPem, fresh);
      const work = await storesToBuild(
        layout.root,
        stores,
        manifest,
        source,
        ca.certPem,
        storepass.password,
        opts.force,
      );
      const storeRecords = new Map(manifest.stores.map((r) => [r.id, r]));
      for (const w of work) {
        const { file, record } = await buildStore(layout.root, w, source, ca.certPem, storepass.password, issuedAt);
        files.push(file);
        storeRecords.set(record.id, record);
        const built: BuiltStore = {
          id: record.id,
          owner: record.owner,
          type: record.type,
          path: record.path,
          reason: w.reason,
        };
        report.stores.push(built);
        onEvent({ type: 'store', store: built });
      }
      const jgroups = await jgroupsStores(
        layout.root,
        cluster,
        opts,
        manifest,
        storepass.password,
        storepass.previous,
        issuedAt,
        opts.force,
      );
      files.push(...jgroups.files);
      for (const r of jgroups.records) storeRecords.set(r.id, r);
      for (const b of jgroups.built) {
        const built: BuiltStore = { ...b, type: 'jceks' };
        report.stores.push(built);
        onEvent({ type: 'store', store: built });
      }
      manifest.stores = [...storeRecords.values()];
    }
    // Revocation on: the first CRL of a new CA (every ssl_crl rendered has a file to read) and the canary.
    if (cluster.ca.crlDays !== undefined) {
      const { revocationFiles } = await import('../revoke/issue-crl.js');
      files.push(...(await revocationFiles(layout, manifest, ca, signing, cluster.ca.crlDays, now, opts.passphrase)));
    }
    // ProxySQL's backends must trust the intermediate itself (it sends only its leaf, proxysql#5204).
    if (signing.record && cluster.nodes.some((n) => n.roles.includes('proxysql'))) {
      const existing = await readTextIfExists(layout.backendTrust, { what: "the backends' trust file" });
      const bundle = backendTrust(ca.certPem, signing, existing, now);
      if (bundle !== existing) files.push({ path: layout.backendTrust, data: bundle, mode: CERT_MODE });
    }
    if (files.length === 0) return report;
    // A loaded CA keeps what the manifest knew of it (it was imported, say).
    const known = manifest.ca?.fingerprint256 === ca.record.fingerprint256 ? manifest.ca : undefined;
    manifest.ca = ca.action === 'loaded' && known ? { ...ca.record, imported: known.imported } : ca.record;
    if (signing.record) manifest.intermediate = signing.record;
    files.push({ path: layout.manifest, data: serializeManifest(manifest), mode: CERT_MODE });

    for (const dir of new Set(files.map((f) => dirname(f.path)))) await ensurePrivateDir(layout.root, dir);
    await commitBatch(files, layout.journal);
    report.written = files.map((f) => f.path.slice(layout.root.length + 1));
    report.changed = true;
    onEvent({ type: 'committed', files: files.length });
    return report;
  } finally {
    caState?.close();
    await lock.release();
  }
}
