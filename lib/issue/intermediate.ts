// The CA that signs leaves. Without ca.intermediate it is ca.pem's own CA. With it, ca.pem is an
// offline root whose key is sealed (encrypted with the CA passphrase, or in a PKCS#11 token) and is
// needed only to sign an intermediate; intermediate.pem + intermediate-key.pem are the online CA
// that signs every leaf, and every leaf file carries leaf + intermediate. Trust files keep the root
// alone, so a new intermediate (rotate intermediate) changes no trust anywhere. As with the CA, an
// intermediate the manifest records is never silently replaced, and half of one is refused.
import { certificatePem } from '../pki/pem.js';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { relative } from 'node:path';
import { certificateInfo, parseCertificatesOf, signedBy, type CertificateInfo } from '../pki/cert-info.js';
import { exportPrivateKeyPem, generateKey, sameKey } from '../pki/keys.js';
import { verifyChain } from '../pki/chain.js';
import { keySigner, type Signer } from '../pki/signer.js';
import { readTextIfExists } from '../store/safe-fs.js';
import { CERT_MODE, KEY_MODE } from '../store/atomic-write.js';
import { inputError } from '../errors.js';
import { decryptKey, type CaAction, type CaState } from './ca.js';
import { caRecord } from './ca-record.js';
import type { BatchFile } from '../store/batch.js';
import type { CaRecord } from '../store/manifest.js';
import type { PkiLayout } from '../store/pki-dir.js';
import type { Cluster } from '../inventory/model.js';

const DAY_MS = 86_400_000;

export interface SigningCa {
  action: CaAction;
  /** The signing CA's certificate alone. */
  certPem: string;
  /** What every leaf file carries after the leaf: the intermediate, or nothing. */
  chainPem: string;
  info: CertificateInfo;
  signer(): Promise<Signer>;
  /** A new intermediate's two files. */
  files: BatchFile[];
  /** For the manifest's `intermediate`; absent without one. */
  record?: CaRecord;
}

export interface SigningOptions {
  passphrase?: string;
  now?: Date;
  /** The intermediate the manifest records. */
  recorded?: CaRecord;
  /** issue --check: nothing is written and the root is not asked to sign (a stand-in is made). */
  dryRun?: boolean;
}

function intermediateRecord(info: CertificateInfo, layout: PkiLayout): CaRecord {
  const rel = (p: string) => relative(layout.root, p);
  return caRecord(info, {
    cert: rel(layout.intermediate),
    key: rel(layout.intermediateKey),
    encrypted: false,
    imported: false,
  });
}

/** A new intermediate signed by the root: its key, certificate and files (not yet written). */
export async function newIntermediate(
  layout: PkiLayout,
  cluster: Cluster,
  root: CaState,
  now: Date,
  signer?: Signer,
): Promise<{ cert: X509Certificate; key: KeyObject; files: BatchFile[] }> {
  const { issueCertificate, loadIssuer } = await import('../pki/certificate.js');
  const key = await generateKey(cluster.ca.keyType);
  const rootCert = parseCertificatesOf(root.certPem, layout.ca)[0]!;
  // Never past the root (its notAfter caps it anyway): a shorter life says so up front.
  const left = Math.floor((Date.parse(rootCert.validTo) - now.getTime()) / DAY_MS);
  const days = Math.max(1, Math.min(cluster.ca.intermediate!.days, left));
  const issued = issueCertificate({
    profile: 'intermediate',
    subject: { ...cluster.subject, CN: `${cluster.ca.commonName} Intermediate` },
    days,
    subjectKey: key,
    issuer: loadIssuer(root.certPem, signer ?? (await root.signer())),
    now,
  });
  return {
    cert: new X509Certificate(issued.pem),
    key,
    files: [
      { path: layout.intermediate, data: issued.pem, mode: CERT_MODE },
      { path: layout.intermediateKey, data: exportPrivateKeyPem(key, undefined), mode: KEY_MODE },
    ],
  };
}

function rootSealed(cluster: Cluster, root: CaState): void {
  // Created now: its key is written as given. A root kept in the clear beside its intermediate
  // is no offline root at all.
  if (root.action === 'loaded' || cluster.ca.pkcs11 || root.record.encrypted) return;
  throw inputError(
    'root-unsealed',
    `ca.intermediate in ${cluster.file} keeps the root key offline, but it would be written unencrypted`,
    { file: cluster.file, field: 'ca.intermediate' },
    'give DBTLS_CA_PASSPHRASE (or --ca-passphrase-file) to encrypt the root key, or put it in a token with ca.pkcs11',
  );
}

export async function prepareSigningCa(
  layout: PkiLayout,
  cluster: Cluster,
  root: CaState,
  opts: SigningOptions = {},
): Promise<SigningCa> {
  if (!cluster.ca.intermediate) {
    const [cert] = parseCertificatesOf(root.certPem, layout.ca);
    return {
      action: root.action,
      certPem: certificatePem(cert!),
      chainPem: '',
      info: root.info,
      signer: root.signer,
      files: [],
    };
  }
  const now = opts.now ?? new Date();
  const [certPem, keyPem] = await Promise.all([
    readTextIfExists(layout.intermediate, { what: 'the intermediate CA certificate' }),
    readTextIfExists(layout.intermediateKey, { what: 'the intermediate CA key' }),
  ]);
  const roots = parseCertificatesOf(root.certPem, layout.ca);
  if (certPem !== undefined && keyPem !== undefined) {
    // The intermediate, then (one brought from your PKI) any CA between it and the root.
    const [cert, ...above] = parseCertificatesOf(certPem, layout.intermediate);
    if (!cert)
      throw inputError('no-certificate', `${layout.intermediate} holds no PEM certificate`, {
        file: layout.intermediate,
      });
    if (!verifyChain(cert, roots, above, now).ok)
      throw inputError(
        'intermediate-foreign',
        `${layout.intermediate} (${cert.subject.replace(/\n/g, ', ')}) is not signed by the root in ${layout.ca}`,
        { file: layout.intermediate },
        'restore the intermediate that goes with ca.pem from a backup, or make a new one: dbtls rotate intermediate',
      );
    if (!cert.ca)
      throw inputError('not-a-ca', `${layout.intermediate} is not a CA certificate`, { file: layout.intermediate });
    const key = decryptKey(keyPem, layout.intermediateKey, opts.passphrase);
    if (!sameKey(cert.publicKey, key))
      throw inputError('ca-key-mismatch', `${layout.intermediateKey} does not belong to ${layout.intermediate}`, {
        file: layout.intermediateKey,
      });
    if (Date.parse(cert.validTo) <= now.getTime())
      throw inputError(
        'ca-expired',
        `${layout.intermediate} expired on ${cert.validTo}`,
        { file: layout.intermediate },
        'make a new one: dbtls rotate intermediate',
      );
    const info = certificateInfo(cert);
    return {
      action: 'loaded',
      certPem: certificatePem(cert),
      chainPem: [cert, ...above].map(certificatePem).join(''),
      info,
      signer: async () => keySigner(key),
      files: [],
      record: intermediateRecord(info, layout),
    };
  }
  if (certPem !== undefined || keyPem !== undefined) {
    const [there, gone] =
      certPem !== undefined
        ? [layout.intermediate, layout.intermediateKey]
        : [layout.intermediateKey, layout.intermediate];
    throw inputError(
      'intermediate-half',
      `${gone} is missing but ${there} is there: refusing to sign with, or to replace, half an intermediate CA`,
      { file: gone },
      `restore it from a backup, or move ${there} away and run dbtls rotate intermediate`,
    );
  }
  if (opts.recorded)
    throw inputError(
      'intermediate-missing',
      `${layout.intermediate} and ${layout.intermediateKey} are missing, but ${layout.manifest} records the intermediate ${opts.recorded.subject} (serial ${opts.recorded.serial}) that signed this cluster's leaves`,
      { file: layout.intermediate },
      'restore them from a backup; to replace them on purpose (every leaf re-issued, no trust change), run dbtls rotate intermediate',
    );
  rootSealed(cluster, root);
  // --check asks the root for nothing: a stand-in intermediate, signed by a key of its own.
  const stand = opts.dryRun ? keySigner(await generateKey(cluster.ca.keyType)) : undefined;
  const made = await newIntermediate(layout, cluster, root, now, stand);
  const info = certificateInfo(made.cert);
  return {
    action: 'created',
    certPem: certificatePem(made.cert),
    chainPem: certificatePem(made.cert),
    info,
    signer: async () => keySigner(made.key),
    files: made.files,
    record: intermediateRecord(info, layout),
  };
}

/**
 * ProxySQL does not send the intermediate with the client certificate it presents to its backends
 * (sysown/proxysql#5204, open): those servers can verify it only if their trust file holds the
 * intermediate itself. So in a cluster with ProxySQL, the MySQL-family servers get this bundle as
 * their ca.pem: the root(s), the current intermediate, and the one before it while it is still valid
 * (a ProxySQL not yet pushed during `rotate intermediate` still presents a leaf of the old one).
 */
export function backendTrust(caPem: string, signing: SigningCa, existing: string | undefined, now: Date): string {
  const roots = parseCertificatesOf(caPem, 'ca.pem');
  const current = new X509Certificate(signing.certPem);
  const earlier = existing === undefined ? [] : parseCertificatesOf(existing, 'trust-backends.pem');
  const previous = earlier.find(
    (c) =>
      c.ca &&
      c.fingerprint256 !== current.fingerprint256 &&
      !roots.some((r) => r.fingerprint256 === c.fingerprint256) &&
      roots.some((r) => signedBy(c, r)) &&
      Date.parse(c.validTo) > now.getTime(),
  );
  return [...roots, current, ...(previous ? [previous] : [])].map(certificatePem).join('');
}
