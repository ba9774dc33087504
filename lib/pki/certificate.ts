// Builds X.509 v3 certificates: node-forge assembles the TBSCertificate's names, validity and
// extensions; the subject's SubjectPublicKeyInfo is Node's own DER of the key (RSA or EC: forge
// knows RSA only), the signature AlgorithmIdentifier is the Signer's, and the Signer (a key in
// memory, or one in an HSM) signs the TBS DER. One path for every key type.
import forge from 'node-forge';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { extensionsFor, type Profile } from './profiles.js';
import { randomSerialHex } from './serial.js';
import { keyIdentifier, spkiDer } from './keys.js';
import { keySigner, type Signer } from './signer.js';
import { readTlv, sequence, tlv, valueOf } from './der.js';
import { certificateExtensions } from './x509-der.js';
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
// forge's TBS builder wants an RSA public key to encode; its SubjectPublicKeyInfo is replaced by the
// real key's DER before anything is signed, so this stand-in never appears in a certificate.
const STAND_IN_KEY = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('3'), new forge.jsbn.BigInteger('3'));
export { BACKDATE_SECONDS, validityFor } from './validity.js';

/** A CA ready to sign: its subject exactly as encoded in its certificate, its key identifier, its key. */
export interface Issuer {
  certPem: string;
  /** Signs for the CA: its key in memory, or a key in an HSM. */
  signer: Signer;
  commonName: string | undefined;
  subjectAsn1: forge.asn1.Asn1;
  keyId: Buffer;
  /** The CA's own notAfter: nothing it signs outlives it. */
  notAfter: Date;
}

function parseWithSubject(certPem: string): { der: Buffer; subjectAsn1: forge.asn1.Asn1 } {
  const block = pemBlocks(certPem).find((b) => b.label === 'CERTIFICATE');
  if (!block) throw new DbtlsError('bad-ca', 'the CA file holds no certificate');
  const asn1 = forge.asn1.fromDer(block.der.toString('binary'));
  const tbsFields = (asn1.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
  // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, ...
  const offset = tbsFields[0]!.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  return { der: block.der, subjectAsn1: tbsFields[4 + offset]! };
}

/** A certificate's subject exactly as encoded (for a CA renewed under its predecessor's very name). */
export function subjectAsn1Of(certPem: string): forge.asn1.Asn1 {
  return parseWithSubject(certPem).subjectAsn1;
}

const SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

/**
 * Prepares a CA certificate and its key (or an HSM's Signer) for signing. The issuer name is copied
 * byte for byte from the CA's own subject (re-encoding it through forge would double-encode UTF-8 and
 * break chain matching), and authorityKeyIdentifier takes the CA's own subjectKeyIdentifier. Read
 * without forge's certificate parser, which knows RSA keys only.
 */
export function loadIssuer(certPem: string, key: KeyObject | Signer): Issuer {
  const signer = 'sign' in key ? key : keySigner(key);
  const { der, subjectAsn1 } = parseWithSubject(certPem);
  // RDNAttributesAsArray exists at run time but is missing from @types/node-forge.
  const rdns = (forge.pki as unknown as { RDNAttributesAsArray(n: forge.asn1.Asn1): forge.pki.CertificateField[] })
    .RDNAttributesAsArray;
  const cn = rdns(subjectAsn1).find((a) => a.shortName === 'CN');
  const commonName = typeof cn?.value === 'string' ? forge.util.decodeUtf8(cn.value) : undefined;
  const ski = certificateExtensions(der).find((e) => e.oid === SUBJECT_KEY_IDENTIFIER);
  const keyId = ski ? valueOf(ski.value, readTlv(ski.value, 0)) : keyIdentifier(signer.publicKey);
  const notAfter = new Date(new X509Certificate(der).validTo);
  return { certPem, signer, commonName, subjectAsn1, keyId, notAfter };
}

export interface CertificateRequest {
  profile: Profile;
  subject: Subject;
  sans?: San[];
  days: number;
  /** The subject's key: its public half goes into the certificate. */
  subjectKey: KeyObject;
  /** The CA that signs; absent for a self-signed CA (signed by subjectKey, or by selfSigner). */
  issuer?: Issuer;
  /** Self-signed with a key that is not in memory (an HSM's): subjectKey is then its public key. */
  selfSigner?: Signer;
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

const fromDer = (der: Buffer): forge.asn1.Asn1 => forge.asn1.fromDer(der.toString('binary'));
const octetStringAsn1 = (b: Buffer): forge.asn1.Asn1 =>
  forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, b.toString('binary'));

export function issueCertificate(req: CertificateRequest): IssuedCertificate {
  const signer = req.issuer ? req.issuer.signer : (req.selfSigner ?? keySigner(req.subjectKey));
  if (!Number.isInteger(req.days) || req.days < 1)
    throw new RangeError(`days must be a positive whole number, got ${req.days}`);
  if ((req.profile === 'ca' || req.profile === 'intermediate') && req.sans?.length)
    throw new RangeError('a CA certificate carries no SANs');

  const cert = forge.pki.createCertificate();
  cert.publicKey = STAND_IN_KEY;
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
  const extensions = extensionsFor(req.profile, {
    sans: req.sans ?? [],
    ecKey: req.subjectKey.asymmetricKeyType === 'ec',
    authorityKeyId: req.issuer?.keyId,
  });
  // Given as its value: forge would hash the certificate's public key, which it knows only for RSA.
  const ski = extensions.find((e) => e.name === 'subjectKeyIdentifier');
  if (ski) ski['value'] = octetStringAsn1(keyIdentifier(req.subjectKey));
  cert.setExtensions(extensions);

  // forge's TBS with the real key and the Signer's algorithm put in, signed over its DER.
  cert.signatureOid = SHA256_WITH_RSA;
  cert.siginfo.algorithmOid = SHA256_WITH_RSA;
  // getTBSCertificate exists at run time but is missing from @types/node-forge.
  const tbs = (
    forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }
  ).getTBSCertificate(cert);
  // TBSCertificate: [0] version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, [3] extensions.
  const fields = tbs.value as forge.asn1.Asn1[];
  fields[2] = fromDer(signer.algorithm);
  if (req.issuer) fields[3] = req.issuer.subjectAsn1;
  else if (req.subjectAsn1) fields[3] = fields[5] = req.subjectAsn1;
  fields[6] = fromDer(spkiDer(req.subjectKey));
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  const signature = signer.sign(tbsDer);
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
  const der = sequence(tbsDer, signer.algorithm, tlv(0x03, Buffer.from([0]), signature));
  const pem = derToPem('CERTIFICATE', der);
  return {
    pem,
    serialHex: cert.serialNumber,
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
    ...(cappedAt ? { cappedAt } : {}),
  };
}
