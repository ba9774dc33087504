// JKS, Java's original keystore format (REFERENCE §7), written and read without Java. No maintained
// npm package writes it, and Tungsten's tpm and many older JVM tools still expect it.
//   magic FEEDFEED, version 2, entry count, entries, SHA-1 integrity hash.
//   private-key entry: tag 1, alias, date, EncryptedPrivateKeyInfo (Sun's KeyProtector), chain.
//   trusted-cert entry: tag 2, alias, date, "X.509", DER.
import {
  createHash,
  createPrivateKey,
  randomBytes,
  timingSafeEqual,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { JavaReader, JavaWriter, keystoreIntegrity, passwordBytes } from './java-io.js';
import { readTlv, children, readOid, valueOf, sequence, oid, nullValue, octetString, TAG } from '../pki/der.js';
import { inputError } from '../errors.js';
import type { ListedEntry, StoreInput, StoreListing } from './types.js';

export const JKS_MAGIC = 0xfeedfeed;
const VERSION = 2;
const TAG_PRIVATE_KEY = 1;
const TAG_TRUSTED_CERT = 2;
/** Sun's proprietary key protection algorithm (sun.security.provider.KeyProtector). */
const KEY_PROTECTOR_OID = '1.3.6.1.4.1.42.2.17.1.1';
const SHA1 = 20;

const sha1 = (...parts: Uint8Array[]) => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The keystream: d1 = SHA1(pw ‖ salt), dn = SHA1(pw ‖ dn-1), cut to `length`. */
function keystream(pw: Buffer, salt: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  let digest: Buffer = salt;
  for (let off = 0; off < length; off += SHA1) {
    digest = sha1(pw, digest);
    digest.copy(out, off, 0, Math.min(SHA1, length - off));
  }
  return out;
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Protects a PKCS#8 key as Java's KeyProtector does: salt ‖ (key XOR keystream) ‖ SHA1(pw ‖ key). */
export function protectKey(pkcs8: Buffer, password: string, salt: Buffer = randomBytes(SHA1)): Buffer {
  const pw = passwordBytes(password);
  const blob = Buffer.concat([salt, xor(pkcs8, keystream(pw, salt, pkcs8.length)), sha1(pw, pkcs8)]);
  return sequence(sequence(oid(KEY_PROTECTOR_OID), nullValue()), octetString(blob));
}

/** The reverse; throws when the password is wrong (the embedded SHA-1 check fails). */
export function recoverKey(encryptedPrivateKeyInfo: Buffer, password: string): Buffer {
  const epki = encryptedPrivateKeyInfo;
  let algorithm: string;
  let blob: Buffer;
  try {
    const [alg, data] = children(epki, readTlv(epki, 0));
    if (!alg || alg.tag !== TAG.SEQUENCE || !data || data.tag !== TAG.OCTET_STRING) throw new Error('shape');
    algorithm = readOid(epki, readTlv(epki, alg.start));
    blob = valueOf(epki, data);
  } catch {
    throw inputError('bad-jks', 'a JKS key entry is malformed');
  }
  if (algorithm !== KEY_PROTECTOR_OID) {
    throw inputError(
      'jks-key-algorithm',
      "a JKS key entry is protected with an algorithm other than Sun's KeyProtector",
    );
  }
  if (blob.length < 2 * SHA1) throw inputError('bad-jks', 'a JKS key entry is malformed');
  const salt = blob.subarray(0, SHA1);
  const body = blob.subarray(SHA1, blob.length - SHA1);
  const check = blob.subarray(blob.length - SHA1);
  const pw = passwordBytes(password);
  const key = xor(Buffer.from(body), keystream(pw, Buffer.from(salt), body.length));
  if (!timingSafeEqual(sha1(pw, key), check)) {
    throw inputError('jks-key-password', 'the key password is wrong (the JKS key entry does not decrypt)');
  }
  return key;
}

/**
 * Writes a JKS store. Aliases are lower-cased (Java does so on load, and two aliases that differ
 * only by case would collide). The key password is the store password unless given.
 */
export function writeJks(entries: StoreInput[], storepass: string, keypass: string = storepass): Buffer {
  const seen = new Set<string>();
  const w = new JavaWriter().u32(JKS_MAGIC).u32(VERSION).u32(entries.length);
  for (const e of entries) {
    const alias = e.alias.toLowerCase();
    if (seen.has(alias)) throw inputError('duplicate-alias', `alias "${alias}" appears twice in one keystore`);
    seen.add(alias);
    const date = (e.date ?? new Date()).getTime();
    if (e.kind === 'private-key') {
      if (e.chain.length === 0) throw inputError('no-chain', `key entry "${alias}" needs at least its own certificate`);
      const pkcs8 = e.key.export({ type: 'pkcs8', format: 'der' });
      w.u32(TAG_PRIVATE_KEY).utf(alias).long(date).block(protectKey(pkcs8, keypass)).u32(e.chain.length);
      for (const cert of e.chain) w.utf('X.509').block(cert);
    } else {
      w.u32(TAG_TRUSTED_CERT).utf(alias).long(date).utf('X.509').block(e.cert);
    }
  }
  const body = w.toBuffer();
  return Buffer.concat([body, keystoreIntegrity(storepass, body)]);
}

export interface JksReadOptions {
  /** Checks the integrity hash; without it the entries are listed unverified (as keytool does). */
  storepass?: string;
  /** Decrypts key entries (default: the store password). */
  keypass?: string;
  /**
   * false: list the key entries (alias, date, chain) without decrypting their keys. The integrity
   * hash is still checked when storepass is given; only the key recovery is skipped.
   */
  decryptKeys?: boolean;
}

export function isJks(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt32BE(0) === JKS_MAGIC;
}

export function readJks(buf: Buffer, opts: JksReadOptions = {}, what = 'the keystore'): StoreListing {
  if (!isJks(buf)) throw inputError('not-jks', `${what} is not a JKS keystore`);
  if (buf.length < 12 + SHA1) throw inputError('truncated', `${what} is truncated`);
  const body = buf.subarray(0, buf.length - SHA1);
  let verified = false;
  if (opts.storepass !== undefined) {
    if (!timingSafeEqual(keystoreIntegrity(opts.storepass, body), buf.subarray(buf.length - SHA1))) {
      throw inputError(
        'keystore-password',
        `the keystore password is wrong, or ${what} was tampered with (the JKS integrity check fails)`,
      );
    }
    verified = true;
  }
  const r = new JavaReader(body, what);
  r.u32();
  const version = r.u32();
  if (version !== 1 && version !== 2) throw inputError('jks-version', `${what}: unsupported JKS version ${version}`);
  const count = r.u32();
  const keypass = opts.decryptKeys === false ? undefined : (opts.keypass ?? opts.storepass);
  const entries: ListedEntry[] = [];
  const certOf = () => {
    const type = version === 2 ? r.utf() : 'X.509';
    if (type !== 'X.509') throw inputError('jks-cert-type', `${what}: certificate type ${type} is not supported`);
    return new X509Certificate(r.block());
  };
  for (let i = 0; i < count; i++) {
    const tag = r.u32();
    const alias = r.utf();
    const date = new Date(r.long());
    if (tag === TAG_PRIVATE_KEY) {
      const protectedKey = r.block();
      const n = r.u32();
      const certificates = Array.from({ length: n }, certOf);
      let key: KeyObject | undefined;
      if (keypass !== undefined)
        key = createPrivateKey({ key: recoverKey(protectedKey, keypass), format: 'der', type: 'pkcs8' });
      entries.push({ alias, kind: 'private-key', date, certificates, ...(key ? { key } : {}) });
    } else if (tag === TAG_TRUSTED_CERT) {
      entries.push({ alias, kind: 'trusted-cert', date, certificates: [certOf()] });
    } else {
      throw inputError('jks-entry', `${what}: unknown JKS entry type ${tag}`);
    }
  }
  return { type: 'jks', entries, verified };
}
