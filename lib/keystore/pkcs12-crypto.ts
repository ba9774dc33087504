// The cryptography of PKCS#12 files (RFC 7292): the PKCS#12 key derivation, PBES2 and PKCS#12 PBE
// encryption and decryption, and the MAC; plus the small ASN.1 accessors they and the reader share.
// pkcs12.ts assembles and reads the file around them. forge supplies the KDF and RC2 (see there);
// Node's crypto does PBKDF2, AES, 3DES and HMAC.
import forge from 'node-forge';
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { integer as int, nullValue as nul, octetString as octets, oid, sequence as seq } from '../pki/der.js';

export type Pkcs12Algorithm = 'aes256' | '3des';

export const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  secretBag: '1.2.840.113549.1.12.10.1.5',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  /** Oracle's "trusted key usage": marks a certificate bag as a trustedCertEntry for Java. */
  oracleTrustedKeyUsage: '2.16.840.1.113894.746875.1.1',
  anyExtendedKeyUsage: '2.5.29.37.0',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeSha3Des: '1.2.840.113549.1.12.1.3',
  pbeShaRc2_128: '1.2.840.113549.1.12.1.5',
  pbeShaRc2_40: '1.2.840.113549.1.12.1.6',
  hmacWithSHA1: '1.2.840.113549.2.7',
  hmacWithSHA256: '1.2.840.113549.2.9',
  sha1: '1.3.14.3.2.26',
} as const;

/** PBKDF2 PRFs and their Node digest names. */
const PRF: Record<string, string> = {
  [OID.hmacWithSHA1]: 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  [OID.hmacWithSHA256]: 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

/** PBES2 encryption schemes: Node cipher name and key length. */
const PBES2_CIPHERS: Record<string, { cipher: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { cipher: 'des-ede3-cbc', keyLength: 24 },
};
const AES256_CBC = '2.16.840.1.101.3.4.1.42';

/** MAC digests: OID → forge digest factory and Node HMAC name. */
const MAC_DIGESTS: Record<string, { md: () => forge.md.MessageDigest; hmac: string }> = {
  [OID.sha1]: { md: () => forge.md.sha1.create(), hmac: 'sha1' },
  '2.16.840.1.101.3.4.2.1': { md: () => forge.md.sha256.create(), hmac: 'sha256' },
  '2.16.840.1.101.3.4.2.2': { md: () => forge.md.sha384.create(), hmac: 'sha384' },
  '2.16.840.1.101.3.4.2.3': { md: () => forge.md.sha512.create(), hmac: 'sha512' },
};

// forge works on "binary" strings; Buffers are converted at the edges.
export type Asn1 = forge.asn1.Asn1;
export const { Type } = forge.asn1;
export const bin = (b: Buffer): string => b.toString('binary');
export const buf = (s: string): Buffer => Buffer.from(s, 'binary');

/** PKCS#12 key derivation (RFC 7292 B.2): the password as a NUL-terminated BMPString. */
export function pkcs12Kdf(
  password: string,
  salt: Buffer,
  id: 1 | 2 | 3,
  iterations: number,
  length: number,
  md: forge.md.MessageDigest,
): Buffer {
  return buf(
    forge.pkcs12.generateKey(password, forge.util.createBuffer(bin(salt)), id, iterations, length, md).getBytes(),
  );
}

// ---- encryption ----

export interface Encrypted {
  /** The AlgorithmIdentifier, DER. */
  algorithm: Buffer;
  ciphertext: Buffer;
}

export function encrypt(plain: Buffer, password: string, algorithm: Pkcs12Algorithm, iterations: number): Encrypted {
  if (algorithm === '3des') {
    const salt = randomBytes(20);
    const key = pkcs12Kdf(password, salt, 1, iterations, 24, forge.md.sha1.create());
    const iv = pkcs12Kdf(password, salt, 2, iterations, 8, forge.md.sha1.create());
    const c = createCipheriv('des-ede3-cbc', key, iv);
    return {
      algorithm: seq(oid(OID.pbeSha3Des), seq(octets(salt), int(iterations))),
      ciphertext: Buffer.concat([c.update(plain), c.final()]),
    };
  }
  // PBES2 passwords are UTF-8 bytes (Java's PBKDF2 and OpenSSL both do so).
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const c = createCipheriv('aes-256-cbc', key, iv);
  const kdf = seq(oid(OID.pbkdf2), seq(octets(salt), int(iterations), int(32), seq(oid(OID.hmacWithSHA256), nul())));
  return {
    algorithm: seq(oid(OID.pbes2), seq(kdf, seq(oid(AES256_CBC), octets(iv)))),
    ciphertext: Buffer.concat([c.update(plain), c.final()]),
  };
}

// ---- reading ----

export function kids(a: Asn1 | undefined): Asn1[] {
  return a && Array.isArray(a.value) ? a.value : [];
}

export function oidOf(a: Asn1 | undefined): string {
  if (!a || a.type !== Type.OID || typeof a.value !== 'string') throw new Error('expected an OID');
  return forge.asn1.derToOid(a.value);
}

/** The bytes of an OCTET STRING (or [n] IMPLICIT one), joining BER's constructed chunks. */
export function bytesOf(a: Asn1 | undefined): Buffer {
  if (!a) throw new Error('missing value');
  if (typeof a.value === 'string') return buf(a.value);
  return Buffer.concat(a.value.map((c) => bytesOf(c)));
}

export function intOf(a: Asn1 | undefined): number {
  if (!a || a.type !== Type.INTEGER || typeof a.value !== 'string') throw new Error('expected an INTEGER');
  return forge.asn1.derToInteger(a.value);
}

/** The password does not fit: the MAC does not verify, or (without a MAC) decryption fails. */
export class WrongPassword extends Error {}
export const NO_DECRYPT = 'the PKCS#12 contents do not decrypt';
export class Unsupported extends Error {}

/** Decrypts PBES2 (PBKDF2 + AES/3DES) and PKCS#12 PBE (3DES, RC2: old Java, OpenSSL -legacy). */
export function decrypt(algorithm: Asn1, ciphertext: Buffer, password: string): Buffer {
  const [algOid, params] = kids(algorithm);
  const alg = oidOf(algOid);
  try {
    if (alg === OID.pbes2) {
      const [kdf, scheme] = kids(params);
      const [kdfOid, kdfParams] = kids(kdf);
      if (oidOf(kdfOid) !== OID.pbkdf2) throw new Unsupported(`key derivation ${oidOf(kdfOid)}`);
      const [salt, iter, ...optional] = kids(kdfParams);
      const prfAlg = optional.find((o) => o.type === Type.SEQUENCE);
      const prfOid = prfAlg ? oidOf(kids(prfAlg)[0]) : OID.hmacWithSHA1;
      const digest = PRF[prfOid];
      const [encOid, iv] = kids(scheme);
      const enc = PBES2_CIPHERS[oidOf(encOid)];
      if (!digest || !enc) throw new Unsupported(`PBES2 with ${prfOid} / ${oidOf(encOid)}`);
      const key = pbkdf2Sync(Buffer.from(password, 'utf8'), bytesOf(salt), intOf(iter), enc.keyLength, digest);
      const d = createDecipheriv(enc.cipher, key, bytesOf(iv));
      return Buffer.concat([d.update(ciphertext), d.final()]);
    }
    const [salt, iter] = kids(params);
    const s = bytesOf(salt);
    const n = intOf(iter);
    const kdf = (id: 1 | 2, length: number): Buffer => pkcs12Kdf(password, s, id, n, length, forge.md.sha1.create());
    if (alg === OID.pbeSha3Des) {
      const d = createDecipheriv('des-ede3-cbc', kdf(1, 24), kdf(2, 8));
      return Buffer.concat([d.update(ciphertext), d.final()]);
    }
    if (alg === OID.pbeShaRc2_40 || alg === OID.pbeShaRc2_128) {
      // RC2 is only in OpenSSL's legacy provider, which Node does not load: forge's RC2 instead.
      const bits = alg === OID.pbeShaRc2_40 ? 40 : 128;
      const c = forge.rc2.createDecryptionCipher(bin(kdf(1, bits / 8)), bits);
      c.start(bin(kdf(2, 8)));
      c.update(forge.util.createBuffer(bin(ciphertext)));
      if (!c.finish()) throw new WrongPassword(NO_DECRYPT);
      return buf(c.output.getBytes());
    }
    throw new Unsupported(`encryption ${alg}`);
  } catch (e) {
    if (e instanceof Unsupported) throw e;
    // A bad padding is what a wrong password looks like when nothing else checked it first.
    if (e instanceof WrongPassword || (e as { code?: string }).code === 'ERR_OSSL_BAD_DECRYPT')
      throw new WrongPassword(NO_DECRYPT);
    throw e;
  }
}

/** Checks the MAC; false when the store has none. Throws WrongPassword when it does not verify. */
export function verifyMac(macData: Asn1 | undefined, authSafe: Buffer, password: string): boolean {
  if (!macData) return false;
  const [digestInfo, salt, iter] = kids(macData);
  const [digestAlg, digest] = kids(digestInfo);
  const algOid = oidOf(kids(digestAlg)[0]);
  const d = MAC_DIGESTS[algOid];
  if (!d) throw new Unsupported(`MAC digest ${algOid}`);
  const expected = bytesOf(digest);
  const md = d.md();
  const key = pkcs12Kdf(password, bytesOf(salt), 3, iter ? intOf(iter) : 1, md.digestLength, md);
  const actual = createHmac(d.hmac, key).update(authSafe).digest();
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected))
    throw new WrongPassword('the PKCS#12 MAC does not verify');
  return true;
}
