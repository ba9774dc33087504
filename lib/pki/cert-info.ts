// Reading certificates back: the facts about one certificate that check, issue, probe, rotate and
// setup act on (CertificateInfo), from Node's native X509Certificate. Chains: chain.ts.
import { X509Certificate } from 'node:crypto';
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
export function oneLine(dn: string): string {
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

export function certificateInfo(cert: X509Certificate): CertificateInfo {
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

/**
 * Did `issuer` sign `cert`? Names and signature only: OpenSSL's checkIssued also demands a
 * keyCertSign usage, which would hide the clearer "not a CA" reason below.
 */
export function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.issuer === issuer.subject && cert.verify(issuer.publicKey);
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
    throw inputError(
      'bad-certificate',
      `${file} holds a certificate that cannot be read (truncated or garbled?): ${why}`,
      { file },
    );
  }
}
