// PKCS#12 key and trust stores that Java (keytool, JSSE) and OpenSSL 3 both read.
//
// The file is assembled here with the DER writer of pki/der.ts rather than forge's toPkcs12Asn1, because
// toPkcs12Asn1 cannot add the bag attribute Java needs for trusted certificates, only wraps RSA
// keys, and only does PBES2 with the implicit hmacWithSHA1 PRF. forge supplies the BER reader (files
// from elsewhere may use indefinite lengths and constructed strings, which pki/der.ts refuses), RC2,
// and the PKCS#12 key derivation (RFC 7292 appendix B); Node's crypto does PBKDF2, AES, 3DES and HMAC.
// forge's own reader (pkcs12FromAsn1) was weighed for the read side and not taken: it drops bag
// attributes whose OID it does not know, so Oracle's trusted-key-usage (the only thing that makes a
// cert bag a trusted entry for Java) is lost, and its certificateFromAsn1 throws "OID is not RSA" on
// any EC certificate, which Java stores with ECDSA keys hold.
//
// Algorithms (the defaults are what Java 17 keytool and OpenSSL 3 write, minus the SHA-256 MAC):
// - 'aes256' (default): PBES2 = PBKDF2 with hmacWithSHA256 + AES-256-CBC, for the shrouded key bag
//   and for the SafeContents holding the certificates. Read by Java 8u301+, 11, 17 and OpenSSL 3
//   without -legacy (it is OpenSSL 3's own default).
// - '3des': pbeWithSHAAnd3-KeyTripleDES-CBC for both, for JDKs older than 8u301. DES-EDE3 is in
//   OpenSSL 3's default provider, so it too is read without -legacy (RC2-40 would not be).
// - MAC: HMAC-SHA1 with the PKCS#12 KDF. Java 8 before 8u301 and 11 before 11.0.12 cannot verify a
//   SHA-256 MAC ("HmacPBESHA256 not available"); every version of Java and OpenSSL verifies SHA-1.
// - 10,000 iterations (keytool's count); random salts of 16 bytes (PBES2) or 20 (PKCS#12 PBE, MAC).
//
// Entries follow Java's PKCS12KeyStore: a key entry is a pkcs8ShroudedKeyBag plus the leaf's cert
// bag, both carrying friendlyName (the alias) and the same localKeyId, plus cert bags for the rest
// of the chain without attributes; a trusted entry is a cert bag with friendlyName and Oracle's
// trusted-key-usage attribute, without which Java does not list the certificate at all.
import forge from 'node-forge';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
  X509Certificate,
} from 'node:crypto';
import { sameKey } from '../pki/keys.js';
import { inputError } from '../errors.js';
import {
  bmpString as bmp,
  explicit,
  implicit,
  integer as int,
  nullValue as nul,
  octetString as octets,
  oid,
  sequence as seq,
  set,
} from '../pki/der.js';
import type { ListedEntry, StoreInput, StoreListing } from './types.js';

export type Pkcs12Algorithm = 'aes256' | '3des';

export interface Pkcs12Options {
  /** Encryption of the keys and certificates (default 'aes256'). */
  algorithm?: Pkcs12Algorithm;
  /** Iterations for the ciphers' key derivation and for the MAC (default 10,000). */
  iterations?: number;
}

export const DEFAULT_PKCS12_ITERATIONS = 10_000;

const OID = {
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
type Asn1 = forge.asn1.Asn1;
const { Type } = forge.asn1;
const bin = (b: Buffer): string => b.toString('binary');
const buf = (s: string): Buffer => Buffer.from(s, 'binary');
const explicit0 = (item: Buffer): Buffer => explicit(0, item);

/** PKCS#12 key derivation (RFC 7292 B.2): the password as a NUL-terminated BMPString. */
function pkcs12Kdf(
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

interface Encrypted {
  /** The AlgorithmIdentifier, DER. */
  algorithm: Buffer;
  ciphertext: Buffer;
}

function encrypt(plain: Buffer, password: string, algorithm: Pkcs12Algorithm, iterations: number): Encrypted {
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

// ---- writing ----

function attribute(type: string, ...values: Buffer[]): Buffer {
  return seq(oid(type), set(...values));
}

function safeBag(type: string, value: Buffer, attributes: Buffer[]): Buffer {
  const items = [oid(type), explicit0(value)];
  if (attributes.length > 0) items.push(set(...attributes));
  return seq(...items);
}

function certBag(cert: Buffer, attributes: Buffer[]): Buffer {
  return safeBag(OID.certBag, seq(oid(OID.x509Certificate), explicit0(octets(cert))), attributes);
}

function dataContentInfo(content: Buffer): Buffer {
  return seq(oid(OID.data), explicit0(octets(content)));
}

/** EncryptedData (PKCS#7) holding a SafeContents; the [0] is IMPLICIT, hence the retagged OCTET STRING. */
function encryptedContentInfo(
  content: Buffer,
  password: string,
  algorithm: Pkcs12Algorithm,
  iterations: number,
): Buffer {
  const e = encrypt(content, password, algorithm, iterations);
  const body = implicit(0, e.ciphertext);
  return seq(oid(OID.encryptedData), explicit0(seq(int(0), seq(oid(OID.data), e.algorithm, body))));
}

/**
 * Writes a PKCS#12 store. Aliases are lower-cased (Java lower-cases them on load, so two aliases
 * differing only by case would collide); key entries are encrypted with the store password, as
 * keytool expects for PKCS12 (one password for store and keys).
 */
export function writePkcs12(entries: StoreInput[], password: string, opts: Pkcs12Options = {}): Buffer {
  const algorithm = opts.algorithm ?? 'aes256';
  const iterations = opts.iterations ?? DEFAULT_PKCS12_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new RangeError(`iterations must be a positive whole number, got ${iterations}`);
  const seen = new Set<string>();
  const keyBags: Buffer[] = [];
  const certBags: Buffer[] = [];
  for (const e of entries) {
    const alias = e.alias.toLowerCase();
    if (seen.has(alias)) throw inputError('duplicate-alias', `alias "${alias}" appears twice in one keystore`);
    seen.add(alias);
    const name = attribute(OID.friendlyName, bmp(alias));
    if (e.kind === 'private-key') {
      const [leaf, ...rest] = e.chain;
      if (!leaf) throw inputError('no-chain', `key entry "${alias}" needs at least its own certificate`);
      // localKeyId = SHA-1 of the leaf certificate, as OpenSSL does; it pairs the key with its leaf.
      const keyId = attribute(OID.localKeyId, octets(createHash('sha1').update(leaf).digest()));
      // Any key type: the PKCS#8 DER is encrypted as it is, so EC and Ed25519 keys work as RSA does.
      const pkcs8 = e.key.export({ type: 'pkcs8', format: 'der' });
      const enc = encrypt(pkcs8, password, algorithm, iterations);
      keyBags.push(safeBag(OID.shroudedKeyBag, seq(enc.algorithm, octets(enc.ciphertext)), [name, keyId]));
      certBags.push(certBag(leaf, [name, keyId]), ...rest.map((c) => certBag(c, [])));
    } else {
      const trusted = attribute(OID.oracleTrustedKeyUsage, oid(OID.anyExtendedKeyUsage));
      certBags.push(certBag(e.cert, [name, trusted]));
    }
  }

  // Keys (already shrouded) in a plain SafeContents, then the certificates in an encrypted one:
  // keytool's layout.
  const contents: Buffer[] = [];
  if (keyBags.length > 0) contents.push(dataContentInfo(seq(...keyBags)));
  if (certBags.length > 0) contents.push(encryptedContentInfo(seq(...certBags), password, algorithm, iterations));
  const authSafe = seq(...contents);

  const macSalt = randomBytes(20);
  const macKey = pkcs12Kdf(password, macSalt, 3, iterations, 20, forge.md.sha1.create());
  const mac = createHmac('sha1', macKey).update(authSafe).digest();
  const macData = seq(seq(seq(oid(OID.sha1), nul()), octets(mac)), octets(macSalt), int(iterations));
  return seq(int(3), dataContentInfo(authSafe), macData);
}

// ---- reading ----

function kids(a: Asn1 | undefined): Asn1[] {
  return a && Array.isArray(a.value) ? a.value : [];
}

function oidOf(a: Asn1 | undefined): string {
  if (!a || a.type !== Type.OID || typeof a.value !== 'string') throw new Error('expected an OID');
  return forge.asn1.derToOid(a.value);
}

/** The bytes of an OCTET STRING (or [n] IMPLICIT one), joining BER's constructed chunks. */
function bytesOf(a: Asn1 | undefined): Buffer {
  if (!a) throw new Error('missing value');
  if (typeof a.value === 'string') return buf(a.value);
  return Buffer.concat(a.value.map((c) => bytesOf(c)));
}

function intOf(a: Asn1 | undefined): number {
  if (!a || a.type !== Type.INTEGER || typeof a.value !== 'string') throw new Error('expected an INTEGER');
  return forge.asn1.derToInteger(a.value);
}

function parse(b: Buffer): Asn1 {
  return forge.asn1.fromDer(bin(b));
}

/** A parsed value back to DER (a nested SafeContents, an unencrypted keyBag's PKCS#8). */
const toDer = (a: Asn1): Buffer => buf(forge.asn1.toDer(a).getBytes());

/** The password does not fit: the MAC does not verify, or (without a MAC) decryption fails. */
class WrongPassword extends Error {}
const NO_DECRYPT = 'the PKCS#12 contents do not decrypt';
class Unsupported extends Error {}

/** Decrypts PBES2 (PBKDF2 + AES/3DES) and PKCS#12 PBE (3DES, RC2: old Java, OpenSSL -legacy). */
function decrypt(algorithm: Asn1, ciphertext: Buffer, password: string): Buffer {
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
function verifyMac(macData: Asn1 | undefined, authSafe: Buffer, password: string): boolean {
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

interface Bag {
  type: string;
  value: Asn1 | undefined;
  friendlyName?: string;
  localKeyId?: string;
  trusted: boolean;
}

function readBags(safeContents: Buffer, out: Bag[]): void {
  for (const bag of kids(parse(safeContents))) {
    const [typeOid, value, attrs] = kids(bag);
    const b: Bag = { type: oidOf(typeOid), value: kids(value)[0], trusted: false };
    for (const attr of kids(attrs)) {
      const [attrOid, values] = kids(attr);
      const first = kids(values)[0];
      const t = oidOf(attrOid);
      if (t === OID.friendlyName && first && typeof first.value === 'string') b.friendlyName = first.value;
      else if (t === OID.localKeyId && first) b.localKeyId = bytesOf(first).toString('hex');
      else if (t === OID.oracleTrustedKeyUsage) b.trusted = true;
    }
    if (b.type === OID.safeContentsBag && b.value) readBags(toDer(b.value), out);
    else out.push(b);
  }
}

/** The leaf, then each issuer found among the store's certificates, up to a self-signed one. */
function chainFrom(leaf: X509Certificate, pool: X509Certificate[]): X509Certificate[] {
  const chain = [leaf];
  for (let cur = leaf; chain.length <= pool.length;) {
    if (cur.checkIssued(cur)) break;
    const next = pool.find(
      (c) => !chain.some((x) => x.fingerprint256 === c.fingerprint256) && cur.checkIssued(c) && cur.verify(c.publicKey),
    );
    if (!next) break;
    chain.push(next);
    cur = next;
  }
  return chain;
}

/**
 * Reads a PKCS#12 store as Java sees it: key bags become key entries (with their chain, leaf first),
 * certificate bags with Oracle's trusted-key-usage attribute become trusted entries, and other
 * certificates only serve as chain members. Aliases are lower-cased, as keytool lists them.
 */
export interface Pkcs12ReadOptions {
  /**
   * false: list key entries (alias, chain by localKeyId) without decrypting their shrouded key
   * bags. The MAC is still verified and the certificates' SafeContents still decrypted.
   */
  decryptKeys?: boolean;
}

export function readPkcs12(
  data: Buffer,
  password: string,
  what = 'the keystore',
  opts: Pkcs12ReadOptions = {},
): StoreListing {
  let pfx: Asn1;
  let authSafe: Buffer;
  try {
    pfx = parse(data);
    const [version, authSafeInfo] = kids(pfx);
    if (intOf(version) !== 3) throw new Error('version');
    const [contentType, content] = kids(authSafeInfo);
    if (oidOf(contentType) !== OID.data) throw new Unsupported('public-key integrity mode');
    authSafe = bytesOf(kids(content)[0]);
  } catch (e) {
    if (e instanceof Unsupported)
      throw inputError('pkcs12-unsupported', `${what} uses PKCS#12 ${e.message}, which dbtls does not read`);
    throw inputError('not-pkcs12', `${what} is not a PKCS#12 file`);
  }

  const macData = kids(pfx)[2];
  try {
    const verified = verifyMac(macData, authSafe, password);
    const bags: Bag[] = [];
    for (const info of kids(parse(authSafe))) {
      const [typeOid, content] = kids(info);
      const type = oidOf(typeOid);
      if (type === OID.data) readBags(bytesOf(kids(content)[0]), bags);
      else if (type === OID.encryptedData) {
        const [, encContent] = kids(kids(content)[0]);
        const [, algorithm, ciphertext] = kids(encContent);
        if (!algorithm) throw new Error('EncryptedData without an algorithm');
        readBags(decrypt(algorithm, bytesOf(ciphertext), password), bags);
      } else throw new Unsupported(`content type ${type}`);
    }
    return { type: 'pkcs12', entries: entriesOf(bags, password, opts.decryptKeys !== false), verified };
  } catch (e) {
    if (e instanceof WrongPassword && macData)
      throw inputError('keystore-password', `the keystore password is wrong (${e.message})`);
    // Without a MAC, a wrong password shows only as garbage after decryption (CBC padding passes
    // by chance about once in 256), so anything unreadable is put down to the password.
    if (!macData && !(e instanceof Unsupported)) {
      throw inputError(
        'keystore-password',
        `the keystore password is wrong (${NO_DECRYPT}), or ${what} is damaged: it has no MAC to tell which`,
      );
    }
    if (e instanceof Unsupported)
      throw inputError('pkcs12-unsupported', `${what} uses PKCS#12 ${e.message}, which dbtls does not read`);
    throw inputError(
      'bad-pkcs12',
      `${what} is a damaged PKCS#12 file (${(e as Error).message})`,
      undefined,
      undefined,
      e,
    );
  }
}

function entriesOf(bags: Bag[], password: string, decryptKeys: boolean): ListedEntry[] {
  const certs = bags
    .filter((b) => b.type === OID.certBag && b.value)
    .map((b) => {
      const [certType, value] = kids(b.value);
      if (oidOf(certType) !== OID.x509Certificate) return { bag: b, cert: undefined };
      return { bag: b, cert: new X509Certificate(bytesOf(kids(value)[0])) };
    });
  const pool = certs.flatMap((c) => (c.cert ? [c.cert] : []));
  const entries: ListedEntry[] = [];
  let unnamed = 0;
  const aliasOf = (b: Bag): string => (b.friendlyName ?? `unnamed-${++unnamed}`).toLowerCase();

  for (const b of bags) {
    if (b.type === OID.shroudedKeyBag || b.type === OID.keyBag) {
      if (!b.value) throw new Error('a key bag is empty');
      if (!decryptKeys) {
        const leaf = certs.find((c) => c.cert && b.localKeyId !== undefined && c.bag.localKeyId === b.localKeyId)?.cert;
        entries.push({ alias: aliasOf(b), kind: 'private-key', certificates: leaf ? chainFrom(leaf, pool) : [] });
        continue;
      }
      const [algorithm, ciphertext] = kids(b.value);
      const pkcs8 = b.type === OID.keyBag ? toDer(b.value) : decrypt(algorithm!, bytesOf(ciphertext), password);
      const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
      // The leaf is the certificate with the key's localKeyId, or failing that, the key's public key.
      const leaf =
        certs.find((c) => c.cert && b.localKeyId !== undefined && c.bag.localKeyId === b.localKeyId)?.cert ??
        pool.find((c) => sameKey(c.publicKey, key));
      entries.push({ alias: aliasOf(b), kind: 'private-key', certificates: leaf ? chainFrom(leaf, pool) : [], key });
    } else if (b.type === OID.certBag && b.trusted) {
      const cert = certs.find((c) => c.bag === b)?.cert;
      if (cert) entries.push({ alias: aliasOf(b), kind: 'trusted-cert', certificates: [cert] });
    } else if (b.type === OID.secretBag) {
      entries.push({ alias: aliasOf(b), kind: 'secret-key', certificates: [] });
    }
  }
  return entries;
}
