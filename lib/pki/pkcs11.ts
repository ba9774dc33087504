// A CA key that lives in a PKCS#11 token (an HSM, a smart card, SoftHSM2) and never leaves it: a
// Signer whose public key is read from the token's public-key object and whose sign() asks the token,
// and the generation of such a key on the token. pkcs11js (a native addon) is an optional dependency,
// loaded only when a token is used (lib/pki/pkcs11-session.ts): users without an HSM install nothing extra.
import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { endianness } from 'node:os';
import { expectTag, oid, readOid, readTlv, sequence, TAG, tlv, valueOf } from './der.js';
import { signatureScheme, type Signer } from './signer.js';
import { DbtlsError, inputError, quoteValue } from '../errors.js';
import {
  call,
  CK,
  findKeys,
  openSession,
  type Handle,
  type Pkcs11Attribute,
  type Pkcs11Settings,
  type Session,
} from './pkcs11-session.js';

export type { Pkcs11Settings } from './pkcs11-session.js';

export interface Pkcs11Signer extends Signer {
  /** Logs out, closes the session and finalises the module (when no other signer uses it). Idempotent. */
  close(): void;
}

export type Pkcs11KeyType = 'rsa2048' | 'rsa3072' | 'rsa4096' | 'p256' | 'p384';

// ---- the public key, from the token's attributes -----------------------------------------------

const CURVES: Record<string, { crv: 'P-256' | 'P-384'; size: number }> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', size: 32 },
  '1.3.132.0.34': { crv: 'P-384', size: 48 },
};
const CURVE_OID = { p256: '1.2.840.10045.3.1.7', p384: '1.3.132.0.34' } as const;

/** A CK_ULONG attribute value, in the machine's byte order. */
function ulong(b: Buffer): number {
  const n = Math.min(b.length, 6);
  return endianness() === 'LE' ? b.readUIntLE(0, n) : b.readUIntBE(b.length - n, n);
}

const b64url = (b: Buffer): string => b.toString('base64url');
const unsigned = (b: Buffer): Buffer => {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
};

/** The public key of a public-key object: RSA from its modulus and exponent, EC from its curve and point. */
function publicKeyOf(s: Session, settings: Pkcs11Settings, object: Handle): KeyObject {
  const get = (...types: number[]) =>
    call('C_GetAttributeValue', settings, () =>
      s.api
        .C_GetAttributeValue(
          s.handle,
          object,
          types.map((type) => ({ type })),
        )
        .map((a) => a.value),
    );
  const keyType = ulong(get(CK.CKA_KEY_TYPE)[0]!);
  if (keyType === CK.CKK_RSA) {
    const [n, e] = get(CK.CKA_MODULUS, CK.CKA_PUBLIC_EXPONENT) as [Buffer, Buffer];
    return createPublicKey({ key: { kty: 'RSA', n: b64url(unsigned(n)), e: b64url(unsigned(e)) }, format: 'jwk' });
  }
  if (keyType === CK.CKK_EC) {
    const [params, point] = get(CK.CKA_EC_PARAMS, CK.CKA_EC_POINT) as [Buffer, Buffer];
    let curveOid: string;
    try {
      curveOid = readOid(params, expectTag(readTlv(params, 0), TAG.OID));
    } catch {
      throw new DbtlsError('key-type', `the key ${quoteValue(settings.label)} is on a curve not given by name`);
    }
    const curve = CURVES[curveOid];
    if (!curve)
      throw new DbtlsError(
        'key-type',
        `the key ${quoteValue(settings.label)} is on curve ${curveOid}; dbtls signs with P-256 or P-384`,
      );
    // CKA_EC_POINT is the DER OCTET STRING of the point; some tokens give the bare point.
    const raw =
      point.length === 2 * curve.size + 1 ? point : valueOf(point, expectTag(readTlv(point, 0), TAG.OCTET_STRING));
    if (raw.length !== 2 * curve.size + 1 || raw[0] !== 0x04)
      throw new DbtlsError(
        'pkcs11-failure',
        `the public key ${quoteValue(settings.label)} is not an uncompressed ${curve.crv} point`,
      );
    const x = b64url(raw.subarray(1, 1 + curve.size));
    const y = b64url(raw.subarray(1 + curve.size));
    return createPublicKey({ key: { kty: 'EC', crv: curve.crv, x, y }, format: 'jwk' });
  }
  throw new DbtlsError(
    'key-type',
    `the key ${quoteValue(settings.label)} is of PKCS#11 key type ${keyType}; dbtls signs with RSA or EC keys`,
  );
}

/** An unsigned big-endian number as a DER INTEGER: minimal (leading zeros dropped), 00 before a high bit. */
function unsignedInteger(b: Buffer): Buffer {
  const v = unsigned(b);
  return v[0]! & 0x80 ? tlv(TAG.INTEGER, Buffer.from([0]), v) : tlv(TAG.INTEGER, v);
}

/** PKCS#11's ECDSA signature (r || s, each the curve's size) as X.509 carries it: SEQUENCE { r INTEGER, s INTEGER }. */
export function ecdsaRawToDer(raw: Buffer): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new RangeError(`an ECDSA r||s signature of ${raw.length} bytes`);
  const half = raw.length / 2;
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}

// ---- the API -----------------------------------------------------------------------------------

/** A Signer over the key SETTINGS.label on the token SETTINGS.token, logged in with PIN. Close it when done. */
export function openPkcs11Signer(settings: Pkcs11Settings, pin: string): Pkcs11Signer {
  const s = openSession(settings, pin, false);
  try {
    const field = { field: 'ca.pkcs11.label' };
    const onToken = `the token ${quoteValue(settings.token)} (${settings.module})`;
    const one = (cls: number, what: string): Handle => {
      const found = findKeys(s, settings, cls);
      if (found.length > 1)
        throw inputError(
          'pkcs11-duplicate-key',
          `ca.pkcs11.label: ${onToken} has more than one ${what} labelled ${quoteValue(settings.label)}`,
          field,
          'give each key its own label (pkcs11-tool --list-objects --login shows them)',
        );
      if (found.length === 0)
        throw inputError(
          'pkcs11-no-key',
          `ca.pkcs11.label: ${onToken} has no ${what} labelled ${quoteValue(settings.label)}` +
            (cls === CK.CKO_PUBLIC_KEY
              ? ' (its private key is there: dbtls reads the public key from this object)'
              : ''),
          field,
          cls === CK.CKO_PUBLIC_KEY
            ? 'put the public key on the token beside it, with the same label (pkcs11-tool --write-object … --type pubkey)'
            : 'check the label (pkcs11-tool --list-objects --login), or generate the key on the token',
        );
      return found[0]!;
    };
    const privateKey = one(CK.CKO_PRIVATE_KEY, 'private key');
    const publicKey = publicKeyOf(s, settings, one(CK.CKO_PUBLIC_KEY, 'public key'));
    const scheme = signatureScheme(publicKey);
    const rsa = publicKey.asymmetricKeyType === 'rsa';
    const size = rsa
      ? Math.ceil((publicKey.asymmetricKeyDetails?.modulusLength ?? 4096) / 8)
      : 2 * (scheme.hash === 'sha256' ? 32 : 48);
    let closed = false;
    return {
      publicKey,
      algorithm: scheme.algorithm,
      sign(data: Buffer): Buffer {
        if (closed)
          throw new DbtlsError('pkcs11-failure', `the PKCS#11 signer for ${quoteValue(settings.label)} is closed`);
        // RSA: the token hashes (CKM_SHA256_RSA_PKCS). ECDSA: CKM_ECDSA signs a digest made here.
        const mechanism = { mechanism: rsa ? CK.CKM_SHA256_RSA_PKCS : CK.CKM_ECDSA };
        const input = rsa ? data : createHash(scheme.hash).update(data).digest();
        const signature = call('C_Sign', settings, () => {
          s.api.C_SignInit(s.handle, mechanism, privateKey);
          return Buffer.from(s.api.C_Sign(s.handle, input, Buffer.alloc(size)));
        });
        return rsa ? signature : ecdsaRawToDer(signature);
      },
      close() {
        if (closed) return;
        closed = true;
        s.close();
      },
    };
  } catch (e) {
    try {
      s.close();
    } catch {
      // the first error is the one to report
    }
    throw e;
  }
}

/**
 * Generates a key pair ON the token: both halves token objects with the label and one random CKA_ID,
 * the private one sensitive, not extractable, for signing only. Refuses a label a key already has.
 * Returns the public key.
 */
export function generatePkcs11Key(settings: Pkcs11Settings, pin: string, keyType: Pkcs11KeyType): KeyObject {
  const s = openSession(settings, pin, true);
  try {
    if (findKeys(s, settings, CK.CKO_PRIVATE_KEY).length + findKeys(s, settings, CK.CKO_PUBLIC_KEY).length > 0)
      throw inputError(
        'pkcs11-key-exists',
        `ca.pkcs11.label: the token ${quoteValue(settings.token)} already has a key labelled ${quoteValue(settings.label)}`,
        { field: 'ca.pkcs11.label' },
        'choose another label, or use the key that is there',
      );
    const rsa = keyType.startsWith('rsa');
    const common = [
      { type: CK.CKA_KEY_TYPE, value: rsa ? CK.CKK_RSA : CK.CKK_EC },
      { type: CK.CKA_TOKEN, value: true },
      { type: CK.CKA_LABEL, value: settings.label },
      { type: CK.CKA_ID, value: randomBytes(16) },
    ];
    const publicTemplate: Pkcs11Attribute[] = [
      { type: CK.CKA_CLASS, value: CK.CKO_PUBLIC_KEY },
      ...common,
      { type: CK.CKA_PRIVATE, value: false },
      { type: CK.CKA_VERIFY, value: true },
      ...(rsa
        ? [
            { type: CK.CKA_MODULUS_BITS, value: Number(keyType.slice(3)) },
            { type: CK.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
          ]
        : [{ type: CK.CKA_EC_PARAMS, value: oid(CURVE_OID[keyType as 'p256' | 'p384']) }]),
    ];
    const privateTemplate: Pkcs11Attribute[] = [
      { type: CK.CKA_CLASS, value: CK.CKO_PRIVATE_KEY },
      ...common,
      { type: CK.CKA_PRIVATE, value: true },
      { type: CK.CKA_SENSITIVE, value: true },
      { type: CK.CKA_EXTRACTABLE, value: false },
      { type: CK.CKA_SIGN, value: true },
    ];
    const mechanism = { mechanism: rsa ? CK.CKM_RSA_PKCS_KEY_PAIR_GEN : CK.CKM_EC_KEY_PAIR_GEN };
    const pair = call('C_GenerateKeyPair', settings, () =>
      s.api.C_GenerateKeyPair(s.handle, mechanism, publicTemplate, privateTemplate),
    );
    return publicKeyOf(s, settings, pair.publicKey);
  } finally {
    s.close();
  }
}
