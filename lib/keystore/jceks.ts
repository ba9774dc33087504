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
// The serialization bytes below are therefore built from constants (class names, serial version
// UIDs, field descriptors, handle numbers) with only the salt, the iteration count, the
// ciphertext, the key's algorithm name and the key bytes varying.
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createSecretKey, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { DbtlsError, inputError } from '../errors.js';
import type { ListedEntry, StoreListing } from './types.js';
import { decodeModifiedUtf8, encodeModifiedUtf8, keystoreIntegrity } from './java-io.js';

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

// ---- Java Object Serialization Stream Protocol constants -------------------------------------
const STREAM_MAGIC = 0xaced;
const STREAM_VERSION = 5;
const TC_NULL = 0x70;
const TC_REFERENCE = 0x71;
const TC_CLASSDESC = 0x72;
const TC_OBJECT = 0x73;
const TC_STRING = 0x74;
const TC_ARRAY = 0x75;
const TC_CLASS = 0x76;
const TC_BLOCKDATA = 0x77;
const TC_ENDBLOCKDATA = 0x78;
const TC_LONGSTRING = 0x7c;
const TC_PROXYCLASSDESC = 0x7d;
const TC_ENUM = 0x7e;
const TC_BLOCKDATALONG = 0x7a;
const BASE_HANDLE = 0x7e0000;
/** How deep objects may nest in a sealed key (keytool's are 3 levels deep). */
const MAX_SERIAL_DEPTH = 64;
const SC_WRITE_METHOD = 0x01;
const SC_SERIALIZABLE = 0x02;
const SC_EXTERNALIZABLE = 0x04;

const SVUID_SEALED_FOR_KEY_PROTECTOR = 'cd57ca59e730bb53'; // -3650226485480866989L
const SVUID_SEALED_OBJECT = '3e363da6c3b75470'; // 4482838265551344752L
const SVUID_BYTE_ARRAY = 'acf317f8060854e0'; // byte[]
const SVUID_SECRET_KEY_SPEC = '5b470b66e230614d'; // 6577238317307289933L

// ---- small byte helpers -----------------------------------------------------------------------

/** Java's "modified UTF-8" (DataOutputStream.writeUTF without the length). */
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

/** DataOutputStream.writeUTF: u16 length, modified UTF-8. */
function utf(s: string): Buffer {
  const body = encodeModifiedUtf8(s);
  if (body.length > 0xffff) throw new DbtlsError('jceks-string', 'a string is too long for a Java keystore', { kind: 'input' });
  return Buffer.concat([u16(body.length), body]);
}

// ---- PBEWithMD5AndTripleDES (PBES1Core, "DESede" branch) ----------------------------------------

/** PBEKey accepts only printable ASCII; the key bytes are the chars themselves. */
function pbePassword(password: string, what: string): Buffer {
  if (!/^[\x20-\x7e]*$/.test(password)) {
    throw inputError('jceks-password-ascii', `${what}: Java's JCEKS key protection accepts only printable ASCII passwords`);
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
    let d = createHash('md5').update(salt.subarray(half * 4, half * 4 + 4)).update(pw).digest();
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

// ---- minimal DER (PBEParameter, EncryptedPrivateKeyInfo) --------------------------------------

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

function derInteger(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
  return der(0x02, Buffer.from(bytes));
}

/** PKCS#5 PBEParameter ::= SEQUENCE { salt OCTET STRING (8), iterationCount INTEGER }. */
function pbeParameter(salt: Buffer, iterations: number): Buffer {
  return der(0x30, Buffer.concat([der(0x04, salt), derInteger(iterations)]));
}

interface Tlv {
  tag: number;
  body: Buffer;
  end: number;
}

function readTlv(b: Buffer, at: number): Tlv | undefined {
  if (at + 2 > b.length) return undefined;
  const tag = b[at]!;
  let len = b[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > b.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i]!;
    p += n;
  }
  if (p + len > b.length) return undefined;
  return { tag, body: b.subarray(p, p + len), end: p + len };
}

function children(b: Buffer): Tlv[] | undefined {
  const out: Tlv[] = [];
  for (let at = 0; at < b.length; ) {
    const t = readTlv(b, at);
    if (!t) return undefined;
    out.push(t);
    at = t.end;
  }
  return out;
}

function parsePbeParameter(b: Buffer): { salt: Buffer; iterations: number } | undefined {
  const seq = readTlv(b, 0);
  if (!seq || seq.tag !== 0x30) return undefined;
  const [salt, iter] = children(seq.body) ?? [];
  if (!salt || salt.tag !== 0x04 || salt.body.length !== 8 || !iter || iter.tag !== 0x02 || iter.body.length > 6) return undefined;
  const iterations = iter.body.reduce((v, x) => v * 256 + x, 0);
  return { salt: salt.body, iterations };
}

function decodeOid(b: Buffer): string {
  const parts = [Math.floor(b[0]! / 40), b[0]! % 40];
  let v = 0;
  for (const x of b.subarray(1)) {
    v = v * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

// ---- Java serialization: writing the two fixed shapes -----------------------------------------

/** TC_STRING with its modified-UTF-8 body (strings in these streams are short). */
function jString(s: string): Buffer {
  return Buffer.concat([Buffer.from([TC_STRING]), utf(s)]);
}

function jRef(handle: number): Buffer {
  return Buffer.concat([Buffer.from([TC_REFERENCE]), u32(BASE_HANDLE + handle)]);
}

/** TC_CLASSDESC "[B" (byte[]), no fields, no annotations, no superclass. */
const BYTE_ARRAY_CLASSDESC = Buffer.concat([
  Buffer.from([TC_CLASSDESC]),
  utf('[B'),
  Buffer.from(SVUID_BYTE_ARRAY, 'hex'),
  Buffer.from([SC_SERIALIZABLE]),
  u16(0),
  Buffer.from([TC_ENDBLOCKDATA, TC_NULL]),
]);

const STREAM_HEADER = Buffer.concat([u16(STREAM_MAGIC), u16(STREAM_VERSION)]);

/** new ObjectOutputStream(…).writeObject(new SecretKeySpec(key, algorithm)). */
export function serializeSecretKeySpec(algorithm: string, key: Buffer): Buffer {
  // handles: 0 class SecretKeySpec, 1 "Ljava/lang/String;", 2 "[B", 3 the object, 4 algorithm, 5 [B class, 6 the array
  return Buffer.concat([
    STREAM_HEADER,
    Buffer.from([TC_OBJECT, TC_CLASSDESC]),
    utf('javax.crypto.spec.SecretKeySpec'),
    Buffer.from(SVUID_SECRET_KEY_SPEC, 'hex'),
    Buffer.from([SC_SERIALIZABLE]),
    u16(2),
    Buffer.from('L', 'latin1'), utf('algorithm'), jString('Ljava/lang/String;'),
    Buffer.from('[', 'latin1'), utf('key'), jString('[B'),
    Buffer.from([TC_ENDBLOCKDATA, TC_NULL]),
    jString(algorithm),
    Buffer.from([TC_ARRAY]), BYTE_ARRAY_CLASSDESC, u32(key.length), key,
  ]);
}

/** new ObjectOutputStream(…).writeObject(sealedObjectForKeyProtector), as KeyProtector.seal makes it. */
function serializeSealedObject(encodedParams: Buffer, encryptedContent: Buffer): Buffer {
  // handles: 0 class SealedObjectForKeyProtector, 1 class SealedObject, 2 "[B", 3 "Ljava/lang/String;",
  // 4 the object, 5 [B class, 6 encodedParams, 7 encryptedContent, 8 and 9 the two algorithm strings
  return Buffer.concat([
    STREAM_HEADER,
    Buffer.from([TC_OBJECT, TC_CLASSDESC]),
    utf('com.sun.crypto.provider.SealedObjectForKeyProtector'),
    Buffer.from(SVUID_SEALED_FOR_KEY_PROTECTOR, 'hex'),
    Buffer.from([SC_SERIALIZABLE]),
    u16(0),
    Buffer.from([TC_ENDBLOCKDATA, TC_CLASSDESC]),
    utf('javax.crypto.SealedObject'),
    Buffer.from(SVUID_SEALED_OBJECT, 'hex'),
    Buffer.from([SC_SERIALIZABLE]),
    u16(4),
    Buffer.from('[', 'latin1'), utf('encodedParams'), jString('[B'),
    Buffer.from('[', 'latin1'), utf('encryptedContent'), jRef(2),
    Buffer.from('L', 'latin1'), utf('paramsAlg'), jString('Ljava/lang/String;'),
    Buffer.from('L', 'latin1'), utf('sealAlg'), jRef(3),
    Buffer.from([TC_ENDBLOCKDATA, TC_NULL]),
    Buffer.from([TC_ARRAY]), BYTE_ARRAY_CLASSDESC, u32(encodedParams.length), encodedParams,
    Buffer.from([TC_ARRAY]), jRef(5), u32(encryptedContent.length), encryptedContent,
    jString(PBE_ALGORITHM),
    jString(PBE_ALGORITHM),
  ]);
}

// ---- Java serialization: a small reader -----------------------------------------------------

interface JClassDesc {
  name: string;
  flags: number;
  fields: { type: string; name: string }[];
  superDesc: JClassDesc | null;
}

interface JObject {
  className: string;
  /** Field values of the class and its superclasses, by field name. */
  fields: Map<string, JValue>;
}

type JValue = null | string | number | bigint | boolean | Buffer | JValue[] | JObject | JClassDesc;

const PRIMITIVE_SIZES: Record<string, number> = { B: 1, C: 2, D: 8, F: 4, I: 4, J: 8, S: 2, Z: 1 };

/**
 * Reads one object from a Java serialization stream: enough of the protocol for what keystores
 * hold (objects, class descriptors, strings, arrays, enums, back-references, annotations).
 */
class JavaDeserializer {
  offset: number;
  private handles: JValue[] = [];
  /** Nesting of content(): what keystores hold is a few levels deep; a hostile file must not exhaust the stack. */
  private depth = 0;

  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly what: string,
  ) {
    this.offset = start;
  }

  private fail(msg: string): never {
    throw inputError('jceks-serialization', `${this.what}: ${msg}`);
  }

  private take(n: number): Buffer {
    if (this.offset + n > this.buf.length) this.fail('the serialized key is truncated');
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }

  private u8(): number {
    return this.take(1)[0]!;
  }

  private u16(): number {
    return this.take(2).readUInt16BE();
  }

  private u32(): number {
    return this.take(4).readUInt32BE();
  }

  private utf(): string {
    return decodeModifiedUtf8(this.take(this.u16()));
  }

  readStream(): JValue {
    if (this.u16() !== STREAM_MAGIC || this.u16() !== STREAM_VERSION) this.fail('the secret key entry is not a Java serialization stream');
    return this.content();
  }

  private assign(v: JValue): number {
    this.handles.push(v);
    return this.handles.length - 1;
  }

  private content(): JValue {
    if (++this.depth > MAX_SERIAL_DEPTH) this.fail(`the serialized key nests deeper than ${MAX_SERIAL_DEPTH} levels`);
    try {
      return this.element();
    } finally {
      this.depth--;
    }
  }

  private element(): JValue {
    const tc = this.u8();
    switch (tc) {
      case TC_NULL:
        return null;
      case TC_REFERENCE: {
        const h = this.u32() - BASE_HANDLE;
        if (h < 0 || h >= this.handles.length) this.fail('a serialization back-reference points nowhere');
        return this.handles[h]!;
      }
      case TC_STRING:
      case TC_LONGSTRING: {
        const len = tc === TC_STRING ? this.u16() : Number(this.take(8).readBigUInt64BE());
        const s = decodeModifiedUtf8(this.take(len));
        this.assign(s);
        return s;
      }
      case TC_CLASSDESC:
        return this.classDescBody();
      case TC_OBJECT:
        return this.object();
      case TC_ARRAY:
        return this.array();
      case TC_ENUM: {
        const desc = this.classDesc();
        const h = this.assign(null);
        const name = this.content();
        const v: JObject = { className: desc?.name ?? '?', fields: new Map([['name', name]]) };
        this.handles[h] = v;
        return v;
      }
      case TC_CLASS: {
        const desc = this.classDesc();
        this.assign(desc);
        return desc;
      }
      default:
        return this.fail(`unsupported serialization element 0x${tc.toString(16)}`);
    }
  }

  private classDesc(): JClassDesc | null {
    const tc = this.u8();
    if (tc === TC_NULL) return null;
    if (tc === TC_CLASSDESC) return this.classDescBody();
    if (tc === TC_REFERENCE) {
      this.offset -= 1;
      const v = this.content();
      if (v && typeof v === 'object' && 'superDesc' in v) return v;
      return this.fail('a serialization reference is not a class descriptor');
    }
    if (tc === TC_PROXYCLASSDESC) this.fail('proxy classes are not expected in a keystore');
    return this.fail(`unexpected element 0x${tc.toString(16)} where a class descriptor belongs`);
  }

  private classDescBody(): JClassDesc {
    const name = this.utf();
    this.take(8); // serialVersionUID
    const desc: JClassDesc = { name, flags: 0, fields: [], superDesc: null };
    this.assign(desc);
    desc.flags = this.u8();
    const n = this.u16();
    for (let i = 0; i < n; i++) {
      const type = String.fromCharCode(this.u8());
      const fname = this.utf();
      if (type === 'L' || type === '[') {
        const cls = this.content();
        if (typeof cls !== 'string') this.fail('a field descriptor has no class name');
      } else if (!(type in PRIMITIVE_SIZES)) {
        this.fail(`unknown field type ${type}`);
      }
      desc.fields.push({ type, name: fname });
    }
    this.annotations();
    desc.superDesc = this.classDesc();
    return desc;
  }

  /** Class annotations and writeObject extras: block data and objects up to TC_ENDBLOCKDATA. */
  private annotations(): void {
    for (;;) {
      const tc = this.buf[this.offset];
      if (tc === undefined) this.fail('the serialized key is truncated');
      if (tc === TC_ENDBLOCKDATA) {
        this.offset += 1;
        return;
      }
      if (tc === TC_BLOCKDATA) {
        this.offset += 1;
        this.take(this.u8());
      } else if (tc === TC_BLOCKDATALONG) {
        this.offset += 1;
        this.take(this.u32());
      } else {
        this.content();
      }
    }
  }

  private primitive(type: string): number | bigint | boolean {
    const b = this.take(PRIMITIVE_SIZES[type]!);
    switch (type) {
      case 'B':
        return b.readInt8();
      case 'C':
      case 'S':
        return type === 'C' ? b.readUInt16BE() : b.readInt16BE();
      case 'I':
        return b.readInt32BE();
      case 'F':
        return b.readFloatBE();
      case 'D':
        return b.readDoubleBE();
      case 'J':
        return b.readBigInt64BE();
      default:
        return b[0] !== 0;
    }
  }

  private object(): JObject {
    const desc = this.classDesc();
    if (!desc) return this.fail('an object without a class');
    if (desc.flags & SC_EXTERNALIZABLE) this.fail(`${desc.name} is externalizable, which a keystore never holds`);
    const obj: JObject = { className: desc.name, fields: new Map() };
    this.assign(obj);
    const chain: JClassDesc[] = [];
    for (let d: JClassDesc | null = desc; d; d = d.superDesc) chain.unshift(d);
    for (const d of chain) {
      for (const f of d.fields) obj.fields.set(f.name, f.type === 'L' || f.type === '[' ? this.content() : this.primitive(f.type));
      if (d.flags & SC_WRITE_METHOD) this.annotations();
    }
    return obj;
  }

  private array(): JValue {
    const desc = this.classDesc();
    if (!desc || !desc.name.startsWith('[')) return this.fail('an array without an array class');
    const h = this.assign(null);
    const n = this.u32();
    const component = desc.name[1]!;
    let v: JValue;
    if (component === 'B') {
      v = Buffer.from(this.take(n));
    } else if (component in PRIMITIVE_SIZES) {
      v = Array.from({ length: n }, () => this.primitive(component));
    } else {
      v = Array.from({ length: n }, () => this.content());
    }
    this.handles[h] = v;
    return v;
  }
}

function isJObject(v: JValue | undefined): v is JObject {
  return !!v && typeof v === 'object' && 'className' in v;
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
  if (!/^[\x20-\x7e]+$/.test(input.algorithm)) throw inputError('jceks-algorithm', `${what}: "${input.algorithm}" is not a Java key algorithm name`);
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
    if (salt.length !== 8 || isWeakSalt(salt)) throw inputError('jceks-salt', `${what}: the salt must be 8 bytes and not "weak"`);
  } else {
    do salt = randomBytes(8);
    while (salt.subarray(0, 4).equals(salt.subarray(4, 8)));
  }

  const sealed = serializeSealedObject(pbeParameter(salt, iterations), pbeEncrypt(serializeSecretKeySpec(input.algorithm, input.key), pw, salt, iterations));
  const body = Buffer.concat([
    u32(JCEKS_MAGIC),
    u32(VERSION),
    u32(1),
    u32(TAG_SECRET_KEY),
    utf(alias),
    u64((input.date ?? new Date()).getTime()),
    sealed,
  ]);
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
  if (!Buffer.isBuffer(params) || !Buffer.isBuffer(content)) throw inputError('jceks-entry', `${what}: a secret key entry has no sealed content`);
  if (typeof sealAlg === 'string' && sealAlg.toLowerCase() !== PBE_ALGORITHM.toLowerCase()) {
    throw inputError('jceks-key-algorithm', `${what}: a secret key is sealed with ${sealAlg}, not ${PBE_ALGORITHM}`);
  }
  const pbe = parsePbeParameter(params);
  if (!pbe || pbe.iterations < 1 || pbe.iterations > MAX_ITERATIONS) throw inputError('jceks-entry', `${what}: a secret key entry has bad PBE parameters`);
  const plain = pbeDecrypt(content, pbePassword(keypass, what), pbe.salt, pbe.iterations);
  const wrong = () => inputError('jceks-key-password', `${what}: the key password is wrong (a secret key entry does not decrypt)`);
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
  const seq = readTlv(epki, 0);
  const [alg, data] = (seq && seq.tag === 0x30 && children(seq.body)) || [];
  const [oid, params] = (alg && alg.tag === 0x30 && children(alg.body)) || [];
  if (!oid || oid.tag !== 0x06 || !data || data.tag !== 0x04) throw bad();
  // Other protectors (the JDK 1.2 one, from converted JKS files) are listed without their key.
  if (decodeOid(oid.body) !== OID_JCE_KEY_PROTECTOR) return undefined;
  const p = params && parsePbeParameter(der(params.tag, params.body));
  if (!p || p.iterations > MAX_ITERATIONS) throw bad();
  const plain = pbeDecrypt(data.body, pbePassword(keypass, what), p.salt, p.iterations);
  if (!plain) throw inputError('jceks-key-password', `${what}: the key password is wrong (a private key entry does not decrypt)`);
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
    if (buf.length >= 4 && buf.readUInt32BE(0) === JKS_MAGIC) throw inputError('not-jceks', `${what} is a JKS keystore, not JCEKS`);
    throw inputError('not-jceks', `${what} is not a JCEKS keystore`);
  }
  if (buf.length < 12 + SHA1) throw inputError('truncated', `${what} is truncated`);
  const body = buf.subarray(0, buf.length - SHA1);
  let verified = false;
  if (o.storepass !== undefined) {
    if (!timingSafeEqual(keystoreIntegrity(o.storepass, body), buf.subarray(buf.length - SHA1))) {
      throw inputError('keystore-password', `the keystore password is wrong, or ${what} was tampered with (the JCEKS integrity check fails)`);
    }
    verified = true;
  }
  let at = 4;
  const need = (n: number) => {
    if (at + n > body.length) throw inputError('truncated', `${what} is truncated or not a JCEKS keystore`);
  };
  const readU32 = () => (need(4), (at += 4), body.readUInt32BE(at - 4));
  const readU64 = () => (need(8), (at += 8), Number(body.readBigInt64BE(at - 8)));
  const readUtf = () => {
    need(2);
    const n = body.readUInt16BE(at);
    need(2 + n);
    at += 2 + n;
    return decodeModifiedUtf8(body.subarray(at - n, at));
  };
  const readBlock = () => {
    const n = readU32();
    need(n);
    at += n;
    return body.subarray(at - n, at);
  };

  const version = readU32();
  if (version !== 1 && version !== 2) throw inputError('jceks-version', `${what}: unsupported JCEKS version ${version}`);
  const certOf = () => {
    const type = version === 2 ? readUtf() : 'X.509';
    if (type !== 'X.509') throw inputError('jceks-cert-type', `${what}: certificate type ${type} is not supported`);
    return new X509Certificate(readBlock());
  };
  const count = readU32();
  const keypass = o.decryptKeys === false ? undefined : (o.keypass ?? o.storepass);
  const entries: ListedEntry[] = [];
  for (let i = 0; i < count; i++) {
    const tag = readU32();
    const alias = readUtf();
    const date = new Date(readU64());
    if (tag === TAG_PRIVATE_KEY) {
      const protectedKey = readBlock();
      const n = readU32();
      const certificates = Array.from({ length: n }, certOf);
      const key = keypass !== undefined ? recoverPrivateKey(protectedKey, keypass, what) : undefined;
      entries.push({ alias, kind: 'private-key', date, certificates, ...(key ? { key } : {}) });
    } else if (tag === TAG_TRUSTED_CERT) {
      entries.push({ alias, kind: 'trusted-cert', date, certificates: [certOf()] });
    } else if (tag === TAG_SECRET_KEY) {
      const de = new JavaDeserializer(body, at, what);
      const sealed = de.readStream();
      at = de.offset;
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
  if (at !== body.length) throw inputError('jceks-trailing', `${what}: unexpected bytes after the last entry`);
  return { type: 'jceks', entries, verified };
}
