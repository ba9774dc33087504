// `dbtls setup`: what mysql_ssl_rsa_setup did (REFERENCE §1), with random serials, proper v3
// extensions, optional SANs so VERIFY_IDENTITY can work, and files that are never half-written.
import { access, constants, lstat, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  generateKey,
  isEcKeyType,
  privateKeyToPem,
  publicKeyToPem,
  rsaKeyType,
  type KeyType,
  type PrivateKeyFormat,
  type RsaKeySize,
} from '../pki/keys.js';
import { parseSans, formatSan, sanProblem, type San } from '../pki/san.js';
import { certificateInfo, parseCertificates, type CertificateInfo } from '../pki/cert-info.js';
import { commitBatch, recoverBatch, type BatchFile } from '../store/batch.js';
import { acquireLock } from '../store/lock.js';
import { checkTrustedDir } from '../store/trust.js';
import { CERT_MODE, KEY_MODE, type FileOwner } from '../store/atomic-write.js';
import { inputError } from '../errors.js';

export const SSL_FILES = {
  ca: 'ca.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server-cert.pem',
  serverKey: 'server-key.pem',
  clientCert: 'client-cert.pem',
  clientKey: 'client-key.pem',
} as const;
export const RSA_FILES = { privateKey: 'private_key.pem', publicKey: 'public_key.pem' } as const;
/** mysql_ssl_rsa_setup makes the SSL set only when none of these exists. */
export const SSL_TRIGGERS = [SSL_FILES.ca, SSL_FILES.serverCert, SSL_FILES.serverKey];
/** ...and the RSA pair only when neither of these exists. */
export const RSA_TRIGGERS = [RSA_FILES.privateKey, RSA_FILES.publicKey];

export const SETUP_DEFAULT_DAYS = 3650;
export const MAX_SUFFIX_LENGTH = 17;
const CN_MAX = 64;
const JOURNAL = '.dbtls-setup.journal';
const LOCK = '.dbtls-setup.lock';

export interface SetupOptions {
  datadir: string;
  suffix: string;
  sans?: string[];
  days?: number;
  keySize?: RsaKeySize;
  /** The key of the CA, server and client certificates (default RSA of keySize); the RSA pair stays RSA. */
  keyType?: KeyType;
  keyFormat?: PrivateKeyFormat;
  owner?: FileOwner;
  /** Decide only: report what would be written (wouldWrite), take no lock, write nothing. */
  check?: boolean;
  now?: Date;
}

export type FileKind = 'private-key' | 'certificate' | 'public-key';

export interface WrittenFile {
  path: string;
  kind: FileKind;
  mode: string;
  certificate?: Pick<CertificateInfo, 'subject' | 'issuer' | 'serial' | 'sans' | 'notAfter' | 'fingerprint256'>;
}

export interface SkippedSet {
  set: 'ssl' | 'rsa';
  reason: string;
  existing: string[];
}

export type SetupEvent =
  | { type: 'recovered'; journal: string }
  | { type: 'skipped'; skipped: SkippedSet }
  | { type: 'generating'; set: 'ssl' | 'rsa'; keys: number; keyType: KeyType }
  | { type: 'written'; file: WrittenFile };

export interface SetupReport {
  datadir: string;
  suffix: string;
  sans: string[];
  written: WrittenFile[];
  skipped: SkippedSet[];
  recovered: boolean;
  /** With check: the files a run would write. */
  wouldWrite?: string[];
}

/** --suffix: letters, digits and "_" only, at most 17 characters (the original's rule). */
export function checkSuffix(suffix: string): void {
  if (!/^[A-Za-z0-9_]+$/.test(suffix) || suffix.length > MAX_SUFFIX_LENGTH) {
    throw inputError(
      'bad-suffix',
      `--suffix "${suffix}" must be 1 to ${MAX_SUFFIX_LENGTH} letters, digits or underscores`,
      { field: '--suffix' },
    );
  }
}

/** The CNs mysql_ssl_rsa_setup uses; like the server's own generator, the suffix is dropped past 64 characters. */
export function setupCommonName(suffix: string, what: 'CA' | 'Server' | 'Client'): string {
  const tail = `Auto_Generated_${what}_Certificate`;
  const full = `MySQL_Server_${suffix}_${tail}`;
  return full.length <= CN_MAX ? full : `MySQL_Server_${tail}`;
}

async function existing(dir: string, names: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const n of names) {
    try {
      await lstat(join(dir, n)); // a name that exists counts, whatever it is; nothing is followed
      found.push(n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return found;
}

/**
 * Checks the datadir before anything is generated: it must exist, be a directory and be writable, and
 * nobody but its owner (the server's user, say mysql, is normal) may write it: not group- or
 * world-writable, and no ancestor another user can write (checkTrustedDir).
 */
export async function checkDatadir(datadir: string): Promise<string> {
  const dir = resolve(datadir);
  let st;
  try {
    st = await stat(dir); // the datadir itself may be a link the operator made (/var/lib/mysql -> /data/mysql)
  } catch {
    throw inputError(
      'no-datadir',
      `data directory ${dir} does not exist`,
      { field: '--datadir' },
      'create it first, or pass another --datadir',
    );
  }
  if (!st.isDirectory()) throw inputError('no-datadir', `${dir} is not a directory`, { field: '--datadir' });
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw inputError('datadir-not-writable', `data directory ${dir} is not writable`, { field: '--datadir' });
  }
  await checkTrustedDir(dir, { allowOwner: 'any', what: 'it as a datadir' });
  return dir;
}

export async function runSetup(opts: SetupOptions, onEvent: (e: SetupEvent) => void = () => {}): Promise<SetupReport> {
  const days = opts.days ?? SETUP_DEFAULT_DAYS;
  const keySize = opts.keySize ?? 2048;
  const keyType = opts.keyType ?? rsaKeyType(keySize);
  // caching_sha2_password reads an RSA pair: the certificates' size if they are RSA, else 2048.
  const pairType: KeyType = isEcKeyType(keyType) ? 'rsa2048' : keyType;
  const keyFormat = opts.keyFormat ?? 'pkcs8';
  checkSuffix(opts.suffix.replace(/\./g, '_')); // a default suffix from a server version may hold dots
  if (!Number.isInteger(days) || days < 1 || days > 36500) {
    throw inputError('bad-days', `--days must be a whole number from 1 to 36500, got ${opts.days}`, {
      field: '--days',
    });
  }
  const { sans, invalid } = parseSans(opts.sans ?? []);
  if (invalid.length) {
    throw inputError(
      'bad-san',
      `--san ${invalid.map((s) => `"${s}": ${s.includes('%') ? sanProblem(s) : 'not a DNS name or IP address'}`).join('; ')}`,
      { field: '--san' },
    );
  }
  const dir = await checkDatadir(opts.datadir);

  const lock = opts.check ? { release: async () => {} } : await acquireLock(join(dir, LOCK), { allowOwner: 'any' });
  try {
    const recovered = !opts.check && (await recoverBatch(join(dir, JOURNAL), { depth: 0 })) === 'rolled-forward';
    if (recovered) onEvent({ type: 'recovered', journal: join(dir, JOURNAL) });

    const report: SetupReport = {
      datadir: dir,
      suffix: opts.suffix,
      sans: sans.map(formatSan),
      written: [],
      skipped: [],
      recovered,
    };
    const sslExisting = await existing(dir, SSL_TRIGGERS);
    const rsaExisting = await existing(dir, RSA_TRIGGERS);
    const makeSsl = sslExisting.length === 0;
    const makeRsa = rsaExisting.length === 0;
    for (const [set, found, makes] of [
      ['ssl', sslExisting, makeSsl],
      ['rsa', rsaExisting, makeRsa],
    ] as const) {
      if (makes) continue;
      const skipped = {
        set,
        existing: found,
        reason: `${found.join(', ')} already exist${found.length === 1 ? 's' : ''}`,
      };
      report.skipped.push(skipped);
      onEvent({ type: 'skipped', skipped });
    }
    if (opts.check) {
      report.wouldWrite = [
        ...(makeSsl ? Object.values(SSL_FILES) : []),
        ...(makeRsa ? Object.values(RSA_FILES) : []),
      ].map((f) => join(dir, f));
      return report;
    }
    if (!makeSsl && !makeRsa) return report;

    // Start every key at once: they are made on the thread pool while the rest of this runs.
    const keyCount = (makeSsl ? 3 : 0) + (makeRsa ? 1 : 0);
    if (makeSsl) onEvent({ type: 'generating', set: 'ssl', keys: 3, keyType });
    if (makeRsa) onEvent({ type: 'generating', set: 'rsa', keys: 1, keyType: pairType });
    const keys: Promise<KeyObject>[] = Array.from({ length: keyCount }, (_, i) =>
      generateKey(makeSsl && i < 3 ? keyType : pairType),
    );
    keys.forEach((k) => k.catch(() => undefined)); // a failure is reported by the await below

    const files: BatchFile[] = [];
    const key = (name: string, k: KeyObject) =>
      files.push({ path: join(dir, name), data: privateKeyToPem(k, keyFormat), mode: KEY_MODE, owner: opts.owner });
    const pub = (name: string, data: string) =>
      files.push({ path: join(dir, name), data, mode: CERT_MODE, owner: opts.owner });

    if (makeSsl) {
      // node-forge is loaded only now, while the keys are being generated.
      const { issueCertificate, loadIssuer } = await import('../pki/certificate.js');
      const [caKey, serverKey, clientKey] = (await Promise.all(keys.slice(0, 3))) as [KeyObject, KeyObject, KeyObject];
      const common = { days, now: opts.now ?? new Date() }; // one instant for every certificate of the set
      const ca = issueCertificate({
        ...common,
        profile: 'ca',
        subject: { CN: setupCommonName(opts.suffix, 'CA') },
        subjectKey: caKey,
      });
      const issuer = loadIssuer(ca.pem, caKey);
      const leaf = (what: 'Server' | 'Client', k: KeyObject, profile: 'server' | 'client', leafSans: San[]) =>
        issueCertificate({
          ...common,
          profile,
          subject: { CN: setupCommonName(opts.suffix, what) },
          sans: leafSans,
          subjectKey: k,
          issuer,
        });
      const server = leaf('Server', serverKey, 'server', sans);
      const client = leaf('Client', clientKey, 'client', []);
      pub(SSL_FILES.ca, ca.pem);
      key(SSL_FILES.caKey, caKey);
      pub(SSL_FILES.serverCert, server.pem);
      key(SSL_FILES.serverKey, serverKey);
      pub(SSL_FILES.clientCert, client.pem);
      key(SSL_FILES.clientKey, clientKey);
    }
    if (makeRsa) {
      const rsaKey = await keys[keyCount - 1]!;
      key(RSA_FILES.privateKey, rsaKey);
      pub(RSA_FILES.publicKey, publicKeyToPem(rsaKey));
    }

    await commitBatch(files, join(dir, JOURNAL));
    for (const f of files) {
      const written = describe(f);
      report.written.push(written);
      onEvent({ type: 'written', file: written });
    }
    return report;
  } finally {
    await lock.release();
  }
}

function describe(f: BatchFile): WrittenFile {
  const text = typeof f.data === 'string' ? f.data : Buffer.from(f.data).toString();
  const mode = '0' + f.mode.toString(8);
  if (f.mode === KEY_MODE) return { path: f.path, kind: 'private-key', mode };
  const [cert] = parseCertificates(text);
  if (!cert) return { path: f.path, kind: 'public-key', mode };
  const { subject, issuer, serial, sans, notAfter, fingerprint256 } = certificateInfo(cert);
  return {
    path: f.path,
    kind: 'certificate',
    mode,
    certificate: { subject, issuer, serial, sans, notAfter, fingerprint256 },
  };
}
