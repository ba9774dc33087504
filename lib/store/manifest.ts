// manifest.json: every certificate and key pair dbtls issued into a PKI directory, with what it was
// issued for (`spec`, a hash of profile, subject, SANs, key size and CA), so re-runs can tell what
// changed. Paths are relative to the PKI directory.
import { inputError } from '../errors.js';
import { readIfExists } from './safe-fs.js';

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
  /** A root of the user's own PKI (brought with an intermediate): its key is not here, and dbtls never signs with it. */
  external?: boolean;
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
  /** Bits: the RSA modulus or the EC curve's. */
  keySize: number;
  /** Set for keys other than RSA (p256, p384); absent = RSA of keySize. */
  keyType?: string;
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

/** A certificate revoked by `dbtls revoke`: it goes into every CRL the CA signs from then on. */
export interface RevokedRecord {
  /** Lower-case hex, as CertificateRecord.serial. */
  serial: string;
  /** The manifest id it had (nodes/db3/server), when it was one of dbtls's. */
  id?: string;
  subject: string;
  reason: string;
  revokedAt: string;
  /** The CA that signed it: only that CA's CRL lists it. */
  caFingerprint256: string;
}

/** One CA's CRL in the PKI directory's crl.pem, as last signed (one per CA that ca.pem trusts). */
export interface CrlRecord {
  path: string;
  number: number;
  thisUpdate: string;
  nextUpdate: string;
  caFingerprint256: string;
}

export interface Manifest {
  version: 1;
  cluster: string;
  ca?: CaRecord;
  /** With ca.intermediate: the online CA that signs the leaves (ca is then the root). */
  intermediate?: CaRecord;
  revoked?: RevokedRecord[];
  /** The CRLs in crl.pem: the signing CA's first, then (during `rotate ca`) the other CA's. */
  crls?: CrlRecord[];
  certificates: CertificateRecord[];
  keyPairs: KeyPairRecord[];
  /** Java key and trust stores (absent in manifests written before stores existed). */
  stores: StoreRecord[];
}

export function emptyManifest(cluster: string): Manifest {
  return { version: 1, cluster, certificates: [], keyPairs: [], stores: [] };
}

// --- shape: every field the code relies on, checked once on reading, with the path of a bad one ---

type Check = (v: unknown, at: string) => void;

class ShapeError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return v.length > 40 ? 'a string' : JSON.stringify(v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const str: Check = (v, at) => {
  if (typeof v !== 'string') throw new ShapeError(at, `must be a string, not ${describeValue(v)}`);
};
const bool: Check = (v, at) => {
  if (typeof v !== 'boolean') throw new ShapeError(at, `must be true or false, not ${describeValue(v)}`);
};
const wholeNumber: Check = (v, at) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new ShapeError(at, `must be a positive whole number, not ${describeValue(v)}`);
};
/** A path inside the PKI directory: relative, no "..", no NUL; the manifest never points elsewhere. */
const relPath: Check = (v, at) => {
  str(v, at);
  const p = v as string;
  if (p === '' || p.startsWith('/') || p.includes('\0') || p.split(/[\\/]/).includes('..')) {
    throw new ShapeError(at, `must be a path inside the PKI directory, not ${describeValue(p)}`);
  }
};
const listOf =
  (item: Check): Check =>
  (v, at) => {
    if (!Array.isArray(v)) throw new ShapeError(at, `must be a list, not ${describeValue(v)}`);
    v.forEach((x, i) => item(x, `${at}[${i}]`));
  };
const optional =
  (c: Check): Check =>
  (v, at) => {
    if (v !== undefined) c(v, at);
  };
const record =
  (fields: Record<string, Check>): Check =>
  (v, at) => {
    if (!isObject(v)) throw new ShapeError(at, `must be an object, not ${describeValue(v)}`);
    for (const [k, c] of Object.entries(fields)) c(v[k], at ? `${at}.${k}` : k);
  };
const owner: Check = (v, at) => {
  record({ kind: str, name: str })(v, at);
  const kind = (v as { kind: string }).kind;
  if (kind !== 'node' && kind !== 'client')
    throw new ShapeError(`${at}.kind`, `must be "node" or "client", not ${describeValue(kind)}`);
};

const CA_RECORD = record({
  subject: str,
  serial: str,
  fingerprint256: str,
  notBefore: str,
  notAfter: str,
  cert: relPath,
  key: relPath,
  encrypted: bool,
  imported: bool,
  external: optional(bool),
});
const CERTIFICATE_RECORD = record({
  id: str,
  owner,
  profile: str,
  subject: str,
  serial: str,
  fingerprint256: str,
  sans: listOf(str),
  notBefore: str,
  notAfter: str,
  keySize: wholeNumber,
  keyType: optional(str),
  cert: relPath,
  key: relPath,
  spec: str,
  issuedAt: str,
});
const KEY_PAIR_RECORD = record({
  id: str,
  owner,
  keySize: wholeNumber,
  private: relPath,
  public: relPath,
  publicKeySha256: str,
  spec: str,
  issuedAt: str,
});
const STORE_RECORD = record({
  id: str,
  owner,
  type: str,
  path: relPath,
  entries: listOf(record({ alias: str, kind: str, fingerprints: listOf(str) })),
  spec: str,
  issuedAt: str,
  sha256: optional(str),
});
const REVOKED_RECORD = record({
  serial: str,
  id: optional(str),
  subject: str,
  reason: str,
  revokedAt: str,
  caFingerprint256: str,
});
const CRL_RECORD = record({
  path: relPath,
  number: wholeNumber,
  thisUpdate: str,
  nextUpdate: str,
  caFingerprint256: str,
});
const MANIFEST = record({
  cluster: str,
  ca: optional(CA_RECORD),
  intermediate: optional(CA_RECORD),
  revoked: optional(listOf(REVOKED_RECORD)),
  // `crl` (one CRL) is how manifests written before CA rotations with CRLs said it; read as crls[0].
  crl: optional(CRL_RECORD),
  crls: optional(listOf(CRL_RECORD)),
  certificates: listOf(CERTIFICATE_RECORD),
  keyPairs: listOf(KEY_PAIR_RECORD),
  stores: optional(listOf(STORE_RECORD)),
});

/**
 * Checks a parsed manifest's shape: a value of another type anywhere (`null`, `"stores": "x"`, a
 * record without its fingerprint) is an input error naming manifest.json and the field's path, not
 * a TypeError later. Damaged state is refused, never repaired in place.
 */
export function validateManifest(value: unknown, path: string): Manifest {
  if (!isObject(value)) {
    throw inputError(
      'bad-manifest',
      `${path} is not a dbtls manifest: it holds ${describeValue(value)}, not an object`,
      { file: path },
      MANIFEST_HINT,
    );
  }
  if (value.version !== 1) {
    throw inputError(
      'bad-manifest',
      `must be 1 (the manifest format this dbtls reads), not ${describeValue(value.version)}`,
      { file: path, field: 'version' },
      MANIFEST_HINT,
    );
  }
  try {
    MANIFEST(value, '');
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    // describe() puts "manifest.json: field: " in front.
    throw inputError('bad-manifest', e.message, { file: path, field: e.field }, MANIFEST_HINT);
  }
  const m = value as unknown as Manifest;
  m.stores ??= [];
  return m;
}

const MANIFEST_HINT = 'restore manifest.json from a backup; dbtls does not rebuild a damaged manifest on its own';

export async function readManifest(path: string, cluster: string): Promise<Manifest> {
  const buf = await readIfExists(path, { what: 'the manifest' });
  if (buf === undefined) return emptyManifest(cluster);
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw inputError(
      'bad-manifest',
      `${path} is not valid JSON: ${(e as Error).message}`,
      { file: path },
      MANIFEST_HINT,
    );
  }
  const m = validateManifest(parsed, path);
  const legacy = (m as Manifest & { crl?: CrlRecord }).crl;
  if (legacy) {
    if (!m.crls) m.crls = [legacy];
    delete (m as Manifest & { crl?: CrlRecord }).crl;
  }
  if (m.cluster !== cluster) {
    throw inputError(
      'wrong-cluster',
      `${path} belongs to cluster "${m.cluster}", not "${cluster}"`,
      undefined,
      'give each cluster its own pki directory',
    );
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
