// What a file holds, as data for `dbtls inspect`: certificates, private keys (described, never
// their material), public keys and PKCS#10 requests, from PEM (any number of blocks) or DER.
// Each container format is one READER; a keystore reader (PKCS#12, JKS) is one more entry.
import { readGivenFile } from '../store/safe-fs.js';
import { X509Certificate, createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { pemBlocks } from './pem.js';
import { certificateInfo, type CertificateInfo } from './cert-info.js';
import { verifyChain } from './chain.js';
import { DAY_MS } from './validity.js';
import { sameKey, spkiDer } from './keys.js';
import {
  certificateExtensions,
  certificateSignatureAlgorithm,
  encryptedKeyScheme,
  keyUsage,
  oidName,
  parseCsr,
} from './x509-der.js';
import { inputError, isDbtlsError } from '../errors.js';

export interface KeyFacts {
  /** Node's name: rsa, rsa-pss, ec, ed25519, ed448, dsa… */
  keyType: string;
  keyBits: number | undefined;
  /** EC keys only, e.g. prime256v1. */
  curve?: string;
  /** SHA-256 of the public key's SubjectPublicKeyInfo DER, colon-separated upper-case hex: equal for a key, its certificate and its CSR. */
  spkiSha256: string;
}

export type ChainCheck = { ok: true; path: string[] } | { ok: false; reason: string };

/** A certificate's facts (cert-info.ts) and what inspect adds; extKeyUsage here holds names, not OIDs. */
export interface CertificateDescription extends CertificateInfo, KeyFacts {
  kind: 'certificate';
  /** Whole days until notAfter; negative once expired. */
  daysLeft: number;
  status: 'valid' | 'expired' | 'not-yet-valid';
  signatureAlgorithm: string;
  keyUsage: string[] | undefined;
  /** Present when trusted roots were given. */
  chain?: ChainCheck;
  /** Present when a key to match was given (on the file's first certificate: the leaf, by convention). */
  keyMatches?: boolean;
}

export type PrivateKeyFormat = 'pkcs8' | 'pkcs1' | 'sec1' | 'other';

export interface PrivateKeyDescription extends Partial<KeyFacts> {
  kind: 'private-key';
  format: PrivateKeyFormat;
  /** An encrypted key is described from its header only: no passphrase is asked for. */
  encrypted: boolean;
  encryption?: string;
}

export interface PublicKeyDescription extends KeyFacts {
  kind: 'public-key';
  format: 'spki' | 'pkcs1';
}

export interface CsrDescription extends KeyFacts {
  kind: 'csr';
  subject: string;
  sans: string[];
  keyUsage: string[] | undefined;
  extKeyUsage: string[] | undefined;
  signatureAlgorithm: string;
  signatureValid: boolean | undefined;
}

/** An entry of a Java key or trust store; its certificates follow it as certificate objects. */
export interface StoreEntryDescription {
  kind: 'store-entry';
  alias: string;
  /** keytool's names for the entry types. */
  entryType: 'PrivateKeyEntry' | 'trustedCertEntry' | 'SecretKeyEntry';
  date?: Date;
  chainLength: number;
  /** SecretKeyEntry: the key's algorithm, when the store could be opened. */
  algorithm?: string;
}

/** A PEM block dbtls does not read (EC PARAMETERS, X509 CRL…) or could not parse. */
export interface OtherDescription {
  kind: 'other';
  label: string;
  reason: string;
}

export type Described =
  | CertificateDescription
  | PrivateKeyDescription
  | PublicKeyDescription
  | CsrDescription
  | StoreEntryDescription
  | OtherDescription;

export interface FileDescription {
  file: string;
  /** The container: 'pem' or 'der' (keystore readers add theirs). */
  format: string;
  objects: Described[];
}

export interface DescribeOptions {
  /** Verify each certificate up to these roots (other certificates in the same file serve as intermediates). */
  roots?: X509Certificate[];
  /** Check the file's first certificate against this private or public key. */
  key?: KeyObject;
  /** Opens Java stores: verifies a JKS/JCEKS integrity hash, decrypts a PKCS#12. */
  storepass?: string;
  now?: Date;
}

/** What a reader finds: certificates stay parsed until the whole file is known (chains need siblings). */
export type Found = X509Certificate | Exclude<Described, CertificateDescription>;

/** A container format: null when the bytes are not of its kind. */
export type Reader = (data: Buffer, opts: DescribeOptions) => Promise<{ format: string; found: Found[] } | null>;

export const READERS: Reader[] = [readStore, readPem, readDer];

const ENTRY_TYPES = {
  'private-key': 'PrivateKeyEntry',
  'trusted-cert': 'trustedCertEntry',
  'secret-key': 'SecretKeyEntry',
} as const;

/** JKS, JCEKS and PKCS#12 stores: each entry, then its certificates. */
async function readStore(data: Buffer, opts: DescribeOptions): Promise<{ format: string; found: Found[] } | null> {
  const { detectStoreType, readStore: open } = await import('../keystore/store.js');
  const type = detectStoreType(data);
  if (!type) return null;
  const listing = await open(data, opts.storepass, 'the store');
  const found: Found[] = [];
  for (const e of listing.entries) {
    found.push({
      kind: 'store-entry',
      alias: e.alias,
      entryType: ENTRY_TYPES[e.kind],
      ...(e.date ? { date: e.date } : {}),
      chainLength: e.certificates.length,
      ...(e.algorithm ? { algorithm: e.algorithm } : {}),
    });
    found.push(...e.certificates);
  }
  return { format: type + (listing.verified ? '' : ', integrity not checked (no store password)'), found };
}

export async function describeFile(file: string, opts: DescribeOptions = {}): Promise<FileDescription> {
  const described = await describeData(await readOrFail(file), opts);
  const unread = described?.objects.filter((o): o is OtherDescription => o.kind === 'other') ?? [];
  if (!described || unread.length === described.objects.length) {
    const why = unread.map((o) => `${o.label}: ${o.reason}`).join('; ');
    throw inputError(
      'unrecognised',
      `holds no certificate, key or certificate request (PEM or DER)${why ? ` (${why})` : ''}`,
      { file },
    );
  }
  return { file, ...described };
}

function readFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'ENOTDIR') return 'no such file (a part of the path is not a directory)';
  if (code === 'ELOOP') return 'too many levels of symbolic links';
  return (e as Error).message;
}

/** Describes bytes by the first reader that knows their format; null when none does. */
export async function describeData(
  data: Buffer,
  opts: DescribeOptions = {},
): Promise<{ format: string; objects: Described[] } | null> {
  for (const reader of READERS) {
    const got = await reader(data, opts);
    if (!got) continue;
    const certs = got.found.filter((f): f is X509Certificate => f instanceof X509Certificate);
    const objects = got.found.map((f) => (f instanceof X509Certificate ? describeCertificate(f, certs, opts) : f));
    return { format: got.format, objects };
  }
  return null;
}

function describeCertificate(
  cert: X509Certificate,
  siblings: X509Certificate[],
  opts: DescribeOptions,
): CertificateDescription {
  const now = opts.now ?? new Date();
  const info = certificateInfo(cert);
  // Node has parsed the certificate already; our small DER walk only adds detail, so it may not fail it.
  const exts = attempt(() => certificateExtensions(cert.raw)) ?? [];
  const d: CertificateDescription = {
    kind: 'certificate',
    ...info,
    ...keyFacts(cert.publicKey), // its key size for EC keys too
    daysLeft: Math.floor((info.notAfter.getTime() - now.getTime()) / DAY_MS),
    status: now < info.notBefore ? 'not-yet-valid' : now > info.notAfter ? 'expired' : 'valid',
    signatureAlgorithm: attempt(() => certificateSignatureAlgorithm(cert.raw)) ?? 'unknown',
    keyUsage: keyUsage(exts),
    extKeyUsage: info.extKeyUsage?.map(oidName),
  };
  if (opts.roots) {
    const r = verifyChain(
      cert,
      opts.roots,
      siblings.filter((c) => c !== cert),
      now,
    );
    if (r.ok) {
      // A root given with --ca and also found in the file is the same certificate twice: name it once.
      const path = r.path.filter((c, i) => i === 0 || c.fingerprint256 !== r.path[i - 1]!.fingerprint256);
      d.chain = { ok: true, path: path.map((c) => c.subject.split('\n').join(', ')) };
    } else {
      d.chain = r;
    }
  }
  if (opts.key && cert === siblings[0]) d.keyMatches = sameKey(cert.publicKey, opts.key);
  return d;
}

// OpenSSL's EVP_PKEY_bits for the keys whose size is fixed by the algorithm.
const FIXED_BITS: Record<string, number> = { ed25519: 256, ed448: 456, x25519: 253, x448: 448 };

export function keyFacts(key: KeyObject): KeyFacts {
  const keyType = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  const curve = details.namedCurve;
  // Curve names carry their size: prime256v1, secp384r1, secp521r1, brainpoolP512r1.
  const keyBits =
    details.modulusLength ?? (curve ? Number(/\d{3}/.exec(curve)?.[0]) || undefined : FIXED_BITS[keyType]);
  const hash = createHash('sha256').update(spkiDer(key)).digest('hex').toUpperCase();
  return { keyType, keyBits, ...(curve ? { curve } : {}), spkiSha256: hash.match(/../g)!.join(':') };
}

/** fn's value, or undefined if it throws: for trying one structure after another. */
function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

// ---- PEM ----

const PRIVATE_KEY_LABELS: Record<string, PrivateKeyFormat> = {
  'PRIVATE KEY': 'pkcs8',
  'RSA PRIVATE KEY': 'pkcs1',
  'EC PRIVATE KEY': 'sec1',
  'DSA PRIVATE KEY': 'other',
};
// Legacy "traditional" PEM encryption names the key type only in its label.
const LEGACY_KEY_TYPES: Record<string, string> = {
  'RSA PRIVATE KEY': 'rsa',
  'EC PRIVATE KEY': 'ec',
  'DSA PRIVATE KEY': 'dsa',
};

async function readPem(data: Buffer): Promise<{ format: string; found: Found[] } | null> {
  const blocks = pemBlocks(data.toString('latin1'));
  if (blocks.length === 0) return null;
  return { format: 'pem', found: blocks.map((b) => readPemBlock(b.label, b.der, b.pem)) };
}

function readPemBlock(label: string, der: Buffer, pem: string): Found {
  try {
    switch (label) {
      case 'CERTIFICATE':
      case 'TRUSTED CERTIFICATE':
      case 'X509 CERTIFICATE':
        return new X509Certificate(der);
      case 'CERTIFICATE REQUEST':
      case 'NEW CERTIFICATE REQUEST':
        return describeCsr(der);
      case 'ENCRYPTED PRIVATE KEY':
        return { kind: 'private-key', format: 'pkcs8', encrypted: true, encryption: encryptedKeyScheme(der) };
      case 'PUBLIC KEY':
        return { kind: 'public-key', format: 'spki', ...keyFacts(createPublicKey(pem)) };
      case 'RSA PUBLIC KEY':
        return { kind: 'public-key', format: 'pkcs1', ...keyFacts(createPublicKey(pem)) };
    }
    const format = PRIVATE_KEY_LABELS[label];
    if (format === undefined) return { kind: 'other', label, reason: 'not a kind dbtls inspects' };
    const dekInfo = /^Proc-Type: 4,ENCRYPTED\r?\nDEK-Info: ([^,\r\n]+)/m.exec(pem);
    if (dekInfo) {
      return {
        kind: 'private-key',
        format,
        encrypted: true,
        encryption: `legacy PEM (${dekInfo[1]!.toLowerCase()})`,
        keyType: LEGACY_KEY_TYPES[label],
      };
    }
    return { kind: 'private-key', format, encrypted: false, ...keyFacts(createPrivateKey(pem)) };
  } catch {
    // OpenSSL's own messages ("PEM routines::no start line") would not help a person here.
    return { kind: 'other', label, reason: 'unreadable: damaged, or not what its label says' };
  }
}

function describeCsr(der: Buffer): CsrDescription {
  const csr = parseCsr(der);
  return {
    kind: 'csr',
    subject: csr.subject,
    sans: csr.sans,
    ...keyFacts(csr.publicKey),
    keyUsage: csr.keyUsage,
    extKeyUsage: csr.extKeyUsage,
    signatureAlgorithm: csr.signatureAlgorithm,
    signatureValid: csr.signatureValid,
  };
}

// ---- DER: one object per file, told apart by trying each structure in turn ----

async function readDer(der: Buffer): Promise<{ format: string; found: Found[] } | null> {
  if (der[0] !== 0x30) return null; // every structure we read is a SEQUENCE
  const found: Found | undefined =
    attempt(() => new X509Certificate(der)) ??
    attempt(() => describeCsr(der)) ??
    attempt((): Found => ({
      kind: 'private-key',
      format: 'pkcs8',
      encrypted: true,
      encryption: encryptedKeyScheme(der),
    })) ??
    describeDerKey(der);
  return found ? { format: 'der', found: [found] } : null;
}

type DerKey = { key: KeyObject; format: PrivateKeyFormat | PublicKeyDescription['format'] };

function derKey(der: Buffer): DerKey | undefined {
  for (const format of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    const key = attempt(() => createPrivateKey({ key: der, format: 'der', type: format }));
    if (key) return { key, format };
  }
  for (const format of ['spki', 'pkcs1'] as const) {
    const key = attempt(() => createPublicKey({ key: der, format: 'der', type: format }));
    if (key) return { key, format };
  }
  return undefined;
}

function describeDerKey(der: Buffer): PrivateKeyDescription | PublicKeyDescription | undefined {
  const found = derKey(der);
  if (!found) return undefined;
  const facts = keyFacts(found.key);
  return found.key.type === 'private'
    ? { kind: 'private-key', format: found.format as PrivateKeyFormat, encrypted: false, ...facts }
    : { kind: 'public-key', format: found.format as PublicKeyDescription['format'], ...facts };
}

// ---- the things to check against (--ca, --key) ----

/**
 * The bytes of a file the user named. A symlink is followed (the user chose the path, as `openssl
 * x509 -in` does); a device, FIFO, socket or directory is refused without being opened or read, and
 * at most 64 MiB are read (`inspect /dev/zero` read 24 GB before). All of these are input errors.
 */
async function readOrFail(file: string): Promise<Buffer> {
  try {
    return await readGivenFile(file);
  } catch (e) {
    if (isDbtlsError(e)) throw e;
    throw inputError('unreadable', readFailure(e), { file });
  }
}

/** The certificates of a CA file (PEM, or one DER certificate): the roots for verifyChain. */
export async function loadRoots(file: string): Promise<X509Certificate[]> {
  const data = await readOrFail(file);
  for (const reader of READERS) {
    const certs = ((await reader(data, {}))?.found ?? []).filter(
      (f): f is X509Certificate => f instanceof X509Certificate,
    );
    if (certs.length > 0) return certs;
  }
  throw inputError('no-ca-certificate', 'holds no certificate to trust', { file });
}

/**
 * The key to match certificates against: a private key, or a public key (which is all that is
 * needed, and what to give for an encrypted private key: inspect never asks for passphrases).
 */
export async function loadMatchKey(file: string): Promise<KeyObject> {
  const data = await readOrFail(file);
  const encrypted = () =>
    inputError(
      'encrypted-key',
      'the private key is encrypted; inspect does not ask for passphrases',
      { file },
      `give its public key instead: openssl pkey -in ${file} -pubout -out key.pub, then --key key.pub`,
    );
  const text = data.toString('latin1');
  if (text.includes('-----BEGIN ')) {
    for (const b of pemBlocks(text)) {
      if (b.label === 'ENCRYPTED PRIVATE KEY' || b.pem.includes('Proc-Type: 4,ENCRYPTED')) throw encrypted();
      const key = attempt(() =>
        b.label.endsWith('PRIVATE KEY')
          ? createPrivateKey(b.pem)
          : b.label.endsWith('PUBLIC KEY')
            ? createPublicKey(b.pem)
            : undefined,
      );
      if (key) return key;
    }
  } else {
    if (attempt(() => encryptedKeyScheme(data))) throw encrypted();
    const found = derKey(data);
    if (found) return found.key;
  }
  throw inputError('no-key', 'holds no private or public key', { file });
}
