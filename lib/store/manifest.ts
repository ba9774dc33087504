// manifest.json: every certificate and key pair dbtls issued into a PKI directory, with what it was
// issued for (`spec`, a hash of profile, subject, SANs, key size and CA), so re-runs can tell what
// changed. Paths are relative to the PKI directory.
import { readFile } from 'node:fs/promises';
import { DbtlsError } from '../errors.js';

export type OwnerKind = 'node' | 'client';

export interface Owner {
  kind: OwnerKind;
  name: string;
}

export interface CaRecord {
  subject: string;
  serial: string;
  fingerprint256: string;
  notBefore: string;
  notAfter: string;
  cert: string;
  key: string;
  encrypted: boolean;
  imported: boolean;
}

export interface CertificateRecord {
  id: string;
  owner: Owner;
  profile: string;
  subject: string;
  serial: string;
  fingerprint256: string;
  sans: string[];
  notBefore: string;
  notAfter: string;
  keySize: number;
  cert: string;
  key: string;
  spec: string;
  issuedAt: string;
}

export interface KeyPairRecord {
  id: string;
  owner: Owner;
  keySize: number;
  private: string;
  public: string;
  /** SHA-256 of the public key's SubjectPublicKeyInfo DER, colon-separated hex. */
  publicKeySha256: string;
  spec: string;
  issuedAt: string;
}

export interface StoreRecord {
  id: string;
  owner: Owner;
  type: string;
  path: string;
  /** What it holds: aliases, entry kinds and the SHA-256 fingerprints of their certificates. */
  entries: Array<{ alias: string; kind: string; fingerprints: string[] }>;
  spec: string;
  issuedAt: string;
  /** SHA-256 (hex) of the file's bytes as dbtls wrote or last fully verified them (lib/keystore/verify.ts). */
  sha256?: string;
}

export interface Manifest {
  version: 1;
  cluster: string;
  ca?: CaRecord;
  certificates: CertificateRecord[];
  keyPairs: KeyPairRecord[];
  /** Java key and trust stores (absent in manifests written before stores existed). */
  stores: StoreRecord[];
}

export function emptyManifest(cluster: string): Manifest {
  return { version: 1, cluster, certificates: [], keyPairs: [], stores: [] };
}

export async function readManifest(path: string, cluster: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyManifest(cluster);
    throw e;
  }
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (e) {
    throw new DbtlsError('bad-manifest', `${path} is not valid JSON: ${(e as Error).message}`, { kind: 'input' });
  }
  if (m.version !== 1 || !Array.isArray(m.certificates) || !Array.isArray(m.keyPairs)) {
    throw new DbtlsError('bad-manifest', `${path} is not a dbtls manifest (version 1)`, { kind: 'input' });
  }
  m.stores ??= [];
  if (m.cluster !== cluster) {
    throw new DbtlsError('wrong-cluster', `${path} belongs to cluster "${m.cluster}", not "${cluster}"`, {
      kind: 'input',
      hint: 'give each cluster its own pki directory',
    });
  }
  return m;
}

export function serializeManifest(m: Manifest): string {
  const sorted: Manifest = {
    ...m,
    certificates: [...m.certificates].sort((a, b) => a.id.localeCompare(b.id)),
    keyPairs: [...m.keyPairs].sort((a, b) => a.id.localeCompare(b.id)),
    stores: [...m.stores].sort((a, b) => a.id.localeCompare(b.id)),
  };
  return JSON.stringify(sorted, null, 2) + '\n';
}
