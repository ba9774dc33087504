// The cluster's CA: created once, imported from the user's own files, or loaded. Its key may be
// encrypted at rest (PKCS#8, AES-256-CBC) and is decrypted only when something must be signed.
import { readFile } from 'node:fs/promises';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { relative } from 'node:path';
import { generateRsaKey } from '../pki/keys.js';
import { inspectCertificate, parseCertificates, type CertificateInfo } from '../pki/inspect.js';
import { inputError } from '../errors.js';
import { CERT_MODE, KEY_MODE } from '../store/atomic-write.js';
import { exists, type PkiLayout } from '../store/pki-dir.js';
import type { BatchFile } from '../store/batch.js';
import type { CaRecord } from '../store/manifest.js';
import type { Cluster } from '../inventory/model.js';

export interface CaImport {
  certPath: string;
  keyPath: string;
}

export interface CaOptions {
  /** Encrypts a new or imported CA key, and decrypts an encrypted one. */
  passphrase?: string;
  import?: CaImport;
  now?: Date;
}

export type CaAction = 'created' | 'imported' | 'loaded';

export interface CaState {
  action: CaAction;
  certPem: string;
  info: CertificateInfo;
  record: CaRecord;
  /** The CA files to write (a new or imported CA); empty when loaded. */
  files: BatchFile[];
  /** The CA's private key, decrypted on first use. */
  key(): Promise<KeyObject>;
}

function exportKey(key: KeyObject, passphrase: string | undefined): string {
  return (passphrase
    ? key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
    : key.export({ type: 'pkcs8', format: 'pem' })) as string;
}

function isEncrypted(pem: string): boolean {
  return /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem);
}

/** Decrypts a key, turning OpenSSL's errors into ones a person can act on. */
export function decryptKey(pem: string, file: string, passphrase: string | undefined): KeyObject {
  const encrypted = isEncrypted(pem);
  if (encrypted && passphrase === undefined) {
    throw inputError('ca-passphrase-needed', `${file} is encrypted and no passphrase was given`, { file }, 'set DBTLS_CA_PASSPHRASE or pass --ca-passphrase-file FILE');
  }
  try {
    return createPrivateKey(encrypted ? { key: pem, passphrase } : { key: pem });
  } catch (e) {
    if (encrypted) throw inputError('ca-passphrase-wrong', `${file} could not be decrypted: wrong passphrase`, { file }, 'check DBTLS_CA_PASSPHRASE or the --ca-passphrase-file');
    throw inputError('bad-key', `${file} is not a readable private key (${(e as Error).message})`, { file });
  }
}

function record(info: CertificateInfo, layout: PkiLayout, encrypted: boolean, imported: boolean): CaRecord {
  return {
    subject: info.subject,
    serial: info.serial,
    fingerprint256: info.fingerprint256,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    cert: relative(layout.root, layout.ca),
    key: relative(layout.root, layout.caKey),
    encrypted,
    imported,
  };
}

/** Checks that a certificate can act as this cluster's CA with this key. */
function checkCa(cert: X509Certificate, key: KeyObject, file: string, now: Date): void {
  if (!cert.ca) throw inputError('not-a-ca', `${file} is not a CA certificate (basicConstraints CA:TRUE is missing)`, { file });
  if (!cert.checkPrivateKey(key)) throw inputError('ca-key-mismatch', `the CA key does not belong to ${file}`, { file });
  if (Date.parse(cert.validTo) <= now.getTime()) throw inputError('ca-expired', `${file} expired on ${cert.validTo}`, { file });
  if (key.asymmetricKeyType !== 'rsa') throw inputError('ca-key-type', `the CA key of ${file} is ${key.asymmetricKeyType}; dbtls signs with RSA CAs only`, { file });
}

function firstCertificate(pem: string, file: string): X509Certificate {
  const [cert] = parseCertificates(pem);
  if (!cert) throw inputError('no-certificate', `${file} holds no PEM certificate`, { file });
  return cert;
}

export async function prepareCa(layout: PkiLayout, cluster: Cluster, opts: CaOptions = {}): Promise<CaState> {
  const now = opts.now ?? new Date();
  const [haveCert, haveKey] = await Promise.all([exists(layout.ca), exists(layout.caKey)]);

  if (haveCert) {
    const certPem = await readFile(layout.ca, 'utf8');
    const cert = firstCertificate(certPem, layout.ca);
    const info = inspectCertificate(cert);
    if (opts.import) {
      const theirs = firstCertificate(await readFile(opts.import.certPath, 'utf8'), opts.import.certPath);
      if (theirs.fingerprint256 !== cert.fingerprint256) {
        throw inputError('ca-exists', `${layout.ca} already holds another CA (${info.subject})`, { file: layout.ca }, 'replacing a CA re-issues every certificate: use a new pki directory, or rotate the CA');
      }
    }
    let keyPem: string | undefined;
    let cached: KeyObject | undefined;
    if (haveKey) keyPem = await readFile(layout.caKey, 'utf8');
    return {
      action: 'loaded',
      certPem,
      info,
      record: record(info, layout, keyPem !== undefined && isEncrypted(keyPem), false),
      files: [],
      async key() {
        if (cached) return cached;
        if (keyPem === undefined) throw inputError('no-ca-key', `${layout.caKey} is missing: the CA cannot sign`, { file: layout.caKey }, 'restore the CA key, or issue from where it is kept');
        const key = decryptKey(keyPem, layout.caKey, opts.passphrase);
        checkCa(cert, key, layout.ca, now);
        return (cached = key);
      },
    };
  }
  if (haveKey) {
    throw inputError('orphan-ca-key', `${layout.caKey} exists without ${layout.ca}; refusing to replace a CA key`, { file: layout.caKey }, 'restore ca.pem, or move the key away');
  }

  if (opts.import) {
    const { certPath, keyPath } = opts.import;
    const certPem = await readFile(certPath, 'utf8').catch((e) => { throw inputError('unreadable', `cannot read ${certPath}: ${e.message}`, { file: certPath }); });
    const keyPem = await readFile(keyPath, 'utf8').catch((e) => { throw inputError('unreadable', `cannot read ${keyPath}: ${e.message}`, { file: keyPath }); });
    const cert = firstCertificate(certPem, certPath);
    const key = decryptKey(keyPem, keyPath, opts.passphrase);
    checkCa(cert, key, certPath, now);
    const info = inspectCertificate(cert);
    return {
      action: 'imported',
      certPem,
      info,
      record: record(info, layout, opts.passphrase !== undefined, true),
      files: [
        { path: layout.ca, data: certPem, mode: CERT_MODE },
        { path: layout.caKey, data: exportKey(key, opts.passphrase), mode: KEY_MODE },
      ],
      key: async () => key,
    };
  }

  const key = await generateRsaKey(cluster.ca.keySize);
  const { issueCertificate } = await import('../pki/certificate.js');
  const ca = issueCertificate({ profile: 'ca', subject: { ...cluster.subject, CN: cluster.ca.commonName }, days: cluster.ca.days, subjectKey: key, now });
  const info = inspectCertificate(firstCertificate(ca.pem, layout.ca));
  return {
    action: 'created',
    certPem: ca.pem,
    info,
    record: record(info, layout, opts.passphrase !== undefined, false),
    files: [
      { path: layout.ca, data: ca.pem, mode: CERT_MODE },
      { path: layout.caKey, data: exportKey(key, opts.passphrase), mode: KEY_MODE },
    ],
    key: async () => key,
  };
}
