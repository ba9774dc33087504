// Java key and trust stores made from the cluster's certificates: for JVM clients that ask for them
// (`keystore: jks|pkcs12`) and for every Tungsten node (its generic pair plus the file set tpm
// expects in /opt/continuent/share). A store is rebuilt only when what it holds changed, its file is
// missing, or it no longer opens with the cluster's store password. A no-change run costs reading and
// hashing the stores: keys are decrypted only from stores whose bytes differ from the recorded hash
// (lib/keystore/verify.ts), and certificate keys are read only for a store being built.
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { parseCertificates, parseCertificatesOf } from '../pki/cert-info.js';
import { recordedSha256, storeSha256, verifyStore } from '../keystore/verify.js';
import { readIfExists, readTextNoFollow } from '../store/safe-fs.js';
import { inputError } from '../errors.js';
import { CERT_MODE, KEY_MODE } from '../store/atomic-write.js';
import type { BatchFile } from '../store/batch.js';
import { ownerDir } from '../store/pki-dir.js';
import type { Manifest, Owner, StoreRecord } from '../store/manifest.js';
import { STORE_EXTENSION, writeStore } from '../keystore/store.js';
import type { StoreInput, StoreType } from '../keystore/types.js';
import type { Cluster } from '../inventory/model.js';
import type { PlanFilter } from './plan.js';

export interface StoreEntrySpec {
  alias: string;
  kind: 'private-key' | 'trusted-cert';
  /** private-key entries: the manifest id of the certificate whose key and chain go in. */
  certId?: string;
}

export interface PlannedStore {
  id: string;
  owner: Owner;
  type: StoreType;
  /** Relative to the PKI directory. */
  path: string;
  entries: StoreEntrySpec[];
}

/** The Tungsten file set (REFERENCE §5): JKS throughout, the truststores with a .ts suffix. */
export const TUNGSTEN_STORES = {
  keystore: 'tungsten_keystore.jks',
  truststore: 'tungsten_truststore.ts',
  tlsKeystore: 'tungsten_tls_keystore.jks',
  connectorKeystore: 'tungsten_connector_keystore.jks',
  connectorTruststore: 'tungsten_connector_truststore.ts',
} as const;
/** tpm's default java-tls-alias. */
export const TUNGSTEN_TLS_ALIAS = 'tls';
export const CA_ALIAS = 'ca';

export function desiredStores(cluster: Cluster, filter: PlanFilter = {}): PlannedStore[] {
  const out: PlannedStore[] = [];
  const nodeSet = filter.nodes ? new Set(filter.nodes) : undefined;
  const clientSet = filter.clients ? new Set(filter.clients) : filter.nodes ? new Set<string>() : undefined;
  const pair = (
    owner: Owner,
    dir: string,
    type: StoreType,
    alias: string,
    certId: string,
    keyName: string,
    trustName: string,
  ) => {
    out.push({
      id: `${dir}/${keyName}`,
      owner,
      type,
      path: `${dir}/${keyName}`,
      entries: [{ alias, kind: 'private-key', certId }],
    });
    out.push({
      id: `${dir}/${trustName}`,
      owner,
      type,
      path: `${dir}/${trustName}`,
      entries: [{ alias: CA_ALIAS, kind: 'trusted-cert' }],
    });
  };
  for (const node of cluster.nodes) {
    if (!node.roles.includes('tungsten') || (nodeSet && !nodeSet.has(node.name))) continue;
    const owner: Owner = { kind: 'node', name: node.name };
    const dir = ownerDir('node', node.name);
    const certId = `${dir}/server`;
    pair(owner, dir, 'jks', node.name, certId, 'keystore.jks', 'truststore.jks');
    const t = `${dir}/tungsten`;
    pair(owner, t, 'jks', node.name, certId, TUNGSTEN_STORES.keystore, TUNGSTEN_STORES.truststore);
    pair(owner, t, 'jks', node.name, certId, TUNGSTEN_STORES.connectorKeystore, TUNGSTEN_STORES.connectorTruststore);
    out.push({
      id: `${t}/${TUNGSTEN_STORES.tlsKeystore}`,
      owner,
      type: 'jks',
      path: `${t}/${TUNGSTEN_STORES.tlsKeystore}`,
      entries: [{ alias: TUNGSTEN_TLS_ALIAS, kind: 'private-key', certId }],
    });
  }
  for (const client of cluster.clients) {
    if (!client.keystore || (clientSet && !clientSet.has(client.name))) continue;
    const dir = ownerDir('client', client.name);
    const ext = STORE_EXTENSION[client.keystore];
    pair(
      { kind: 'client', name: client.name },
      dir,
      client.keystore,
      client.name,
      `${dir}/client`,
      `keystore${ext}`,
      `truststore${ext}`,
    );
  }
  return out;
}

/**
 * Certificates and keys a store may need, by manifest id: this run's fresh ones, else read from disk
 * (each file once per run; the key only when a store that holds it is built).
 */
export interface CertSource {
  /** The leaf's SHA-256 fingerprint: what a store's record holds. */
  fingerprint(certId: string): Promise<string>;
  get(certId: string): Promise<{ chainDer: Buffer[]; key: KeyObject; fingerprint256: string }>;
}

export function certSource(
  root: string,
  manifest: Manifest,
  caPem: string,
  fresh: Map<string, { certPem: string; key: KeyObject }>,
): CertSource {
  const caChain = parseCertificates(caPem).map((c) => c.raw);
  const records = new Map(manifest.certificates.map((r) => [r.id, r]));
  const record = (certId: string) => {
    const rec = records.get(certId);
    if (!rec) throw new Error(`no certificate ${certId} in the manifest`);
    return rec;
  };
  const once = <T>(cache: Map<string, Promise<T>>, id: string, make: () => Promise<T>): Promise<T> => {
    let p = cache.get(id);
    if (!p) cache.set(id, (p = make()));
    return p;
  };
  const leaves = new Map<string, Promise<{ raw: Buffer; fingerprint256: string }>>();
  const keys = new Map<string, Promise<KeyObject>>();
  const leaf = (certId: string) =>
    once(leaves, certId, async () => {
      const pem =
        fresh.get(certId)?.certPem ??
        (await readTextNoFollow(join(root, record(certId).cert), { what: 'certificates' }));
      const file = join(root, record(certId).cert);
      const cert = parseCertificatesOf(pem, file)[0];
      if (!cert) throw inputError('no-certificate', `${file} holds no certificate`, { file });
      return { raw: cert.raw, fingerprint256: cert.fingerprint256 };
    });
  const key = (certId: string) =>
    once(
      keys,
      certId,
      async () =>
        fresh.get(certId)?.key ??
        createPrivateKey(await readTextNoFollow(join(root, record(certId).key), { what: 'keys' })),
    );
  return {
    async fingerprint(certId) {
      return (await leaf(certId)).fingerprint256;
    },
    async get(certId) {
      const [l, k] = await Promise.all([leaf(certId), key(certId)]);
      return { chainDer: [l.raw, ...caChain], key: k, fingerprint256: l.fingerprint256 };
    },
  };
}

function specOf(store: PlannedStore, entries: StoreRecord['entries']): string {
  return createHash('sha256')
    .update(JSON.stringify({ type: store.type, entries }))
    .digest('hex');
}

async function contents(
  store: PlannedStore,
  certs: CertSource,
  caFingerprints: string[],
): Promise<StoreRecord['entries']> {
  return Promise.all(
    store.entries.map(async (e) => ({
      alias: e.alias,
      kind: e.kind,
      fingerprints:
        e.kind === 'trusted-cert' ? caFingerprints : [await certs.fingerprint(e.certId!), ...caFingerprints],
    })),
  );
}

export interface StoreWork {
  store: PlannedStore;
  reason: string;
  entries: StoreRecord['entries'];
  spec: string;
}

/**
 * Which stores must be (re)built, and why. A store that passes a full verification but has no
 * recorded hash (a manifest from before hashes were kept) gets it in its record: saved with the next
 * manifest this run or a later one writes, so later runs skip its key decryption.
 */
export async function storesToBuild(
  root: string,
  stores: PlannedStore[],
  manifest: Manifest,
  certs: CertSource,
  caPem: string,
  password: string,
  force = false,
): Promise<StoreWork[]> {
  const caFingerprints = parseCertificates(caPem).map((c) => c.fingerprint256);
  const records = new Map(manifest.stores.map((r) => [r.id, r]));
  const work: StoreWork[] = [];
  for (const store of stores) {
    const entries = await contents(store, certs, caFingerprints);
    const spec = specOf(store, entries);
    const rec = records.get(store.id);
    let reason: string | undefined;
    if (force) reason = 'forced';
    else if (!rec) reason = 'new';
    else if (rec.spec !== spec) reason = 'its certificates changed';
    else {
      const bytes = await readIfExists(join(root, store.path), { what: 'a Java store' });
      if (!bytes) reason = `${store.path} is missing`;
      else {
        const { verdict, sha256 } = await verifyStore(bytes, password, rec, store.path);
        if (verdict?.wrongPassword) reason = 'the store password changed, or the store was modified';
        else if (verdict) reason = verdict.problems.join('; ');
        else if (recordedSha256(rec) === undefined) rec.sha256 = sha256;
      }
    }
    if (reason) work.push({ store, reason, entries, spec });
  }
  return work;
}

export async function buildStore(
  root: string,
  w: StoreWork,
  certs: CertSource,
  caPem: string,
  password: string,
  issuedAt: string,
): Promise<{ file: BatchFile; record: StoreRecord }> {
  const caDer = parseCertificates(caPem).map((c) => c.raw);
  const inputs: StoreInput[] = [];
  for (const e of w.store.entries) {
    if (e.kind === 'trusted-cert') {
      // Every certificate of ca.pem is trusted (a brought CA file may hold its own chain).
      caDer.forEach((cert, i) =>
        inputs.push({ kind: 'trusted-cert', alias: i === 0 ? e.alias : `${e.alias}-${i + 1}`, cert }),
      );
    } else {
      const c = await certs.get(e.certId!);
      inputs.push({ kind: 'private-key', alias: e.alias, key: c.key, chain: c.chainDer });
    }
  }
  const data = await writeStore(w.store.type, inputs, password);
  const hasKey = w.store.entries.some((e) => e.kind === 'private-key');
  return {
    // A truststore holds no secret, but its password still guards its integrity; 0644 lets JVM services read it.
    file: { path: join(root, w.store.path), data, mode: hasKey ? KEY_MODE : CERT_MODE },
    record: {
      id: w.store.id,
      owner: w.store.owner,
      type: w.store.type,
      path: w.store.path,
      entries: w.entries,
      spec: w.spec,
      issuedAt,
      sha256: storeSha256(data),
    },
  };
}

/**
 * The JGroups key: one Blowfish-56 secret for the whole cluster (every Tungsten node must hold the same
 * one), sealed in a JCEKS store under <pki>/tungsten/ and copied byte for byte to each Tungsten node.
 * A new store password re-seals the same key; the key itself is made once.
 */
export const JGROUPS_STORE = 'tungsten_jgroups_keystore.jceks';
export const JGROUPS_ALIAS = 'jgroups';
export const CLUSTER_JGROUPS = `tungsten/${JGROUPS_STORE}`;

export interface JgroupsWork {
  files: BatchFile[];
  records: StoreRecord[];
  built: Array<{ id: string; owner: Owner; path: string; reason: string }>;
}

/** The JCEKS integrity hash verifies with this password (nothing is unsealed). */
async function opensUnsealed(bytes: Buffer, password: string): Promise<boolean> {
  const { readJceks } = await import('../keystore/jceks.js');
  try {
    return readJceks(bytes, { storepass: password, decryptKeys: false }).entries.some(
      (e) => e.alias === JGROUPS_ALIAS && e.kind === 'secret-key',
    );
  } catch {
    return false;
  }
}

async function openJgroupsKey(
  bytes: Buffer,
  passwords: string[],
): Promise<{ key: Buffer; password: string } | undefined> {
  const { readJceks } = await import('../keystore/jceks.js');
  for (const password of passwords) {
    try {
      const entry = readJceks(bytes, password).entries.find((e) => e.alias === JGROUPS_ALIAS && e.key);
      if (entry?.key) return { key: entry.key.export(), password };
    } catch {
      // not this password
    }
  }
  return undefined;
}

export async function jgroupsStores(
  root: string,
  cluster: Cluster,
  filter: PlanFilter,
  manifest: Manifest,
  password: string,
  previous: string | undefined,
  issuedAt: string,
  force = false,
): Promise<JgroupsWork> {
  const work: JgroupsWork = { files: [], records: [], built: [] };
  const nodes = cluster.nodes.filter((n) => n.roles.includes('tungsten'));
  if (nodes.length === 0) return work;
  const { writeJceksSecretKey, generateBlowfishKey } = await import('../keystore/jceks.js');
  const clusterOwner: Owner = { kind: 'node', name: '*' };
  const records = new Map(manifest.stores.map((r) => [r.id, r]));
  const clusterPath = join(root, CLUSTER_JGROUPS);
  const existing = await readIfExists(clusterPath, { what: 'the JGroups key store' });
  let bytes: Buffer | undefined = existing;
  let reason: string | undefined;
  let opened: { key: Buffer; password: string } | undefined;
  const clusterRecord = records.get(CLUSTER_JGROUPS);
  if (!existing) reason = 'new';
  else if (
    !force &&
    clusterRecord &&
    recordedSha256(clusterRecord) === storeSha256(existing) &&
    (await opensUnsealed(existing, password))
  ) {
    // The bytes this program wrote, and the integrity hash proves the password: unsealing the key
    // (2 × 200,000 MD5 rounds) would tell nothing more.
  } else {
    opened = await openJgroupsKey(existing, [password, ...(previous ? [previous] : [])]);
    if (!opened && clusterRecord) {
      throw inputError(
        'jgroups-unreadable',
        `${CLUSTER_JGROUPS} in ${root} does not open with the store password (the kept one, or the one given): the cluster's JGroups key is not replaced`,
        { file: clusterPath },
        `restore it from a backup or from a node's copy (nodes/<node>/tungsten/${JGROUPS_STORE}), give the password it was sealed with, or delete it to make a new key (every Tungsten node then needs the new one)`,
      );
    }
    if (!opened) reason = 'it opens with no known store password: a new key';
    else if (opened.password !== password) reason = 'the store password changed';
    else if (force) reason = 'forced';
  }
  if (reason) {
    const key = opened?.key ?? generateBlowfishKey(56);
    bytes = writeJceksSecretKey({ alias: JGROUPS_ALIAS, algorithm: 'Blowfish', key, password });
    work.files.push({ path: join(root, CLUSTER_JGROUPS), data: bytes!, mode: KEY_MODE });
    work.built.push({ id: CLUSTER_JGROUPS, owner: clusterOwner, path: CLUSTER_JGROUPS, reason });
  }
  const digest = storeSha256(bytes!);
  const record = (id: string, owner: Owner, path: string): StoreRecord => ({
    id,
    owner,
    type: 'jceks',
    path,
    entries: [{ alias: JGROUPS_ALIAS, kind: 'secret-key', fingerprints: [] }],
    spec: digest,
    issuedAt,
    sha256: digest,
  });
  // A store that passed the full check with other bytes than recorded gets its record brought up to date.
  if (reason || !clusterRecord || recordedSha256(clusterRecord) !== digest)
    work.records.push(record(CLUSTER_JGROUPS, clusterOwner, CLUSTER_JGROUPS));
  const nodeSet = filter.nodes ? new Set(filter.nodes) : undefined;
  for (const node of nodes) {
    if (nodeSet && !nodeSet.has(node.name)) continue;
    const path = `${ownerDir('node', node.name)}/tungsten/${JGROUPS_STORE}`;
    const copy = await readIfExists(join(root, path), { what: 'a JGroups key store' });
    const why = !copy
      ? records.has(path)
        ? `${path} is missing`
        : 'new'
      : !copy.equals(bytes!)
        ? 'the cluster JGroups store changed'
        : undefined;
    if (!why) continue;
    work.files.push({ path: join(root, path), data: bytes!, mode: KEY_MODE });
    work.records.push(record(path, { kind: 'node', name: node.name }, path));
    work.built.push({ id: path, owner: { kind: 'node', name: node.name }, path, reason: why });
  }
  return work;
}
