// X.509 v2 certificate revocation lists (RFC 5280 §5): built from DER parts and signed by a Signer
// (a key in memory or in an HSM), and read back by a strict reader for check. The issuer name is
// the CA certificate's subject copied byte for byte, so OpenSSL matches the CRL to its CA.
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { children, expectTag, integer, oid, readOid, readTlv, sequence, TAG, tlv, valueOf, type Tlv } from './der.js';
import { certificateExtensions } from './x509-der.js';
import { derToPem, pemBlocks } from './pem.js';
import { spkiDer } from './keys.js';
import type { Signer } from './signer.js';
import { DbtlsError, inputError } from '../errors.js';

/** RFC 5280 §5.3.1 reason codes dbtls offers (certificateHold and removeFromCRL are not: a revocation is final). */
export const CRL_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
  'aACompromise',
] as const;
export type CrlReason = (typeof CRL_REASONS)[number];
const REASON_CODE: Record<CrlReason, number> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

export interface RevokedEntry {
  /** Lower-case hex without leading zeros' ambiguity: as lib/pki/cert-info.ts writes serials. */
  serialHex: string;
  revokedAt: Date;
  reason?: CrlReason;
}

export interface CrlRequest {
  issuerCertPem: string;
  signer: Signer;
  revoked: RevokedEntry[];
  crlNumber: bigint | number;
  thisUpdate: Date;
  nextUpdate: Date;
}

const OID = {
  authorityKeyIdentifier: '2.5.29.35',
  subjectKeyIdentifier: '2.5.29.14',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
};

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §5.1.2.4), whole seconds, UTC. */
function time(d: Date): Buffer {
  const iso = d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:T]/g, '');
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(iso.slice(2), 'latin1'))
    : tlv(0x18, Buffer.from(iso, 'latin1'));
}

const extension = (id: string, value: Buffer): Buffer => sequence(oid(id), tlv(TAG.OCTET_STRING, value));

/** The TLVs inside PARENT with the offset where each one's header starts (to copy it whole). */
function parts(buf: Buffer, parent: Tlv): Array<Tlv & { from: number }> {
  let from = parent.start;
  return children(buf, parent).map((t) => {
    const out = { ...t, from };
    from = t.end;
    return out;
  });
}

/** The CA certificate's subject as encoded, and its key identifier. */
function issuerOf(certPem: string): { name: Buffer; keyId: Buffer; publicKeyDer: Buffer } {
  const block = pemBlocks(certPem).find((b) => b.label === 'CERTIFICATE');
  if (!block) throw new DbtlsError('bad-ca', 'the CA file holds no certificate');
  const der = block.der;
  const tbs = children(der, readTlv(der, 0))[0]!;
  const fields = parts(der, tbs);
  const at = fields[0]!.tag === 0xa0 ? 1 : 0; // [0] version
  const subject = fields[at + 4]!;
  const name = der.subarray(subject.from, subject.end);
  const ski = certificateExtensions(der).find((e) => e.oid === OID.subjectKeyIdentifier);
  const publicKeyDer = spkiDer(new X509Certificate(der).publicKey);
  const keyId = ski ? valueOf(ski.value, readTlv(ski.value, 0)) : keyIdOfSpki(publicKeyDer);
  return { name, keyId, publicKeyDer };
}

/** RFC 5280 §4.2.1.2 method 1 over a SubjectPublicKeyInfo. */
function keyIdOfSpki(spki: Buffer): Buffer {
  const [, bits] = children(spki, readTlv(spki, 0));
  return createHash('sha1')
    .update(spki.subarray(bits!.start + 1, bits!.end))
    .digest();
}

export function buildCrl(req: CrlRequest): { pem: string; der: Buffer } {
  if (req.nextUpdate.getTime() <= req.thisUpdate.getTime())
    throw new RangeError('nextUpdate must come after thisUpdate');
  const issuer = issuerOf(req.issuerCertPem);
  if (!spkiDer(req.signer.publicKey).equals(issuer.publicKeyDer))
    throw inputError('ca-key-mismatch', 'the CRL signing key does not belong to the CA certificate');
  const entries = [...req.revoked]
    .sort((a, b) => a.revokedAt.getTime() - b.revokedAt.getTime())
    .map((e) =>
      sequence(
        integer(BigInt(`0x${e.serialHex}`)),
        time(e.revokedAt),
        ...(e.reason ? [sequence(extension(OID.reasonCode, tlv(0x0a, Buffer.from([REASON_CODE[e.reason]]))))] : []),
      ),
    );
  const crlExtensions = tlv(
    0xa0,
    sequence(
      extension(OID.authorityKeyIdentifier, sequence(tlv(0x80, issuer.keyId))),
      extension(OID.cRLNumber, integer(BigInt(req.crlNumber))),
    ),
  );
  const tbs = sequence(
    integer(1), // v2
    req.signer.algorithm,
    issuer.name,
    time(req.thisUpdate),
    time(req.nextUpdate),
    // RFC 5280: revokedCertificates is absent, not empty, when nothing is revoked.
    ...(entries.length ? [sequence(...entries)] : []),
    crlExtensions,
  );
  const der = sequence(tbs, req.signer.algorithm, tlv(TAG.BIT_STRING, Buffer.from([0]), req.signer.sign(tbs)));
  return { der, pem: derToPem('X509 CRL', der) };
}

export interface ParsedCrl {
  issuerDer: Buffer;
  thisUpdate: Date;
  nextUpdate?: Date;
  crlNumber?: bigint;
  authorityKeyId?: Buffer;
  revoked: RevokedEntry[];
  tbsDer: Buffer;
  signatureAlgorithmOid: string;
  signature: Buffer;
}

function readTime(buf: Buffer, t: Tlv): Date {
  const s = valueOf(buf, t).toString('latin1');
  const m = (
    t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/ : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/
  ).exec(s);
  if ((t.tag !== 0x17 && t.tag !== 0x18) || !m) throw new Error('DER: bad time');
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

function readUnsigned(buf: Buffer, t: Tlv): bigint {
  const v = valueOf(buf, expectTag(t, TAG.INTEGER));
  return v.length ? BigInt(`0x${v.toString('hex')}`) : 0n;
}

function readExtensions(buf: Buffer, t: Tlv): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const ext of children(buf, expectTag(t, TAG.SEQUENCE))) {
    const kids = children(buf, ext);
    out.set(readOid(buf, kids[0]!), valueOf(buf, expectTag(kids[kids.length - 1], TAG.OCTET_STRING)));
  }
  return out;
}

const REASON_BY_CODE = new Map(Object.entries(REASON_CODE).map(([k, v]) => [v, k as CrlReason]));

/** Reads a CRL (PEM "X509 CRL" or DER); anything malformed is a DbtlsError `bad-crl`. */
export function parseCrl(input: string | Buffer, file = 'the CRL'): ParsedCrl {
  try {
    const der =
      typeof input === 'string' || input.subarray(0, 5).toString('latin1') === '-----'
        ? pemBlocks(input.toString()).find((b) => b.label === 'X509 CRL')?.der
        : input;
    if (!der) throw new Error('no "BEGIN X509 CRL" block');
    const outer = expectTag(readTlv(der, 0), TAG.SEQUENCE);
    if (outer.end !== der.length) throw new Error('trailing bytes');
    const [tbs, alg, sig] = parts(der, outer);
    expectTag(tbs, TAG.SEQUENCE);
    const fields = parts(der, tbs);
    let i = fields[0]?.tag === TAG.INTEGER ? 1 : 0;
    i++; // signature AlgorithmIdentifier (checked against the outer one by the verifier)
    const issuer = fields[i++]!;
    expectTag(issuer, TAG.SEQUENCE);
    const thisUpdate = readTime(der, fields[i++]!);
    let nextUpdate: Date | undefined;
    if (fields[i] && (fields[i]!.tag === 0x17 || fields[i]!.tag === 0x18)) nextUpdate = readTime(der, fields[i++]!);
    const revoked: RevokedEntry[] = [];
    if (fields[i]?.tag === TAG.SEQUENCE) {
      for (const entry of children(der, fields[i++]!)) {
        const [serial, date, exts] = children(der, entry);
        const e: RevokedEntry = { serialHex: readUnsigned(der, serial!).toString(16), revokedAt: readTime(der, date!) };
        const reason = exts ? readExtensions(der, exts).get(OID.reasonCode) : undefined;
        if (reason) {
          const code = valueOf(reason, expectTag(readTlv(reason, 0), 0x0a))[0];
          const name = code === undefined ? undefined : REASON_BY_CODE.get(code);
          if (name) e.reason = name;
        }
        revoked.push(e);
      }
    }
    const out: ParsedCrl = {
      issuerDer: der.subarray(issuer.from, issuer.end),
      thisUpdate,
      revoked,
      tbsDer: der.subarray(tbs.from, tbs.end),
      signatureAlgorithmOid: readOid(der, children(der, expectTag(alg, TAG.SEQUENCE))[0]!),
      signature: valueOf(der, expectTag(sig, TAG.BIT_STRING)).subarray(1),
    };
    if (nextUpdate) out.nextUpdate = nextUpdate;
    if (fields[i]?.tag === 0xa0) {
      const exts = readExtensions(der, children(der, fields[i]!)[0]!);
      const number = exts.get(OID.cRLNumber);
      if (number) out.crlNumber = readUnsigned(number, readTlv(number, 0));
      const aki = exts.get(OID.authorityKeyIdentifier);
      if (aki) {
        const id = children(aki, readTlv(aki, 0)).find((t) => t.tag === 0x80);
        if (id) out.authorityKeyId = Buffer.from(valueOf(aki, id));
      }
    }
    return out;
  } catch (e) {
    if (e instanceof DbtlsError) throw e;
    throw inputError('bad-crl', `${file} is not a readable CRL (${(e as Error).message.replace(/^DER: /, '')})`);
  }
}

const HASH_OF: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
};

/** Was CRL signed by the key of CA_CERT_PEM, and does it name that CA as its issuer? */
export function crlSignedBy(crl: ParsedCrl, caCertPem: string): boolean {
  const hash = HASH_OF[crl.signatureAlgorithmOid];
  if (!hash) return false;
  const issuer = issuerOf(caCertPem);
  if (!crl.issuerDer.equals(issuer.name)) return false;
  const key = createPublicKey({ key: issuer.publicKeyDer, format: 'der', type: 'spki' });
  return verify(hash, crl.tbsDer, key, crl.signature);
}

/** Every CRL of a PEM file (crl.pem holds one per trusted CA); none is a `bad-crl` error. */
export function parseCrls(text: string, file = 'the CRL'): ParsedCrl[] {
  const blocks = pemBlocks(text).filter((b) => b.label === 'X509 CRL');
  if (!blocks.length) throw inputError('bad-crl', `${file} is not a readable CRL (no "BEGIN X509 CRL" block)`);
  return blocks.map((b) => parseCrl(b.der, file));
}
