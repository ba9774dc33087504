// RSA keys from Node's native crypto. generateKeyPair runs on libuv's thread pool, so keys started
// together are made in parallel on every core.
import { generateKeyPair, createPrivateKey, createPublicKey, createHash, type KeyObject } from 'node:crypto';
import { readTlv, children } from './der.js';
import { DbtlsError } from '../errors.js';

export const RSA_KEY_SIZES = [2048, 3072, 4096] as const;
export type RsaKeySize = (typeof RSA_KEY_SIZES)[number];
export const DEFAULT_KEY_SIZE: RsaKeySize = 2048;

export type PrivateKeyFormat = 'pkcs8' | 'pkcs1';

export function isRsaKeySize(n: number): n is RsaKeySize {
  return (RSA_KEY_SIZES as readonly number[]).includes(n);
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

export function parsePrivateKey(pem: string | Buffer, passphrase?: string): KeyObject {
  return createPrivateKey(passphrase === undefined ? { key: pem } : { key: pem, passphrase });
}

/**
 * RFC 5280 §4.2.1.2 method 1: SHA-1 over the subjectPublicKey BIT STRING's value (without the
 * unused-bits byte). Used for subjectKeyIdentifier and, of the issuer, authorityKeyIdentifier.
 */
export function keyIdentifier(key: KeyObject): Buffer {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const outer = readTlv(spki, 0);
  const [, bitString] = children(spki, outer);
  if (!bitString || bitString.tag !== 0x03) throw new Error('SPKI without a BIT STRING');
  return createHash('sha1').update(spki.subarray(bitString.start + 1, bitString.end)).digest();
}
