// Builds X.509 v3 certificates with node-forge and signs them with Node's native crypto: forge
// assembles the TBSCertificate, crypto.sign() signs its DER (about 100x faster than forge's
// pure-JS sign()), and forge wraps TBS + signature into the final certificate.
import forge from 'node-forge';
import { sign, type KeyObject } from 'node:crypto';
import { extensionsFor, type Profile } from './profiles.js';
import { randomSerialHex } from './serial.js';
import { keyIdentifier, publicKeyToPem } from './keys.js';
import type { San } from './san.js';
import { DbtlsError } from '../errors.js';
import { derToPem, pemBlocks } from './pem.js';
import { validityFor } from './validity.js';

/** Subject fields, written in the conventional order C, ST, L, O, OU, CN. */
export interface Subject {
  C?: string;
  ST?: string;
  L?: string;
  O?: string;
  OU?: string;
  CN: string;
}

const SUBJECT_ORDER: Array<keyof Subject> = ['C', 'ST', 'L', 'O', 'OU', 'CN'];
const SHA256_WITH_RSA = forge.pki.oids['sha256WithRSAEncryption']!;
export { BACKDATE_SECONDS, validityFor } from './validity.js';

/** A CA ready to sign: its subject exactly as encoded in its certificate, its key identifier, its key. */
export interface Issuer {
  certPem: string;
  key: KeyObject;
  commonName: string | undefined;
  subjectAsn1: forge.asn1.Asn1;
  keyId: Buffer;
  /** The CA's own notAfter: nothing it signs outlives it. */
  notAfter: Date;
}

function parseWithSubject(certPem: string): { asn1: forge.asn1.Asn1; subjectAsn1: forge.asn1.Asn1 } {
  const block = pemBlocks(certPem).find((b) => b.label === 'CERTIFICATE');
  if (!block) throw new DbtlsError('bad-ca', 'the CA file holds no certificate');
  const asn1 = forge.asn1.fromDer(block.der.toString('binary'));
  const tbsFields = (asn1.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
  // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, ...
  const offset = tbsFields[0]!.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  return { asn1, subjectAsn1: tbsFields[4 + offset]! };
}

/** A certificate's subject exactly as encoded (for a CA renewed under its predecessor's very name). */
export function subjectAsn1Of(certPem: string): forge.asn1.Asn1 {
  return parseWithSubject(certPem).subjectAsn1;
}

/**
 * Prepares a CA certificate and its key for signing. The issuer name is copied byte for byte from
 * the CA's own subject (re-encoding it through forge would double-encode UTF-8 and break chain
 * matching), and authorityKeyIdentifier takes the CA's own subjectKeyIdentifier.
 */
export function loadIssuer(certPem: string, key: KeyObject): Issuer {
  const { asn1, subjectAsn1 } = parseWithSubject(certPem);
  const ca = forge.pki.certificateFromAsn1(asn1);
  const cnField = ca.subject.getField('CN') as { value: string; valueTagClass?: number } | null;
  const commonName = cnField ? forge.util.decodeUtf8(cnField.value) : undefined;
  const ski = ca.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  const keyId = ski?.subjectKeyIdentifier ? Buffer.from(ski.subjectKeyIdentifier, 'hex') : keyIdentifier(key);
  return { certPem, key, commonName, subjectAsn1, keyId, notAfter: ca.validity.notAfter };
}

export interface CertificateRequest {
  profile: Profile;
  subject: Subject;
  sans?: San[];
  days: number;
  /** The subject's key: its public half goes into the certificate. */
  subjectKey: KeyObject;
  /** The CA that signs; absent for a self-signed CA (signed by subjectKey). */
  issuer?: Issuer;
  /**
   * Self-signed only: the subject (and so the issuer) as these exact bytes instead of `subject` —
   * a new CA that takes over an old one's name, so REQUIRE ISSUER accounts keep matching.
   */
  subjectAsn1?: forge.asn1.Asn1;
  serialHex?: string;
  now?: Date;
}

export interface IssuedCertificate {
  pem: string;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /**
   * Set when notBefore + days would have outlived the issuing CA: notAfter was cut to the CA's
   * notAfter (this date). Callers that let a user ask for the days say so (lib/issue refuses first).
   */
  cappedAt?: Date;
}

function toForgeAttributes(subject: Subject): forge.pki.CertificateField[] {
  const attrs: forge.pki.CertificateField[] = [];
  for (const k of SUBJECT_ORDER) {
    const value = subject[k];
    if (value === undefined || value === '') continue;
    // UTF8String for everything but the country code (PrintableString by RFC 5280).
    const valueTagClass = k === 'C' ? forge.asn1.Type.PRINTABLESTRING : forge.asn1.Type.UTF8;
    attrs.push({ shortName: k, value, valueTagClass } as unknown as forge.pki.CertificateField);
  }
  return attrs;
}

function requireRsa(key: KeyObject, role: string): void {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new DbtlsError('key-type', `${role} key is ${key.asymmetricKeyType}; dbtls signs with RSA keys only`);
  }
}

export function issueCertificate(req: CertificateRequest): IssuedCertificate {
  const signingKey = req.issuer ? req.issuer.key : req.subjectKey;
  requireRsa(signingKey, req.issuer ? 'the CA' : 'the self-signing');
  if (!Number.isInteger(req.days) || req.days < 1) throw new RangeError(`days must be a positive whole number, got ${req.days}`);
  if (req.profile === 'ca' && req.sans?.length) throw new RangeError('a CA certificate carries no SANs');

  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyToPem(req.subjectKey));
  cert.serialNumber = req.serialHex ?? randomSerialHex();
  const validity = validityFor(req.days, req.now ?? new Date());
  let cappedAt: Date | undefined;
  if (req.issuer && validity.notAfter.getTime() > req.issuer.notAfter.getTime()) {
    // A certificate may not outlive the CA that vouches for it (verifiers reject it from then on).
    cappedAt = req.issuer.notAfter;
    validity.notAfter = new Date(cappedAt.getTime());
  }
  cert.validity.notBefore = validity.notBefore;
  cert.validity.notAfter = validity.notAfter;

  const subject = toForgeAttributes(req.subject);
  cert.setSubject(subject);
  if (req.issuer && req.issuer.commonName === req.subject.CN) {
    // OpenSSL takes a leaf whose name equals its issuer's for self-signed, and MySQL refuses it.
    throw new DbtlsError('same-cn', `the certificate's CN "${req.subject.CN}" must differ from the CA's`);
  }
  cert.setIssuer(subject); // replaced below by the CA's exact bytes when there is a CA
  cert.setExtensions(extensionsFor(req.profile, { sans: req.sans ?? [], authorityKeyId: req.issuer?.keyId }));

  // Sign natively over the TBS bytes forge produced, then hand forge the signature to wrap.
  cert.signatureOid = SHA256_WITH_RSA;
  cert.siginfo.algorithmOid = SHA256_WITH_RSA;
  // getTBSCertificate exists at run time but is missing from @types/node-forge.
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  if (req.issuer) (tbs.value as forge.asn1.Asn1[])[3] = req.issuer.subjectAsn1;
  else if (req.subjectAsn1) (tbs.value as forge.asn1.Asn1[])[3] = (tbs.value as forge.asn1.Asn1[])[5] = req.subjectAsn1;
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, signingKey);
  (cert as unknown as { tbsCertificate: forge.asn1.Asn1 }).tbsCertificate = tbs;
  cert.signature = signature.toString('binary');

  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  const pem = derToPem('CERTIFICATE', Buffer.from(der, 'binary'));
  return {
    pem,
    serialHex: cert.serialNumber,
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
    ...(cappedAt ? { cappedAt } : {}),
  };
}
