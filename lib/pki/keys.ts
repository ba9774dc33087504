// RSA and EC keys from Node's native crypto. generateKeyPair runs on libuv's thread pool, so keys started
// together are made in parallel on every core.
import {
  generateKeyPair,
  createPrivateKey,
  createPublicKey,
  createHash,
  createCipheriv,
  pbkdf2Sync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { derToPem } from './pem.js';
import {
  readTlv,
  children,
  sequence as seq,
  oid as derOid,
  integer as derInteger,
  octetString,
  nullValue,
} from './der.js';
import { DbtlsError } from '../errors.js';

export const RSA_KEY_SIZES = [2048, 3072, 4096] as const;
export type RsaKeySize = (typeof RSA_KEY_SIZES)[number];
export const DEFAULT_KEY_SIZE: RsaKeySize = 2048;

export type PrivateKeyFormat = 'pkcs8' | 'pkcs1';

export function isRsaKeySize(n: number): n is RsaKeySize {
  return (RSA_KEY_SIZES as readonly number[]).includes(n);
}

/** What a certificate's key is: RSA of a size, or ECDSA on NIST P-256 / P-384. */
export const KEY_TYPES = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384'] as const;
export type KeyType = (typeof KEY_TYPES)[number];
export const DEFAULT_KEY_TYPE: KeyType = 'rsa2048';

export function isKeyType(s: string): s is KeyType {
  return (KEY_TYPES as readonly string[]).includes(s);
}

export const isEcKeyType = (t: KeyType): boolean => t === 'p256' || t === 'p384';

/** The key type of an RSA size (the inventory's older keySize). */
export const rsaKeyType = (bits: RsaKeySize): KeyType => `rsa${bits}` as KeyType;

/** Bits of the key: the RSA modulus, or the curve's size. */
export function keyTypeBits(t: KeyType): number {
  return t === 'p256' ? 256 : t === 'p384' ? 384 : Number(t.slice(3));
}

/** "RSA 2048", "ECDSA P-256": how people name them. */
export function describeKeyType(t: KeyType): string {
  return isEcKeyType(t) ? `ECDSA P-${keyTypeBits(t)}` : `RSA ${keyTypeBits(t)}`;
}

/** The key type of KEY, or undefined for one dbtls does not make (Ed25519, P-521, RSA 1024, …). */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    const t = `rsa${d?.modulusLength}`;
    return isKeyType(t) ? t : undefined;
  }
  if (key.asymmetricKeyType === 'ec')
    return d?.namedCurve === 'prime256v1' ? 'p256' : d?.namedCurve === 'secp384r1' ? 'p384' : undefined;
  return undefined;
}

/** A new private key of type T, made on libuv's thread pool (so keys started together run in parallel). */
export function generateKey(t: KeyType): Promise<KeyObject> {
  if (!isEcKeyType(t)) return generateRsaKey(keyTypeBits(t) as RsaKeySize);
  return new Promise((resolve, reject) => {
    generateKeyPair('ec', { namedCurve: t === 'p256' ? 'prime256v1' : 'secp384r1' }, (err, _pub, priv) =>
      err ? reject(err) : resolve(priv),
    );
  });
}

export function generateRsaKey(bits: RsaKeySize = DEFAULT_KEY_SIZE): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 }, (err, _pub, priv) =>
      err ? reject(err) : resolve(priv),
    );
  });
}

/** PEM of a private key: PKCS#8 ("BEGIN PRIVATE KEY", what Java and OpenSSL 3 expect) or PKCS#1 ("BEGIN RSA PRIVATE KEY"). */
export function privateKeyToPem(key: KeyObject, format: PrivateKeyFormat = 'pkcs8'): string {
  if (format === 'pkcs1' && key.asymmetricKeyType !== 'rsa') {
    throw new DbtlsError('key-format', 'PKCS#1 can only hold RSA keys');
  }
  return key.export({ type: format, format: 'pem' }) as string;
}

/** SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY"), the form MySQL's RSA key pair uses. */
export function publicKeyToPem(key: KeyObject): string {
  return createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string;
}

/**
 * Why a key did not parse, for a person: OpenSSL says "error:1E08010C:DECODER routines::unsupported"
 * for every damaged, truncated or non-key input, which tells them nothing (and differs between
 * OpenSSL versions); anything else is its first line.
 */
export function keyReadFailure(e: unknown): string {
  const err = e as { code?: string; library?: string; message?: string };
  if (err?.code === 'ERR_OSSL_UNSUPPORTED' || err?.library === 'DECODER routines') return 'truncated or garbled?';
  return String(err?.message ?? e).split('\n')[0]!;
}

export function parsePrivateKey(pem: string | Buffer, passphrase?: string): KeyObject {
  return createPrivateKey(passphrase === undefined ? { key: pem } : { key: pem, passphrase });
}

/** The SubjectPublicKeyInfo DER of a key (of a private key, its public half): the same for a key, its certificate and its CSR. */
export function spkiDer(key: KeyObject): Buffer {
  return (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' });
}

/**
 * Do two keys share one public key? Either may be private or public (a certificate's is
 * `cert.publicKey`): "does this key belong to this certificate / public_key.pem / CSR?". The
 * comparison OpenSSL's X509_check_private_key makes, on the public halves.
 */
export function sameKey(a: KeyObject, b: KeyObject): boolean {
  return spkiDer(a).equals(spkiDer(b));
}

/**
 * RFC 5280 §4.2.1.2 method 1: SHA-1 over the subjectPublicKey BIT STRING's value (without the
 * unused-bits byte). Used for subjectKeyIdentifier and, of the issuer, authorityKeyIdentifier.
 */
export function keyIdentifier(key: KeyObject): Buffer {
  const spki = spkiDer(key);
  const outer = readTlv(spki, 0);
  const [, bitString] = children(spki, outer);
  if (!bitString || bitString.tag !== 0x03) throw new Error('SPKI without a BIT STRING');
  return createHash('sha1')
    .update(spki.subarray(bitString.start + 1, bitString.end))
    .digest();
}

/**
 * PBKDF2-HMAC-SHA256 iterations for a private key encrypted at rest (the CA key): OWASP's 2023
 * guidance. OpenSSL's default, and so Node's key.export({cipher}), is 2048. Costs ~0.2 s per
 * encryption or decryption here, paid only when the CA signs. Keys written with fewer iterations
 * (dbtls before this, OpenSSL, Java) still read: the count is in the file's PBES2 parameters.
 */
export const KEY_PBKDF2_ITERATIONS = 600_000;

/**
 * PKCS#8 EncryptedPrivateKeyInfo PEM ("BEGIN ENCRYPTED PRIVATE KEY"): PBES2 with
 * PBKDF2-HMAC-SHA256 over `iterations` and AES-256-CBC, the scheme OpenSSL writes, with a
 * count Node does not let key.export() choose. OpenSSL, Node and Java read it back.
 */
export function encryptPrivateKeyPem(
  key: KeyObject,
  passphrase: string,
  iterations: number = KEY_PBKDF2_ITERATIONS,
): string {
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new RangeError(`iterations must be a positive whole number, got ${iterations}`);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const aesKey = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', aesKey, iv);
  const encrypted = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  const algorithm = seq(
    derOid('1.2.840.113549.1.5.13'), // PBES2
    seq(
      seq(
        derOid('1.2.840.113549.1.5.12'),
        seq(octetString(salt), derInteger(iterations), seq(derOid('1.2.840.113549.2.9'), nullValue())),
      ), // PBKDF2, hmacWithSHA256
      seq(derOid('2.16.840.1.101.3.4.1.42'), octetString(iv)), // aes-256-cbc
    ),
  );
  return derToPem('ENCRYPTED PRIVATE KEY', seq(algorithm, octetString(encrypted)));
}

/** A private key as PKCS#8 PEM, encrypted (encryptPrivateKeyPem) when a passphrase is given. */
export function exportPrivateKeyPem(key: KeyObject, passphrase: string | undefined): string {
  return passphrase ? encryptPrivateKeyPem(key, passphrase) : privateKeyToPem(key);
}
