// One entry point for every Java store format: write by type, read by what the bytes are.
// PKCS#12 needs node-forge: it is loaded only when a PKCS#12 store is read or written.
import { isJks, readJks, writeJks } from './jks.js';
import { inputError } from '../errors.js';
import type { StoreInput, StoreListing, StoreType } from './types.js';

export const STORE_EXTENSION: Record<StoreType, string> = { jks: '.jks', pkcs12: '.p12' };

/** The type a file name implies: .jks/.ts/.keystore/.truststore → JKS, .p12/.pfx → PKCS#12. */
export function storeTypeFromName(path: string): StoreType | undefined {
  if (/\.(p12|pfx|pkcs12)$/i.test(path)) return 'pkcs12';
  if (/\.(jks|ts|keystore|truststore)$/i.test(path)) return 'jks';
  return undefined;
}

export async function writeStore(type: StoreType, entries: StoreInput[], password: string): Promise<Buffer> {
  if (type === 'jks') return writeJks(entries, password);
  const { writePkcs12 } = await import('./pkcs12.js');
  return writePkcs12(entries, password);
}

export function detectStoreType(buf: Buffer): StoreType | 'jceks' | undefined {
  if (isJks(buf)) return 'jks';
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0xcececece) return 'jceks';
  // PKCS#12: a DER SEQUENCE whose first element is INTEGER 3 (the version).
  if (
    buf[0] === 0x30 &&
    buf.includes(Buffer.from([0x02, 0x01, 0x03]), 2) &&
    buf.indexOf(Buffer.from([0x02, 0x01, 0x03])) < 8
  )
    return 'pkcs12';
  return undefined;
}

export interface ReadStoreOptions {
  /**
   * false: check the integrity (JKS/JCEKS hash, PKCS#12 MAC) and list the entries and their
   * certificates, but do not decrypt private keys or unseal secret keys. For stores whose bytes are
   * known to be the ones dbtls wrote (see verify.ts); anything else is read in full.
   */
  decryptKeys?: boolean;
}

/**
 * Reads a store. JKS and JCEKS list without a password (unverified, as keytool does); PKCS#12 needs
 * one. A wrong password is an input error that says so.
 */
export async function readStore(
  buf: Buffer,
  password: string | undefined,
  what: string,
  opts: ReadStoreOptions = {},
): Promise<StoreListing> {
  const type = detectStoreType(buf);
  const decryptKeys = opts.decryptKeys !== false;
  if (type === 'jks') return readJks(buf, { storepass: password, decryptKeys }, what);
  if (type === 'pkcs12') {
    if (password === undefined)
      throw inputError(
        'storepass-needed',
        `${what} is a PKCS#12 store: its password is needed to read it`,
        { file: what },
        'pass --storepass-file FILE or set DBTLS_STOREPASS',
      );
    const { readPkcs12 } = await import('./pkcs12.js');
    return readPkcs12(buf, password, what, { decryptKeys });
  }
  if (type === 'jceks') {
    const { readJceks } = await import('./jceks.js');
    return readJceks(buf, { storepass: password, decryptKeys }, what);
  }
  throw inputError('not-a-store', `${what} is not a JKS, JCEKS or PKCS#12 store`, { file: what });
}

/** Does this password open the store (integrity hash or MAC; keys are decrypted too)? */
export async function storeOpensWith(buf: Buffer, password: string): Promise<boolean> {
  try {
    const listing = await readStore(buf, password, 'store');
    return listing.verified;
  } catch {
    return false;
  }
}
