// The certificates a server presented, described the way the manifest records certificates
// (lib/pki/cert-info.ts), so "served serial == manifest serial" and "served fingerprint == manifest
// fingerprint" are plain string comparisons.
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { certificateInfo } from '../pki/cert-info.js';

export interface ServedCert {
  subject: string;
  issuer: string;
  /** "DNS:db1.example.com", "IP:10.0.0.5". */
  sans: string[];
  /**
   * Lower-case hex without colons or a sign byte: the manifest's `serial` exactly (openssl x509
   * -serial prints the same digits in upper case).
   */
  serialHex: string;
  /** ISO 8601, as the manifest's notBefore / notAfter. */
  notBefore: string;
  notAfter: string;
  /** Colon-separated upper-case hex, as the manifest's fingerprint256. */
  fingerprint256: string;
  isCA: boolean;
  selfSigned: boolean;
  keyType: string;
  keyBits?: number;
}

export function describeServed(cert: X509Certificate): ServedCert {
  const i = certificateInfo(cert);
  const out: ServedCert = {
    subject: i.subject,
    issuer: i.issuer,
    sans: i.sans,
    serialHex: i.serial,
    notBefore: i.notBefore.toISOString(),
    notAfter: i.notAfter.toISOString(),
    fingerprint256: i.fingerprint256,
    isCA: i.isCA,
    selfSigned: i.selfSigned,
    keyType: i.keyType,
  };
  if (i.keyBits !== undefined) out.keyBits = i.keyBits;
  return out;
}

/**
 * The chain as the server sent it, leaf first. getPeerX509Certificate() walks the peer's own chain;
 * getPeerCertificate(true) would not do: it completes a short chain with the trusted CA from the
 * local store, so a server that sends only its leaf would seem to send the CA too. (Node 20's
 * getPeerX509Certificate also drops the leaf from the connection's chain, so read
 * getPeerCertificate() before calling this.)
 */
export function servedChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  for (let c = socket.getPeerX509Certificate(); c && chain.length < 16; c = c.issuerCertificate) {
    if (chain.some((seen) => seen.fingerprint256 === c!.fingerprint256)) break;
    chain.push(c);
  }
  return chain;
}
