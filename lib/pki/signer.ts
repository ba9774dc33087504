// What signs certificates and CRLs: a private key in memory, or (lib/pki/pkcs11.ts) a key that never
// leaves a token. Both give the same thing: the public key, the X.509 AlgorithmIdentifier of their
// signatures, and a sign() that returns the signature value as X.509 carries it (DER for ECDSA).
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { oid, sequence, nullValue } from './der.js';
import { DbtlsError } from '../errors.js';

export interface Signer {
  /** The public key its signatures verify with. */
  publicKey: KeyObject;
  /** The AlgorithmIdentifier DER of its signatures (certificate and TBS `signature` fields, CRLs). */
  algorithm: Buffer;
  /** Signs DATA (the DER of a TBSCertificate or TBSCertList). */
  sign(data: Buffer): Buffer;
}

export interface SignatureScheme {
  hash: 'sha256' | 'sha384';
  algorithm: Buffer;
}

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';

/**
 * The signature a key makes: RSA → sha256WithRSAEncryption (with NULL parameters, RFC 4055);
 * P-256 → ecdsa-with-SHA256, P-384 → ecdsa-with-SHA384 (no parameters at all, RFC 5758).
 */
export function signatureScheme(key: KeyObject): SignatureScheme {
  const pub = key.type === 'public' ? key : createPublicKey(key);
  if (pub.asymmetricKeyType === 'rsa')
    return { hash: 'sha256', algorithm: sequence(oid(SHA256_WITH_RSA), nullValue()) };
  if (pub.asymmetricKeyType === 'ec') {
    const curve = pub.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { hash: 'sha256', algorithm: sequence(oid(ECDSA_WITH_SHA256)) };
    if (curve === 'secp384r1') return { hash: 'sha384', algorithm: sequence(oid(ECDSA_WITH_SHA384)) };
    throw new DbtlsError('key-type', `the signing key is on curve ${curve}; dbtls signs with P-256 or P-384`);
  }
  throw new DbtlsError(
    'key-type',
    `the signing key is ${pub.asymmetricKeyType}; dbtls signs with RSA, P-256 or P-384 keys`,
  );
}

/** A Signer over a private key held in memory. */
export function keySigner(key: KeyObject): Signer {
  const scheme = signatureScheme(key);
  return {
    publicKey: createPublicKey(key),
    algorithm: scheme.algorithm,
    // For EC keys Node returns the DER-encoded (r, s) pair X.509 wants (dsaEncoding 'der', the default).
    sign: (data) => sign(scheme.hash, data, key),
  };
}
