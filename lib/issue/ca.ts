// The cluster's CA: created once, imported from the user's own files, or loaded. Its key may be
// encrypted at rest (PKCS#8 PBES2: PBKDF2-HMAC-SHA256 at 600,000 iterations, AES-256-CBC; older
// files at any count still read) and is decrypted only when something must be signed. A CA the
// manifest records is never replaced without --new-ca: not when its files are gone, not when half
// of it is, not when another CA sits in its place; a key that is not ca.pem's is refused.
import { readFile } from 'node:fs/promises';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { relative } from 'node:path';
import { exportPrivateKeyPem, generateKey, keyReadFailure, sameKey } from '../pki/keys.js';
import { certificateInfo, parseCertificatesOf, type CertificateInfo } from '../pki/cert-info.js';
import { inputError, isDbtlsError, usageError } from '../errors.js';
import { keySigner, signatureScheme, type Signer } from '../pki/signer.js';
import { externalRoot } from './byo-intermediate.js';
import { caRecord } from './ca-record.js';
import { openTokenSigner, tokenSignerForNewCa, tokenUri, type TokenSigner } from './ca-token.js';
import { readIfExists } from '../store/safe-fs.js';
import { CERT_MODE, KEY_MODE } from '../store/atomic-write.js';
import type { PkiLayout } from '../store/pki-dir.js';
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
  /** The CA the manifest records: with ca.pem and ca-key.pem gone, it is not silently replaced. */
  recorded?: CaRecord;
  /** Start over with a new CA although the manifest records one (only when both CA files are gone). */
  newCa?: boolean;
  /** Nothing will be written (issue --check): a new CA of a token is stood in for by a key in memory, the token untouched. */
  dryRun?: boolean;
}

export type CaAction = 'created' | 'imported' | 'loaded';

export interface CaState {
  action: CaAction;
  certPem: string;
  info: CertificateInfo;
  record: CaRecord;
  /** The CA files to write (a new or imported CA); empty when loaded. */
  files: BatchFile[];
  /** The CA's private key, decrypted on first use (refused when the key is in a PKCS#11 token). */
  key(): Promise<KeyObject>;
  /** What signs for the CA: its key in memory, or its key in the token (opened on first use). */
  signer(): Promise<Signer>;
  /** Closes the token session, if one was opened. */
  close(): void;
}

const exportKey = exportPrivateKeyPem;

function isEncrypted(pem: string): boolean {
  return /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem);
}

/** Decrypts a key, turning OpenSSL's errors into ones a person can act on. */
export function decryptKey(pem: string, file: string, passphrase: string | undefined): KeyObject {
  const encrypted = isEncrypted(pem);
  if (encrypted && passphrase === undefined) {
    throw inputError(
      'ca-passphrase-needed',
      `${file} is encrypted and no passphrase was given`,
      { file },
      'set DBTLS_CA_PASSPHRASE or pass --ca-passphrase-file FILE',
    );
  }
  try {
    return createPrivateKey(encrypted ? { key: pem, passphrase } : { key: pem });
  } catch (e) {
    if (encrypted)
      throw inputError(
        'ca-passphrase-wrong',
        `${file} could not be decrypted: wrong passphrase`,
        { file },
        'check DBTLS_CA_PASSPHRASE or the --ca-passphrase-file',
      );
    throw inputError('bad-key', `${file} is not a readable private key (${keyReadFailure(e)})`, { file });
  }
}

function record(
  info: CertificateInfo,
  layout: PkiLayout,
  encrypted: boolean,
  imported: boolean,
  token?: Cluster['ca']['pkcs11'],
): CaRecord {
  return caRecord(info, {
    cert: relative(layout.root, layout.ca),
    key: token ? tokenUri(token) : relative(layout.root, layout.caKey),
    encrypted,
    imported,
  });
}

/** A CaState's signer() and close() over a key in memory (or one decrypted on first use). */
function memorySigner(key: () => Promise<KeyObject>): Pick<CaState, 'signer' | 'close'> {
  return { signer: async () => keySigner(await key()), close: () => {} };
}

/** signer() and close() over the CA's key in its token, opened once, checked against ca.pem. */
function tokenCaState(
  cluster: Cluster,
  cert: X509Certificate,
  file: string,
  opts: CaOptions,
  now: Date,
  open?: TokenSigner,
): Pick<CaState, 'key' | 'signer' | 'close'> {
  let signer: TokenSigner | undefined = open;
  const t = cluster.ca.pkcs11!;
  return {
    key: async () => {
      throw inputError(
        'ca-key-in-token',
        `the CA key is in the PKCS#11 token "${t.token}" (${tokenUri(t)}): it cannot be read, only asked to sign`,
        { file: cluster.file, field: 'ca.pkcs11' },
      );
    },
    async signer() {
      if (!signer) {
        signer = await openTokenSigner(cluster, opts.passphrase);
        if (!sameKey(cert.publicKey, signer.publicKey)) {
          signer.close();
          signer = undefined;
          throw inputError(
            'ca-key-mismatch',
            `the key ${tokenUri(t)} in the PKCS#11 token does not belong to the CA certificate ${file}`,
            { file: cluster.file, field: 'ca.pkcs11.label' },
            'give the label of the key that signed ca.pem',
          );
        }
      }
      checkCa(cert, signer.publicKey, file, now);
      return signer;
    },
    close: () => signer?.close(),
  };
}

/** The CA key must be the one of ca.pem: one that is not is refused, never used or replaced. */
function checkCaKey(cert: X509Certificate, key: KeyObject, certFile: string, keyFile: string): void {
  if (!sameKey(cert.publicKey, key)) {
    throw inputError(
      'ca-key-mismatch',
      `${keyFile} does not belong to the CA certificate ${certFile}`,
      { file: keyFile },
      'restore the CA key that goes with ca.pem from a backup',
    );
  }
}

/** Checks that a certificate can act as this cluster's CA with this key. */
function checkCa(cert: X509Certificate, key: KeyObject, file: string, now: Date): void {
  if (!cert.ca)
    throw inputError('not-a-ca', `${file} is not a CA certificate (basicConstraints CA:TRUE is missing)`, { file });
  if (!sameKey(cert.publicKey, key))
    throw inputError('ca-key-mismatch', `the CA key does not belong to ${file}`, { file });
  // (KEY may be a public key: a token's, whose private half stays in the token.)
  if (Date.parse(cert.validTo) <= now.getTime())
    throw inputError('ca-expired', `${file} expired on ${cert.validTo}`, { file });
  try {
    signatureScheme(key);
  } catch (e) {
    if (!isDbtlsError(e)) throw e;
    throw inputError('ca-key-type', `the CA key of ${file}: ${e.message}`, { file });
  }
}

/** The user's own CA files (--ca-cert/--ca-key): theirs to link as they like, but bounded and named. */
async function readImport(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw inputError(
      'unreadable',
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      { file: path },
    );
  }
}

function firstCertificate(pem: string, file: string): X509Certificate {
  const [cert] = parseCertificatesOf(pem, file);
  if (!cert) throw inputError('no-certificate', `${file} holds no PEM certificate`, { file });
  return cert;
}

/** "subject (SHA-256 fingerprint AB:CD:…)" of the CA the manifest records. */
function recordedName(rec: CaRecord): string {
  return `${rec.subject} (SHA-256 fingerprint ${rec.fingerprint256})`;
}

async function readCaFile(path: string, what: string): Promise<string | undefined> {
  const buf = await readIfExists(path, { what });
  return buf?.toString('utf8');
}

export async function prepareCa(layout: PkiLayout, cluster: Cluster, opts: CaOptions = {}): Promise<CaState> {
  const now = opts.now ?? new Date();
  const recorded = opts.recorded;
  // Neither file is followed through a symlink, and both are read before anything is decided.
  const [certPem, keyPem] = await Promise.all([
    readCaFile(layout.ca, 'the CA certificate'),
    readCaFile(layout.caKey, 'the CA key'),
  ]);
  const restore = recorded
    ? `restore ${layout.ca} and ${layout.caKey} of the CA ${recordedName(recorded)} from a backup`
    : `restore the missing file from a backup`;

  const token = cluster.ca.pkcs11;
  if (token && keyPem !== undefined)
    throw inputError(
      'ca-key-on-disk',
      `${layout.caKey} exists, but ${cluster.file} puts the CA key in the PKCS#11 token "${token.token}" (ca.pkcs11): refusing to use either`,
      { file: layout.caKey },
      'a CA key belongs in one place: move the file out of the PKI directory, or remove ca.pkcs11 from the inventory',
    );
  if (token && opts.import)
    throw usageError(
      'bad-usage',
      '--ca-key reads a key file, but the inventory puts the CA key in a PKCS#11 token (ca.pkcs11)',
      'put your CA certificate in place as ca.pem in the PKI directory and give ca.pkcs11 the label of its key',
    );

  // A root of the user's own PKI (brought with an intermediate): no key here, by design.
  if (certPem !== undefined && keyPem === undefined && recorded?.external) {
    if (!parseCertificatesOf(certPem, layout.ca).some((c) => c.fingerprint256 === recorded.fingerprint256))
      throw inputError('ca-replaced', `${layout.ca} no longer holds the root ${recordedName(recorded)}`, {
        file: layout.ca,
      });
    return externalRoot(layout, certPem, recorded, []);
  }
  if (certPem !== undefined && keyPem === undefined && !token) {
    throw inputError(
      'no-ca-key',
      `${layout.caKey} is missing but ${layout.ca} is there: refusing to sign without, or to replace, the CA key`,
      { file: layout.caKey },
      `${restore}; to start over deliberately (every certificate re-issued, every node re-trusting), move ${layout.ca} away and run with --new-ca`,
    );
  }
  if (certPem === undefined && keyPem !== undefined) {
    throw inputError(
      'orphan-ca-key',
      `${layout.caKey} exists without ${layout.ca}; refusing to replace a CA key`,
      { file: layout.caKey },
      `${restore}; to start over deliberately, move ${layout.caKey} away and run with --new-ca`,
    );
  }

  if (certPem !== undefined && (keyPem !== undefined || token)) {
    const bundle = parseCertificatesOf(certPem, layout.ca);
    const cert = firstCertificate(certPem, layout.ca);
    const info = certificateInfo(cert);
    // ca.pem holds the recorded CA (first, or beside its successor during `rotate ca`), or another
    // CA was put in its place: that one would re-issue and re-push everything, so only on purpose.
    const replaced = recorded !== undefined && !bundle.some((c) => c.fingerprint256 === recorded.fingerprint256);
    if (replaced && !opts.newCa) {
      throw inputError(
        'ca-replaced',
        `${layout.ca} holds the CA ${info.subject} (SHA-256 fingerprint ${info.fingerprint256}), but ${layout.manifest} records the CA ${recordedName(recorded)} that signed this cluster's certificates: refusing to re-issue everything under another CA`,
        { file: layout.ca },
        `${restore}; to adopt this CA deliberately (every certificate re-issued, every node re-trusting), run again with --new-ca`,
      );
    }
    if (opts.newCa && !replaced) {
      throw usageError(
        'ca-intact',
        `--new-ca starts over only when the CA is gone or replaced, and ${layout.ca} and ${layout.caKey} are the CA the manifest records`,
        'to replace a working CA without breaking trust, use `dbtls rotate ca`',
      );
    }
    if (opts.import) {
      const theirs = firstCertificate(await readFile(opts.import.certPath, 'utf8'), opts.import.certPath);
      if (theirs.fingerprint256 !== cert.fingerprint256) {
        throw inputError(
          'ca-exists',
          `${layout.ca} already holds another CA (${info.subject})`,
          { file: layout.ca },
          'replacing a CA re-issues every certificate: use a new pki directory, or rotate the CA',
        );
      }
    }
    if (token || keyPem === undefined)
      return {
        action: 'loaded',
        certPem,
        info,
        record: record(info, layout, false, false, token),
        files: [],
        ...tokenCaState(cluster, cert, layout.ca, opts, now),
      };
    const pem = keyPem;
    const encrypted = isEncrypted(pem);
    let cached: KeyObject | undefined;
    // A clear key is checked against ca.pem now, whether or not anything is signed this run; an
    // encrypted one when it is decrypted.
    if (!encrypted) {
      cached = decryptKey(pem, layout.caKey, undefined);
      checkCaKey(cert, cached, layout.ca, layout.caKey);
    }
    const key = async () => {
      if (!cached) {
        const key = decryptKey(pem, layout.caKey, opts.passphrase);
        checkCaKey(cert, key, layout.ca, layout.caKey);
        cached = key;
      }
      checkCa(cert, cached, layout.ca, now);
      return cached;
    };
    return {
      action: 'loaded',
      certPem,
      info,
      record: record(info, layout, encrypted, false),
      files: [],
      key,
      ...memorySigner(key),
    };
  }

  // No CA on disk. If the manifest records one, its leaves are on every node: a new CA would make
  // the fleet stop trusting itself, so that takes a restore, or --new-ca said on purpose.
  if (recorded && !opts.newCa) {
    const theirs = opts.import
      ? firstCertificate(await readImport(opts.import.certPath), opts.import.certPath)
      : undefined;
    if (!theirs || theirs.fingerprint256 !== recorded.fingerprint256) {
      throw inputError(
        'ca-missing',
        `${layout.ca} and ${layout.caKey} are missing, but ${layout.manifest} records the CA ${recordedName(recorded)} that signed this cluster's certificates: refusing to create another CA`,
        { file: layout.ca },
        `put ca.pem and ca-key.pem back from a backup (or bring them with --ca-cert/--ca-key); to start over deliberately with a new CA and re-issue everything, run again with --new-ca`,
      );
    }
  }

  if (opts.import) {
    const { certPath, keyPath } = opts.import;
    const certPem = await readImport(certPath);
    const keyPem = await readImport(keyPath);
    const cert = firstCertificate(certPem, certPath);
    const key = decryptKey(keyPem, keyPath, opts.passphrase);
    checkCa(cert, key, certPath, now);
    const info = certificateInfo(cert);
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
      ...memorySigner(async () => key),
    };
  }

  const { issueCertificate } = await import('../pki/certificate.js');
  if (token && !opts.dryRun) {
    // The key is made (or found) in the token and signs its own certificate there.
    const { signer } = await tokenSignerForNewCa(cluster, opts.passphrase, cluster.ca.keyType);
    try {
      const ca = issueCertificate({
        profile: 'ca',
        subject: { ...cluster.subject, CN: cluster.ca.commonName },
        days: cluster.ca.days,
        subjectKey: signer.publicKey,
        selfSigner: signer,
        now,
      });
      const cert = firstCertificate(ca.pem, layout.ca);
      const info = certificateInfo(cert);
      return {
        action: 'created',
        certPem: ca.pem,
        info,
        record: record(info, layout, false, false, token),
        files: [{ path: layout.ca, data: ca.pem, mode: CERT_MODE }],
        ...tokenCaState(cluster, cert, layout.ca, opts, now, signer),
      };
    } catch (e) {
      signer.close();
      throw e;
    }
  }
  const key = await generateKey(cluster.ca.keyType);
  const ca = issueCertificate({
    profile: 'ca',
    subject: { ...cluster.subject, CN: cluster.ca.commonName },
    days: cluster.ca.days,
    subjectKey: key,
    now,
  });
  const info = certificateInfo(firstCertificate(ca.pem, layout.ca));
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
    ...memorySigner(async () => key),
  };
}
