// Reading certificates back: what a person (or `check`) needs to know, from Node's native X509Certificate.
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { pemBlocks } from './pem.js';
import { inputError } from '../errors.js';

export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** Lower-case hex, as OpenSSL prints it without colons. */
  serial: string;
  sans: string[];
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 over the DER, colon-separated upper-case hex as OpenSSL and Java print it. */
  fingerprint256: string;
  isCA: boolean;
  keyType: string;
  keyBits: number | undefined;
  /** Extended key usage OIDs, or undefined when the certificate has none. */
  extKeyUsage: string[] | undefined;
  selfSigned: boolean;
}

export function parseCertificates(pemText: string | Buffer): X509Certificate[] {
  return pemBlocks(pemText.toString())
    .filter((b) => b.label === 'CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE')
    .map((b) => new X509Certificate(b.der));
}

/** "CN=a\nO=b" (Node's form) → "CN=a, O=b"; keeps the certificate's order. */
function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

/** Node prints SANs as "DNS:a, IP Address:1.2.3.4"; we use the "DNS:" / "IP:" form people type. */
export function splitSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName
    .split(/,\s*/)
    .map((s) => s.trim().replace(/^IP Address:/, 'IP:'))
    .filter(Boolean);
}

export function inspectCertificate(cert: X509Certificate): CertificateInfo {
  const details = cert.publicKey.asymmetricKeyDetails;
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    serial: cert.serialNumber.toLowerCase(),
    sans: splitSans(cert.subjectAltName),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerprint256: cert.fingerprint256,
    isCA: cert.ca,
    keyType: cert.publicKey.asymmetricKeyType ?? 'unknown',
    keyBits: details?.modulusLength,
    extKeyUsage: cert.keyUsage,
    selfSigned: signedBy(cert, cert),
  };
}

/** Does the private key belong to the certificate? */
export function keyMatchesCertificate(cert: X509Certificate, key: KeyObject): boolean {
  return cert.checkPrivateKey(key);
}

/** Does the public key (e.g. public_key.pem) belong to the private key? */
export function publicKeyMatches(publicPem: string | Buffer, key: KeyObject): boolean {
  const a = createPublicKey(publicPem).export({ type: 'spki', format: 'der' });
  const b = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return a.equals(b);
}

/**
 * Did `issuer` sign `cert`? Names and signature only: OpenSSL's checkIssued also demands a
 * keyCertSign usage, which would hide the clearer "not a CA" reason below.
 */
export function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.issuer === issuer.subject && cert.verify(issuer.publicKey);
}

export type ChainResult = { ok: true; path: X509Certificate[] } | { ok: false; reason: string };

/**
 * Verifies a certificate up to one of the trusted roots: names chain, signatures check, every
 * issuer is a CA, and every certificate is valid at `at`. `intermediates` may be empty.
 */
export function verifyChain(
  leaf: X509Certificate,
  roots: X509Certificate[],
  intermediates: X509Certificate[] = [],
  at: Date = new Date(),
): ChainResult {
  const path: X509Certificate[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    const when = at.getTime();
    if (when < Date.parse(current.validFrom)) return { ok: false, reason: `${oneLine(current.subject)} is not valid before ${current.validFrom}` };
    if (when > Date.parse(current.validTo)) return { ok: false, reason: `${oneLine(current.subject)} expired on ${current.validTo}` };
    const root = roots.find((r) => signedBy(current, r));
    if (root) {
      if (!root.ca) return { ok: false, reason: `${oneLine(root.subject)} is not a CA (basicConstraints CA:FALSE)` };
      if (root !== current) path.push(root);
      if (when > Date.parse(root.validTo)) return { ok: false, reason: `the CA ${oneLine(root.subject)} expired on ${root.validTo}` };
      return { ok: true, path };
    }
    const next = intermediates.find((c) => c !== current && signedBy(current, c));
    if (!next) return { ok: false, reason: `no trusted CA signed ${oneLine(current.subject)} (issuer ${oneLine(current.issuer)})` };
    if (!next.ca) return { ok: false, reason: `${oneLine(next.subject)} is not a CA (basicConstraints CA:FALSE)` };
    path.push(next);
    current = next;
  }
  return { ok: false, reason: 'the chain is longer than 10 certificates' };
}

/**
 * parseCertificates for a file's text, with errors that name the file: a garbled block is an input
 * error ("… ca.pem: a certificate block is not readable"), never a bare OpenSSL message.
 */
export function parseCertificatesOf(pemText: string | Buffer, file: string): X509Certificate[] {
  try {
    return parseCertificates(pemText);
  } catch (e) {
    const why = String((e as Error)?.message ?? e).split('\n')[0];
    throw inputError('bad-certificate', `${file} holds a certificate that cannot be read (truncated or garbled?): ${why}`, { file });
  }
}
