// PKCS#12 key and trust stores that Java (keytool, JSSE) and OpenSSL 3 both read.
//
// The file is assembled here with the DER writer of pki/der.ts rather than forge's toPkcs12Asn1, because
// toPkcs12Asn1 cannot add the bag attribute Java needs for trusted certificates, only wraps RSA
// keys, and only does PBES2 with the implicit hmacWithSHA1 PRF. forge supplies the BER reader (files
// from elsewhere may use indefinite lengths and constructed strings, which pki/der.ts refuses), RC2,
// and the PKCS#12 key derivation (RFC 7292 appendix B); Node's crypto does PBKDF2, AES, 3DES and HMAC.
// The ciphers, the KDF and the MAC are in pkcs12-crypto.ts; this file assembles and reads the file.
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
import { createHash, createHmac, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
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
import {
  bin,
  buf,
  bytesOf,
  decrypt,
  encrypt,
  intOf,
  kids,
  OID,
  oidOf,
  NO_DECRYPT,
  pkcs12Kdf,
  verifyMac,
  WrongPassword,
  Unsupported,
  type Asn1,
  type Pkcs12Algorithm,
} from './pkcs12-crypto.js';

export type { Pkcs12Algorithm } from './pkcs12-crypto.js';

export interface Pkcs12Options {
  /** Encryption of the keys and certificates (default 'aes256'). */
  algorithm?: Pkcs12Algorithm;
  /** Iterations for the ciphers' key derivation and for the MAC (default 10,000). */
  iterations?: number;
}

export const DEFAULT_PKCS12_ITERATIONS = 10_000;

const explicit0 = (item: Buffer): Buffer => explicit(0, item);

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

function parse(b: Buffer): Asn1 {
  return forge.asn1.fromDer(bin(b));
}

/** A parsed value back to DER (a nested SafeContents, an unencrypted keyBag's PKCS#8). */
const toDer = (a: Asn1): Buffer => buf(forge.asn1.toDer(a).getBytes());

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
