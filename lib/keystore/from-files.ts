// Store entries from PEM files, as `dbtls keystore create` and `trust` take them.
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { parseCertificatesOf } from '../pki/cert-info.js';
import { keyReadFailure } from '../pki/keys.js';
import { inputError, isDbtlsError } from '../errors.js';
import { readGivenFile } from '../store/safe-fs.js';
import type { PrivateKeyInput, TrustedCertInput } from './types.js';

/** A PEM file named by the user: a regular file (a link to one is followed), at most 64 MiB (`--cert /dev/zero` is refused at once). */
async function readText(file: string): Promise<string> {
  try {
    return (await readGivenFile(file)).toString('utf8');
  } catch (e) {
    if (isDbtlsError(e)) throw e;
    throw inputError('unreadable', `cannot read ${file}: ${(e as Error).message}`, { file });
  }
}

async function certificatesIn(file: string): Promise<X509Certificate[]> {
  const certs = parseCertificatesOf(await readText(file), file);
  if (certs.length === 0) throw inputError('no-certificate', `${file} holds no PEM certificate`, { file });
  return certs;
}

/** "Example DB CA" → "example-db-ca": an alias keytool users can type. */
export function aliasFromSubject(cert: X509Certificate): string {
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? cert.serialNumber;
  return (
    cn
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'ca'
  );
}

export interface KeyEntryFiles {
  cert: string;
  key: string;
  chain: string[];
  alias?: string;
  keyPassphrase?: string;
}

/**
 * A private-key entry: the certificate file (it may already hold the chain), the key, and more CA
 * files. The key must belong to the first certificate.
 */
export async function keyEntryFromFiles(f: KeyEntryFiles): Promise<PrivateKeyInput> {
  const certs = await certificatesIn(f.cert);
  for (const c of f.chain) certs.push(...(await certificatesIn(c)));
  const pem = await readText(f.key);
  let key: KeyObject;
  try {
    key = createPrivateKey(f.keyPassphrase === undefined ? pem : { key: pem, passphrase: f.keyPassphrase });
  } catch (e) {
    throw inputError('bad-key', `${f.key} is not a readable private key (${keyReadFailure(e)})`, { file: f.key });
  }
  const leaf = certs[0]!;
  if (!leaf.checkPrivateKey(key))
    throw inputError('key-mismatch', `${f.key} does not belong to the first certificate of ${f.cert}`, { file: f.key });
  // Keep each certificate once, leaf first, in the order given.
  const seen = new Set<string>();
  const chain = certs.filter((c) => !seen.has(c.fingerprint256) && seen.add(c.fingerprint256)).map((c) => c.raw);
  return { kind: 'private-key', alias: f.alias ?? aliasFromSubject(leaf), key, chain };
}

/** Trusted-certificate entries for every certificate in the files, aliased by CN (made unique). */
export async function trustedEntriesFromFiles(files: string[]): Promise<TrustedCertInput[]> {
  const out: TrustedCertInput[] = [];
  const used = new Set<string>();
  const seen = new Set<string>();
  for (const file of files) {
    for (const cert of await certificatesIn(file)) {
      if (seen.has(cert.fingerprint256)) continue;
      seen.add(cert.fingerprint256);
      if (!cert.ca)
        throw inputError('not-a-ca', `${file}: ${cert.subject.replace(/\n/g, ', ')} is not a CA certificate`, { file });
      const base = aliasFromSubject(cert);
      let alias = base;
      for (let n = 2; used.has(alias); n++) alias = `${base}-${n}`;
      used.add(alias);
      out.push({ kind: 'trusted-cert', alias, cert: cert.raw });
    }
  }
  return out;
}
