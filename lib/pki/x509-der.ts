// What Node's X509Certificate does not expose (keyUsage bits, the signature algorithm) and what
// node:crypto cannot parse at all (PKCS#10 requests, the cipher of an encrypted PKCS#8 key), read
// with the tiny DER reader: no node-forge, and every key type Node knows.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import {
  readTlv,
  children,
  expectTag as expect,
  valueOf as value,
  readOid,
  readSmallInteger,
  TAG,
  type Tlv,
} from './der.js';

export { readOid };
const { SEQUENCE, INTEGER, BIT_STRING, OCTET_STRING } = TAG;

/** Algorithm and usage OIDs, named as OpenSSL names them. */
export const OID_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
  '1.2.840.113549.1.5.13': 'PBES2',
  '1.2.840.113549.1.5.12': 'PBKDF2',
  '1.3.6.1.4.1.11591.4.11': 'scrypt',
  '1.2.840.113549.2.7': 'hmacWithSHA1',
  '1.2.840.113549.2.9': 'hmacWithSHA256',
  '1.2.840.113549.2.10': 'hmacWithSHA384',
  '1.2.840.113549.2.11': 'hmacWithSHA512',
  '2.16.840.1.101.3.4.1.2': 'aes-128-cbc',
  '2.16.840.1.101.3.4.1.22': 'aes-192-cbc',
  '2.16.840.1.101.3.4.1.42': 'aes-256-cbc',
  '1.2.840.113549.3.7': 'des-ede3-cbc',
  '1.2.840.113549.1.12.1.3': 'pbeWithSHA1And3-KeyTripleDES-CBC',
  '1.2.840.113549.1.12.1.6': 'pbeWithSHA1And40BitRC2-CBC',
};

/** The digest each signature algorithm uses with crypto.verify (null: the key type decides, as for EdDSA). */
const SIGNATURE_DIGESTS: Record<string, string | null> = {
  sha1WithRSAEncryption: 'sha1',
  sha256WithRSAEncryption: 'sha256',
  sha384WithRSAEncryption: 'sha384',
  sha512WithRSAEncryption: 'sha512',
  'ecdsa-with-SHA1': 'sha1',
  'ecdsa-with-SHA256': 'sha256',
  'ecdsa-with-SHA384': 'sha384',
  'ecdsa-with-SHA512': 'sha512',
  ED25519: null,
  ED448: null,
};

/**
 * Distinguished-name attributes by OpenSSL's short names (OBJ_nid2sn, stable across OpenSSL 1.0.2–3.x;
 * what Node's X509Certificate.subject prints, and what X509_NAME_oneline writes for REQUIRE SUBJECT).
 */
export const NAME_ATTRIBUTES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.13': 'description',
  '2.5.4.17': 'postalCode',
  '2.5.4.41': 'name',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationQualifier',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export function oidName(oid: string): string {
  return OID_NAMES[oid] ?? oid;
}

function readString(buf: Buffer, t: Tlv): string {
  const v = Buffer.from(value(buf, t));
  if (t.tag === 0x1e) return v.swap16().toString('utf16le'); // BMPString is UTF-16BE
  if (t.tag === 0x14) return v.toString('latin1'); // T61String, in practice Latin-1
  return v.toString('utf8'); // UTF8String, PrintableString, IA5String
}

/** A Name as "CN=a, O=b", in encoded order like certificateInfo's subject. */
export function readName(buf: Buffer, name: Tlv): string {
  const parts: string[] = [];
  for (const rdn of children(buf, name)) {
    for (const atv of children(buf, rdn)) {
      const [type, val] = children(buf, atv);
      const oid = readOid(buf, type!);
      parts.push(`${NAME_ATTRIBUTES[oid] ?? oid}=${readString(buf, val!)}`);
    }
  }
  return parts.join(', ');
}

export interface Extension {
  oid: string;
  critical: boolean;
  /** The contents of extnValue (the DER of the extension's own value). */
  value: Buffer;
}

function readExtensions(buf: Buffer, seq: Tlv): Extension[] {
  return children(buf, expect(seq, SEQUENCE)).map((ext) => {
    const kids = children(buf, ext);
    const last = expect(kids[kids.length - 1], OCTET_STRING);
    return {
      oid: readOid(buf, kids[0]!),
      critical: kids.length === 3 && buf[kids[1]!.start] !== 0,
      value: value(buf, last),
    };
  });
}

/** The outer SEQUENCE's parts: to-be-signed (and its whole DER), signature algorithm, signature bytes. */
function signedParts(der: Buffer): { tbs: Tlv; tbsDer: Buffer; algorithm: string; signature: Buffer } {
  const outer = expect(readTlv(der, 0), SEQUENCE);
  if (outer.end !== der.length) throw new Error('DER: trailing bytes');
  const [tbs, alg, sig] = children(der, outer);
  const algorithm = oidName(readOid(der, children(der, expect(alg, SEQUENCE))[0]!));
  // A BIT STRING's first byte counts unused bits; signatures use whole bytes.
  // Tlv records only where a value starts; the first child's header starts at its parent's value.
  return {
    tbs: expect(tbs, SEQUENCE),
    tbsDer: der.subarray(outer.start, tbs.end),
    algorithm,
    signature: value(der, expect(sig, BIT_STRING)).subarray(1),
  };
}

export function certificateSignatureAlgorithm(der: Buffer): string {
  return signedParts(der).algorithm;
}

export function certificateExtensions(der: Buffer): Extension[] {
  const { tbs } = signedParts(der);
  const tagged = children(der, tbs).find((t) => t.tag === 0xa3); // [3] EXPLICIT Extensions
  return tagged ? readExtensions(der, readTlv(der, tagged.start)) : [];
}

/** keyUsage bits by RFC 5280 name; undefined when the extension is absent. */
export function keyUsage(exts: Extension[]): string[] | undefined {
  const ext = exts.find((e) => e.oid === '2.5.29.15');
  if (!ext) return undefined;
  const bits = value(ext.value, expect(readTlv(ext.value, 0), BIT_STRING)).subarray(1);
  return KEY_USAGE_BITS.filter((_, i) => ((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0);
}

/** extendedKeyUsage by name (OID when unknown); undefined when the extension is absent. */
export function extKeyUsage(exts: Extension[]): string[] | undefined {
  const ext = exts.find((e) => e.oid === '2.5.29.37');
  if (!ext) return undefined;
  return children(ext.value, readTlv(ext.value, 0)).map((t) => oidName(readOid(ext.value, t)));
}

function ipString(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  // OpenSSL's (and Node's) form: eight upper-case groups, no zero compression.
  const groups: string[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) groups.push(b.readUInt16BE(i).toString(16).toUpperCase());
  return groups.join(':');
}

/** subjectAltName entries in the "DNS:x" / "IP:x" form certificateInfo uses. */
export function subjectAltNames(exts: Extension[]): string[] {
  const ext = exts.find((e) => e.oid === '2.5.29.17');
  if (!ext) return [];
  return children(ext.value, readTlv(ext.value, 0)).map((gn) => {
    const v = value(ext.value, gn);
    switch (gn.tag) {
      case 0x81:
        return `email:${v.toString('latin1')}`;
      case 0x82:
        return `DNS:${v.toString('latin1')}`;
      case 0x86:
        return `URI:${v.toString('latin1')}`;
      case 0x87:
        return `IP:${ipString(v)}`;
      default:
        return `othername:<unsupported>`;
    }
  });
}

export interface CsrInfo {
  subject: string;
  publicKey: KeyObject;
  sans: string[];
  keyUsage: string[] | undefined;
  extKeyUsage: string[] | undefined;
  signatureAlgorithm: string;
  /** undefined when the algorithm is one we cannot check (RSASSA-PSS, unknown OIDs). */
  signatureValid: boolean | undefined;
}

/** Parses a PKCS#10 CertificationRequest (DER); throws if the bytes are not one. */
export function parseCsr(der: Buffer): CsrInfo {
  const { tbs, tbsDer, algorithm, signature } = signedParts(der);
  // CertificationRequestInfo: version INTEGER, subject Name, SubjectPublicKeyInfo, [0] attributes.
  const [version, subject, spki, attributes] = children(der, tbs);
  expect(version, INTEGER);
  expect(subject, SEQUENCE);
  expect(spki, SEQUENCE);
  // The SPKI's header starts where the subject ends.
  const publicKey = createPublicKey({ key: der.subarray(subject!.end, spki!.end), format: 'der', type: 'spki' });

  let exts: Extension[] = [];
  if (attributes && attributes.tag === 0xa0) {
    for (const attr of children(der, attributes)) {
      const [type, values] = children(der, attr);
      // PKCS#9 extensionRequest: a SET holding one Extensions SEQUENCE.
      if (readOid(der, type!) === '1.2.840.113549.1.9.14') exts = readExtensions(der, children(der, values!)[0]!);
    }
  }

  const digest = SIGNATURE_DIGESTS[algorithm];
  let signatureValid: boolean | undefined;
  if (digest !== undefined) {
    try {
      signatureValid = verify(digest, tbsDer, publicKey, signature);
    } catch {
      signatureValid = false; // e.g. an RSA algorithm over an EC key
    }
  }
  return {
    subject: readName(der, subject!),
    publicKey,
    sans: subjectAltNames(exts),
    keyUsage: keyUsage(exts),
    extKeyUsage: extKeyUsage(exts),
    signatureAlgorithm: algorithm,
    signatureValid,
  };
}

/**
 * How an EncryptedPrivateKeyInfo is protected, e.g. "PBES2 (PBKDF2 hmacWithSHA256, 2048 iterations,
 * aes-256-cbc)"; throws if the bytes are not one. Reads only the algorithm header, never the key.
 */
export function encryptedKeyScheme(der: Buffer): string {
  const outer = expect(readTlv(der, 0), SEQUENCE);
  if (outer.end !== der.length) throw new Error('DER: trailing bytes');
  const [alg, data] = children(der, outer);
  expect(data, OCTET_STRING);
  const [oid, params] = children(der, expect(alg, SEQUENCE));
  const scheme = oidName(readOid(der, oid!));
  if (scheme !== 'PBES2' || !params) return scheme;
  const [kdf, cipher] = children(der, params);
  const [kdfOid, kdfParams] = children(der, kdf!);
  const kdfName = oidName(readOid(der, kdfOid!));
  const cipherName = oidName(readOid(der, children(der, cipher!)[0]!));
  if (kdfName !== 'PBKDF2' || !kdfParams) return `PBES2 (${kdfName}, ${cipherName})`;
  // PBKDF2-params: salt, iterationCount, keyLength OPTIONAL, prf OPTIONAL (default hmacWithSHA1).
  const fields = children(der, kdfParams);
  const iterations = readSmallInteger(der, fields[1]!);
  const prfSeq = fields.find((f, i) => i >= 2 && f.tag === SEQUENCE);
  const prf = prfSeq ? oidName(readOid(der, children(der, prfSeq)[0]!)) : 'hmacWithSHA1';
  return `PBES2 (PBKDF2 ${prf}, ${iterations} iterations, ${cipherName})`;
}
