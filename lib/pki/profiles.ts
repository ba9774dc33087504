// What each kind of certificate may do. The extensions follow RFC 5280 and what MySQL-family servers,
// OpenSSL and Java check: a CA must say CA:TRUE or VERIFY_CA fails; a client certificate with an EKU
// must include clientAuth; servers are matched against their SANs.
import type { San } from './san.js';

// 'ca' is a self-signed root; 'intermediate' a CA the root signs that may sign leaves only (pathLen 0).
export const PROFILES = ['ca', 'intermediate', 'server', 'client', 'peer'] as const;
export type Profile = (typeof PROFILES)[number];

/** An extension in the shape node-forge's setExtensions() takes. */
export type ForgeExtension = { name: string; critical?: boolean } & Record<string, unknown>;

export interface ProfileInput {
  sans: San[];
  /** The subject key is EC: it signs (digitalSignature) but never enciphers keys (RFC 5480 §3). */
  ecKey?: boolean;
  /** The issuer's subjectKeyIdentifier (raw bytes), for authorityKeyIdentifier; absent when self-signed. */
  authorityKeyId?: Buffer;
}

const EKU: Record<Exclude<Profile, 'ca' | 'intermediate'>, Record<string, true>> = {
  server: { serverAuth: true },
  client: { clientAuth: true },
  // Replication and cluster links: the same certificate serves and dials.
  peer: { serverAuth: true, clientAuth: true },
};

const EKU_OID = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;

/**
 * The extended key usages a certificate of PROFILE lacks, given the EKU OIDs it has (X509Certificate's
 * keyUsage; undefined = no EKU extension, which allows every usage).
 */
export function missingUsages(profile: Profile, has: string[] | undefined): string[] {
  if (profile === 'ca' || profile === 'intermediate' || has === undefined) return [];
  return Object.keys(EKU[profile]).filter((u) => !has.includes(EKU_OID[u as keyof typeof EKU_OID]));
}

export function extensionsFor(profile: Profile, input: ProfileInput): ForgeExtension[] {
  const exts: ForgeExtension[] = [];
  if (profile === 'ca' || profile === 'intermediate') {
    exts.push({
      name: 'basicConstraints',
      critical: true,
      cA: true,
      ...(profile === 'intermediate' ? { pathLenConstraint: 0 } : {}),
    });
    exts.push({ name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true });
  } else {
    exts.push({ name: 'basicConstraints', critical: true, cA: false });
    // keyEncipherment is RSA key transport (TLS 1.2 RSA suites); an EC key only signs.
    exts.push({
      name: 'keyUsage',
      critical: true,
      digitalSignature: true,
      ...(input.ecKey ? {} : { keyEncipherment: true }),
    });
    exts.push({ name: 'extKeyUsage', ...EKU[profile] });
  }
  if (input.sans.length > 0) {
    exts.push({
      name: 'subjectAltName',
      altNames: input.sans.map((s) => (s.type === 'ip' ? { type: 7, ip: s.value } : { type: 2, value: s.value })),
    });
  }
  // Its value is set by the certificate builder (lib/pki/certificate.ts) from the real key.
  exts.push({ name: 'subjectKeyIdentifier' });
  if (input.authorityKeyId) {
    exts.push({ name: 'authorityKeyIdentifier', keyIdentifier: input.authorityKeyId.toString('binary') });
  }
  return exts;
}
