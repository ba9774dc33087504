// Two separate questions about what a server served, each with its own reason when the answer is no:
// does the chain lead to a trusted CA (OpenSSL's verdict during the handshake), and is the
// certificate made out to the name the client dials (tls.checkServerIdentity, IPs against IP SANs)?
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { isIP } from 'node:net';
import type { ServedCert } from './served-cert.js';
import { splitSans } from '../pki/cert-info.js';

// OpenSSL's own wording (X509_verify_cert_error_string) for the codes Node reports.
const OPENSSL_REASONS: Record<string, string> = {
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_REVOKED: 'certificate revoked',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REJECTED: 'certificate rejected',
  INVALID_CA: 'invalid CA certificate',
  INVALID_PURPOSE: 'unsupported certificate purpose',
  PATH_LENGTH_EXCEEDED: 'path length constraint exceeded',
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: "unable to decrypt certificate's signature",
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'unable to decode issuer public key',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: "format error in certificate's notBefore field",
  ERROR_IN_CERT_NOT_AFTER_FIELD: "format error in certificate's notAfter field",
  CA_KEY_TOO_SMALL: 'CA certificate key too weak',
  EE_KEY_TOO_SMALL: 'end entity key too short',
  CA_MD_TOO_WEAK: 'CA signature digest algorithm too weak',
};

// Codes that all mean "no trusted CA at the top of this chain".
const UNKNOWN_ISSUER = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
]);

/**
 * "unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE): CN=db1 was issued by
 * CN=Other CA, which is not a trusted CA" — OpenSSL's words, its code, and what it means here.
 */
export function chainReason(code: string, chain: ServedCert[], now = new Date()): string {
  const base = OPENSSL_REASONS[code] ? `${OPENSSL_REASONS[code]} (${code})` : code;
  const top = chain[chain.length - 1];
  if (UNKNOWN_ISSUER.has(code) && top) {
    const who = top.selfSigned
      ? `the chain ends at the self-signed ${top.subject}`
      : `${top.subject} was issued by ${top.issuer}`;
    return `${base}: ${who}, which is not a trusted CA`;
  }
  if (code === 'CERT_HAS_EXPIRED') {
    const c = chain.find((x) => Date.parse(x.notAfter) < now.getTime());
    if (c) return `${base}: ${c.subject} expired on ${c.notAfter}`;
  }
  if (code === 'CERT_NOT_YET_VALID') {
    const c = chain.find((x) => Date.parse(x.notBefore) > now.getTime());
    if (c) return `${base}: ${c.subject} is not valid before ${c.notBefore}`;
  }
  return base;
}

/**
 * undefined when the certificate is made out to NAME; otherwise why not, in the terms Node judged
 * by (IP SANs for an address; DNS SANs for a name, or the CN when there are none). "[::1]" is "::1".
 */
export function nameMismatch(name: string, peer: PeerCertificate): string | undefined {
  const bare = name.replace(/^\[(.*)\]$/, '$1');
  const err = checkServerIdentity(bare, peer);
  if (!err) return undefined;
  const reason = (err as Error & { reason?: string }).reason ?? err.message;
  const sans = splitSans(peer.subjectaltname);
  const list = (kind: string) => sans.filter((s) => s.startsWith(kind)).join(', ') || 'none';
  if (isIP(bare)) return `IP address ${bare} is not among the certificate's IP SANs (${list('IP:')})`;
  if (/is not in the cert's altnames/.test(reason))
    return `name ${bare} is not among the certificate's DNS SANs (${list('DNS:')})`;
  if (/is not cert's CN/.test(reason))
    return `name ${bare} is not the certificate's CN (${peer.subject?.CN}), and it has no DNS SANs`;
  return `name ${bare}: ${reason}`;
}
