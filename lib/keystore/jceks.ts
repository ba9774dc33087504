// JCEKS, Sun's "JCE keystore" (com.sun.crypto.provider.JceKeyStore): written here for one secret
// key (Tungsten's JGroups key, a Blowfish key under alias `jgroups`) and read in full, without Java.
//
// File layout (big-endian, like JKS; java.io.DataOutputStream conventions):
//   u32 0xCECECECE, u32 version 2, u32 entry count, entries…, 20-byte SHA-1 integrity hash
//   over (password as UTF-16BE ‖ ASCII "Mighty Aphrodite" ‖ every preceding byte).
//   entry tag 1 (private key):  alias, u64 date (ms), u32+bytes EncryptedPrivateKeyInfo, u32 n,
//                               n × (UTF "X.509", u32+bytes DER)
//   entry tag 2 (trusted cert): alias, u64 date, UTF "X.509", u32+bytes DER
//   entry tag 3 (secret key):   alias, u64 date, then a Java Object Serialization stream
//                               (AC ED 00 05 …) holding one SealedObjectForKeyProtector.
//   Aliases are "modified UTF-8" with a u16 length; JceKeyStore lower-cases them.
//
// The sealed object. JceKeyStore reads it with an ObjectInputFilter that accepts, at depth 1, only
// com.sun.crypto.provider.SealedObjectForKeyProtector, at depth 2 only javax.crypto.SealedObject
// and byte[]; the sealed content is then read under `jceks.key.serialFilter` (java.security:
// KeyRep, KeyRep$Type, Enum, SecretKeySpec; everything else rejected). keytool 17 writes exactly
// this, byte for byte (checked against `keytool -genseckey -storetype JCEKS`, see the tests):
//
//   AC ED 00 05                                   stream magic, version 5
//   73 72 "com.sun.crypto.provider.SealedObjectForKeyProtector" svuid CD57CA59E730BB53
//        flags 02 (serializable), 0 fields, 78 (end of annotations)
//      72 "javax.crypto.SealedObject" svuid 3E363DA6C3B75470, flags 02, 4 fields (sorted by name):
//        '[' encodedParams "[B"  ·  '[' encryptedContent ↩"[B"  ·  'L' paramsAlg "Ljava/lang/String;"
//        · 'L' sealAlg ↩"Ljava/lang/String;", 78, 70 (no further superclass)
//   field values, in the same order:
//     75 72 "[B" svuid ACF317F8060854E0 02 0 fields 78 70, u32 n, DER PBEParameter
//        SEQUENCE { OCTET STRING salt (8 bytes), INTEGER iterations }
//     75 ↩"[B"-class, u32 n, ciphertext
//     74 "PBEWithMD5AndTripleDES"   74 "PBEWithMD5AndTripleDES"
//   (↩ = TC_REFERENCE 71 00 7E 00 xx to an earlier handle; handles are numbered from 0x7E0000 in
//   the order objects, class descriptors and strings first appear.)
//
// The ciphertext is PBEWithMD5AndTripleDES (com.sun.crypto.provider.PBES1Core, Sun-proprietary,
// not PKCS#5): password bytes = the password's chars, which must be printable ASCII; for each half
// of the 8-byte salt, d = MD5(half ‖ pw), then d = MD5(d ‖ pw) iterations−1 more times; the two
// 16-byte digests give 32 bytes: DES-EDE3 key = bytes 0–23, CBC IV = bytes 24–31; PKCS#5 padding.
// (If the halves are equal the first is reversed first; Java refuses to encrypt with such "weak"
// salts, and so do we.) The plaintext is a second serialization stream: a
// javax.crypto.spec.SecretKeySpec { String algorithm; byte[] key }, what keytool 17 writes
// (checked: JDK 17 and 25 load ours). A KeyRep is also understood when reading.
//
// The serialization bytes (java-serialization.ts) are therefore built from constants (class names, serial version
// UIDs, field descriptors, handle numbers) with only the salt, the iteration count, the
// ciphertext, the key's algorithm name and the key bytes varying.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createSecretKey,
  randomBytes,
  timingSafeEqual,
  X509Certificate,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { inputError } from '../errors.js';
import type { ListedEntry, StoreListing } from './types.js';
import { JavaReader, JavaWriter, keystoreIntegrity } from './java-io.js';
import {
  isJObject,
  JavaDeserializer,
  serializeSealedObject,
  serializeSecretKeySpec,
  type JObject,
  type JValue,
} from './java-serialization.js';
import {
  children,
  integer,
  octetString,
  readOid,
  readSmallInteger,
  readTlv,
  sequence,
  TAG,
  valueOf,
  type Tlv,
} from '../pki/der.js';

export const JCEKS_MAGIC = 0xcececece;
const JKS_MAGIC = 0xfeedfeed;
const VERSION = 2;
const TAG_PRIVATE_KEY = 1;
const TAG_TRUSTED_CERT = 2;
const TAG_SECRET_KEY = 3;
const SHA1 = 20;
/** What JDK 17 uses (KeyProtector DEFAULT_ITERATION_COUNT; `jdk.jceks.iterationCount`). */
export const JCEKS_ITERATIONS = 200_000;
/** JceKeyStore refuses to unseal keys protected with more (KeyProtector MAX_ITERATION_COUNT). */
const MAX_ITERATIONS = 5_000_000;
const PBE_ALGORITHM = 'PBEWithMD5AndTripleDES';
/** OID of Sun's JCE KeyProtector (PBEWithMD5AndTripleDES) for private keys in JCEKS. */
const OID_JCE_KEY_PROTECTOR = '1.3.6.1.4.1.42.2.19.1';

// ---- PBEWithMD5AndTripleDES (PBES1Core, "DESede" branch) ----------------------------------------

/** PBEKey accepts only printable ASCII; the key bytes are the chars themselves. */
function pbePassword(password: string, what: string): Buffer {
  if (!/^[\x20-\x7e]*$/.test(password)) {
    throw inputError(
      'jceks-password-ascii',
      `${what}: Java's JCEKS key protection accepts only printable ASCII passwords`,
    );
  }
  return Buffer.from(password, 'latin1');
}

/** Java's PBES1Core.isWeak: refused for encryption. */
function isWeakSalt(s: Buffer): boolean {
  return s.subarray(0, 4).equals(s.subarray(4, 8)) && s[0] === s[3] && s[1] === s[2];
}

function deriveTripleDes(pw: Buffer, saltIn: Buffer, iterations: number): { key: Buffer; iv: Buffer } {
  const salt = Buffer.from(saltIn);
  if (salt.subarray(0, 4).equals(salt.subarray(4, 8))) salt.subarray(0, 4).reverse(); // "invert" the first half
  const out = Buffer.alloc(32);
  for (let half = 0; half < 2; half++) {
    let d = createHash('md5')
      .update(salt.subarray(half * 4, half * 4 + 4))
      .update(pw)
      .digest();
    for (let i = 1; i < iterations; i++) d = createHash('md5').update(d).update(pw).digest();
    d.copy(out, half * 16);
  }
  return { key: out.subarray(0, 24), iv: out.subarray(24) };
}

function pbeEncrypt(plain: Buffer, pw: Buffer, salt: Buffer, iterations: number): Buffer {
  const { key, iv } = deriveTripleDes(pw, salt, iterations);
  const c = createCipheriv('des-ede3-cbc', key, iv); // PKCS#7 padding = Java's PKCS5Padding on 8-byte blocks
  return Buffer.concat([c.update(plain), c.final()]);
}

function pbeDecrypt(cipher: Buffer, pw: Buffer, salt: Buffer, iterations: number): Buffer | undefined {
  const { key, iv } = deriveTripleDes(pw, salt, iterations);
  try {
    const d = createDecipheriv('des-ede3-cbc', key, iv);
    return Buffer.concat([d.update(cipher), d.final()]);
  } catch {
    return undefined; // bad padding: the wrong password (most of the time)
  }
}

// ---- PBEParameter (DER, pki/der.ts) ------------------------------------------------------------

/** PKCS#5 PBEParameter ::= SEQUENCE { salt OCTET STRING (8), iterationCount INTEGER }. */
function pbeParameter(salt: Buffer, iterations: number): Buffer {
  return sequence(octetString(salt), integer(iterations));
}

/** The salt and iteration count of a PBEParameter at `t` in `b`; undefined when it is not one. */
function parsePbeParameter(b: Buffer, t: Tlv = readTlv(b, 0)): { salt: Buffer; iterations: number } | undefined {
  try {
    if (t.tag !== TAG.SEQUENCE) return undefined;
    const [salt, iter] = children(b, t);
    if (!salt || salt.tag !== TAG.OCTET_STRING || salt.end - salt.start !== 8 || !iter || iter.end - iter.start > 6)
      return undefined;
    return { salt: valueOf(b, salt), iterations: readSmallInteger(b, iter) };
  } catch {
    return undefined;
  }
}

// ---- writing ----------------------------------------------------------------------------------

export interface JceksSecretKeyInput {
  /** Stored lower-cased, as JceKeyStore does. Tungsten: `jgroups`. */
  alias: string;
  /** The Java key algorithm name, e.g. `Blowfish` (Tungsten's JGroups key). */
  algorithm: 'Blowfish' | 'AES' | 'DESede' | 'HmacSHA256' | (string & {});
  /** The raw key bytes (SecretKey.getEncoded()). */
  key: Buffer;
  /** Store password; the key password is the same (Tungsten and tpm use one password). */
  password: string;
  /** Entry creation date; default now. */
  date?: Date;
  /** PBE iteration count; default 200000, what JDK 17 writes. */
  iterations?: number;
  /** Salt for the key protection, 8 bytes; random by default (for tests). */
  salt?: Buffer;
}

/** A fresh random Blowfish key, 56 bits by default (`keytool -genseckey -keyalg Blowfish -keysize 56`). */
export function generateBlowfishKey(bits = 56): Buffer {
  if (!Number.isInteger(bits) || bits % 8 !== 0 || bits < 32 || bits > 448) {
    throw inputError('blowfish-key-size', `a Blowfish key has 32 to 448 bits in steps of 8, not ${bits}`);
  }
  return randomBytes(bits / 8);
}

/** A JCEKS keystore holding one secret key entry, as `keytool -genseckey -storetype JCEKS` writes it. */
export function writeJceksSecretKey(input: JceksSecretKeyInput): Buffer {
  const what = 'the JCEKS keystore';
  const alias = input.alias.toLowerCase();
  if (alias.length === 0) throw inputError('jceks-alias', `${what}: the alias is empty`);
  if (!/^[\x20-\x7e]+$/.test(input.algorithm))
    throw inputError('jceks-algorithm', `${what}: "${input.algorithm}" is not a Java key algorithm name`);
  if (input.key.length === 0) throw inputError('jceks-key', `${what}: the secret key is empty`);
  if (input.algorithm === 'Blowfish' && (input.key.length < 4 || input.key.length > 56)) {
    throw inputError('blowfish-key-size', `${what}: a Blowfish key has 4 to 56 bytes, not ${input.key.length}`);
  }
  if (input.password.length === 0) throw inputError('jceks-password', `${what}: the password is empty`);
  const pw = pbePassword(input.password, what);
  const iterations = input.iterations ?? JCEKS_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw inputError('jceks-iterations', `${what}: the iteration count must be 1 to ${MAX_ITERATIONS}`);
  }
  let salt = input.salt;
  if (salt) {
    if (salt.length !== 8 || isWeakSalt(salt))
      throw inputError('jceks-salt', `${what}: the salt must be 8 bytes and not "weak"`);
  } else {
    do salt = randomBytes(8);
    while (salt.subarray(0, 4).equals(salt.subarray(4, 8)));
  }

  const plain = serializeSecretKeySpec(input.algorithm, input.key);
  const sealed = serializeSealedObject(
    pbeParameter(salt, iterations),
    pbeEncrypt(plain, pw, salt, iterations),
    PBE_ALGORITHM,
  );
  const body = new JavaWriter()
    .u32(JCEKS_MAGIC)
    .u32(VERSION)
    .u32(1)
    .u32(TAG_SECRET_KEY)
    .utf(alias)
    .long((input.date ?? new Date()).getTime())
    .bytes(sealed)
    .toBuffer();
  return Buffer.concat([body, keystoreIntegrity(input.password, body)]);
}

// ---- reading ----------------------------------------------------------------------------------

export interface JceksReadOptions {
  /** Checks the integrity hash; without it the entries are listed unverified (as keytool does). */
  storepass?: string;
  /** Decrypts key entries (default: the store password). */
  keypass?: string;
  /**
   * false: list the entries without recovering private keys or unsealing secret keys (the sealed
   * object is still parsed). The integrity hash is still checked when storepass is given. Unsealing
   * is the expensive part of reading a JCEKS store: 2 × the iteration count (200,000) MD5 rounds.
   */
  decryptKeys?: boolean;
}

export function isJceks(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt32BE(0) === JCEKS_MAGIC;
}

/** Unseals a secret key entry's SealedObject: the SecretKeySpec's algorithm and bytes. */
function unsealSecretKey(sealed: JObject, keypass: string, what: string): { algorithm: string; key: Buffer } {
  const params = sealed.fields.get('encodedParams');
  const content = sealed.fields.get('encryptedContent');
  const sealAlg = sealed.fields.get('sealAlg');
  if (!Buffer.isBuffer(params) || !Buffer.isBuffer(content))
    throw inputError('jceks-entry', `${what}: a secret key entry has no sealed content`);
  if (typeof sealAlg === 'string' && sealAlg.toLowerCase() !== PBE_ALGORITHM.toLowerCase()) {
    throw inputError('jceks-key-algorithm', `${what}: a secret key is sealed with ${sealAlg}, not ${PBE_ALGORITHM}`);
  }
  const pbe = parsePbeParameter(params);
  if (!pbe || pbe.iterations < 1 || pbe.iterations > MAX_ITERATIONS)
    throw inputError('jceks-entry', `${what}: a secret key entry has bad PBE parameters`);
  const plain = pbeDecrypt(content, pbePassword(keypass, what), pbe.salt, pbe.iterations);
  const wrong = () =>
    inputError('jceks-key-password', `${what}: the key password is wrong (a secret key entry does not decrypt)`);
  if (!plain) throw wrong();
  let spec: JValue;
  try {
    spec = new JavaDeserializer(plain, 0, what).readStream();
  } catch {
    throw wrong();
  }
  if (!isJObject(spec)) throw wrong();
  if (spec.className === 'java.security.KeyRep') {
    // KeyRep(SECRET, algorithm, "RAW", encoded): what a key's writeReplace may give.
    const algorithm = spec.fields.get('algorithm');
    const encoded = spec.fields.get('encoded');
    if (typeof algorithm === 'string' && Buffer.isBuffer(encoded)) return { algorithm, key: encoded };
  }
  const algorithm = spec.fields.get('algorithm');
  const key = spec.fields.get('key');
  if (typeof algorithm !== 'string' || !Buffer.isBuffer(key)) {
    throw inputError('jceks-entry', `${what}: the sealed key is a ${spec.className}, not a SecretKeySpec`);
  }
  return { algorithm, key };
}

/** Decrypts a JCEKS private-key entry (EncryptedPrivateKeyInfo under Sun's JCE KeyProtector). */
function recoverPrivateKey(epki: Buffer, keypass: string, what: string): KeyObject | undefined {
  const bad = () => inputError('jceks-entry', `${what}: a private key entry is malformed`);
  let algorithm: string;
  let params: Tlv | undefined;
  let data: Tlv;
  try {
    const [alg, d] = children(epki, readTlv(epki, 0));
    const [oid, p] = alg && alg.tag === TAG.SEQUENCE ? children(epki, alg) : [];
    if (!d || d.tag !== TAG.OCTET_STRING) throw bad();
    algorithm = readOid(epki, oid!);
    [params, data] = [p, d];
  } catch {
    throw bad();
  }
  // Other protectors (the JDK 1.2 one, from converted JKS files) are listed without their key.
  if (algorithm !== OID_JCE_KEY_PROTECTOR) return undefined;
  const p = params && parsePbeParameter(epki, params);
  if (!p || p.iterations > MAX_ITERATIONS) throw bad();
  const plain = pbeDecrypt(valueOf(epki, data), pbePassword(keypass, what), p.salt, p.iterations);
  if (!plain)
    throw inputError('jceks-key-password', `${what}: the key password is wrong (a private key entry does not decrypt)`);
  try {
    return createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' });
  } catch {
    throw inputError('jceks-key-password', `${what}: the key password is wrong (a private key entry does not decrypt)`);
  }
}

/**
 * Lists a JCEKS keystore: aliases, entry kinds and dates, certificates; with a password, checks the
 * integrity hash and decrypts the keys (secret keys: algorithm and bytes as a secret KeyObject).
 */
export function readJceks(buf: Buffer, opts: JceksReadOptions | string = {}, what = 'the keystore'): StoreListing {
  const o: JceksReadOptions = typeof opts === 'string' ? { storepass: opts } : opts;
  if (!isJceks(buf)) {
    if (buf.length >= 4 && buf.readUInt32BE(0) === JKS_MAGIC)
      throw inputError('not-jceks', `${what} is a JKS keystore, not JCEKS`);
    throw inputError('not-jceks', `${what} is not a JCEKS keystore`);
  }
  if (buf.length < 12 + SHA1) throw inputError('truncated', `${what} is truncated`);
  const body = buf.subarray(0, buf.length - SHA1);
  let verified = false;
  if (o.storepass !== undefined) {
    if (!timingSafeEqual(keystoreIntegrity(o.storepass, body), buf.subarray(buf.length - SHA1))) {
      throw inputError(
        'keystore-password',
        `the keystore password is wrong, or ${what} was tampered with (the JCEKS integrity check fails)`,
      );
    }
    verified = true;
  }
  const r = new JavaReader(body, what, { format: 'a JCEKS keystore', offset: 4 });
  const version = r.u32();
  if (version !== 1 && version !== 2)
    throw inputError('jceks-version', `${what}: unsupported JCEKS version ${version}`);
  const certOf = () => {
    const type = version === 2 ? r.utf() : 'X.509';
    if (type !== 'X.509') throw inputError('jceks-cert-type', `${what}: certificate type ${type} is not supported`);
    return new X509Certificate(r.block());
  };
  const count = r.u32();
  const keypass = o.decryptKeys === false ? undefined : (o.keypass ?? o.storepass);
  const entries: ListedEntry[] = [];
  for (let i = 0; i < count; i++) {
    const tag = r.u32();
    const alias = r.utf();
    const date = new Date(r.long());
    if (tag === TAG_PRIVATE_KEY) {
      const protectedKey = r.block();
      const n = r.u32();
      const certificates = Array.from({ length: n }, certOf);
      const key = keypass !== undefined ? recoverPrivateKey(protectedKey, keypass, what) : undefined;
      entries.push({ alias, kind: 'private-key', date, certificates, ...(key ? { key } : {}) });
    } else if (tag === TAG_TRUSTED_CERT) {
      entries.push({ alias, kind: 'trusted-cert', date, certificates: [certOf()] });
    } else if (tag === TAG_SECRET_KEY) {
      const de = new JavaDeserializer(body, r.offset, what);
      const sealed = de.readStream();
      r.offset = de.offset;
      if (!isJObject(sealed) || !sealed.fields.has('encryptedContent')) {
        throw inputError('jceks-entry', `${what}: secret key entry "${alias}" does not hold a SealedObject`);
      }
      const entry: ListedEntry = { alias, kind: 'secret-key', date, certificates: [] };
      if (keypass !== undefined) {
        const { algorithm, key } = unsealSecretKey(sealed, keypass, what);
        entry.algorithm = algorithm;
        entry.key = createSecretKey(key);
      }
      entries.push(entry);
    } else {
      throw inputError('jceks-entry', `${what}: unknown JCEKS entry type ${tag}`);
    }
  }
  if (r.offset !== body.length) throw inputError('jceks-trailing', `${what}: unexpected bytes after the last entry`);
  return { type: 'jceks', entries, verified };
}
