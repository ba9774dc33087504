// Does a store on disk hold what the manifest says it should — opened with the password (integrity
// hash or MAC checked), every entry present with the recorded certificates, every key decrypting and
// belonging to its certificate? Used by `check` to report a store that drifted, and by `issue` to
// rebuild it.
//
// Cheap when nothing changed. The expensive part of reading a store is decrypting its keys (a JCEKS
// secret key is sealed under 2 × 200,000 MD5 rounds; PKCS#12 key bags under PBKDF2), and it proves
// nothing new about bytes that are exactly the ones dbtls wrote (and checked) itself. So a store
// whose SHA-256 equals the one recorded in its manifest entry is checked without decrypting its keys:
// its integrity hash or MAC is still verified with the password (a changed password still shows),
// and its certificates are still compared with the manifest's fingerprints. A store whose bytes
// differ in any way from the record, or that has no recorded hash, is verified in full.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readStore } from './store.js';
import { isDbtlsError } from '../errors.js';
import type { ListedEntry, StoreListing } from './types.js';
import type { StoreRecord } from '../store/manifest.js';

export interface StoreVerdict {
  status: 'invalid' | 'outdated';
  problems: string[];
  /** The store does not open with the password: its integrity hash or MAC fails (a changed password, or changed bytes). */
  wrongPassword?: boolean;
}

export interface StoreVerification {
  /** null when the store is as recorded. */
  verdict: StoreVerdict | null;
  /** SHA-256 of the bytes, hex. */
  sha256: string;
  /** Whether the keys were decrypted (the bytes differ from the record, or it has no hash). */
  full: boolean;
}

/** SHA-256 of a store's bytes, lower-case hex, as StoreRecord.sha256 holds it. */
export function storeSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The content hash recorded when dbtls wrote (or fully verified) the store. JGroups (JCEKS) records
 * have always carried it as their spec, so manifests written before `sha256` existed have it too.
 */
export function recordedSha256(rec: Pick<StoreRecord, 'type' | 'spec' | 'sha256'>): string | undefined {
  const h = rec.sha256 ?? (rec.type === 'jceks' ? rec.spec : undefined);
  return typeof h === 'string' && /^[0-9a-f]{64}$/.test(h) ? h : undefined;
}

function sameHash(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/**
 * Verifies a store against its manifest record: in full, unless its bytes hash to the recorded
 * SHA-256 (then keys are not decrypted; integrity and certificates are still checked).
 */
export async function verifyStore(
  bytes: Buffer,
  password: string | undefined,
  rec: Pick<StoreRecord, 'type' | 'spec' | 'sha256' | 'entries'>,
  what: string,
): Promise<StoreVerification> {
  const sha256 = storeSha256(bytes);
  const known = recordedSha256(rec);
  const full = known === undefined || !sameHash(known, sha256);
  return { verdict: await problemsOf(bytes, password, rec.entries, what, full), sha256, full };
}

/** The problems of a store's bytes against its recorded entries, reading it in full (keys decrypted); null when it is as recorded. */
export async function storeProblems(
  bytes: Buffer,
  password: string | undefined,
  entries: StoreRecord['entries'],
  what: string,
): Promise<StoreVerdict | null> {
  return problemsOf(bytes, password, entries, what, true);
}

async function problemsOf(
  bytes: Buffer,
  password: string | undefined,
  entries: StoreRecord['entries'],
  what: string,
  full: boolean,
): Promise<StoreVerdict | null> {
  let listing: StoreListing;
  try {
    listing = await readStore(bytes, password, what, { decryptKeys: full });
  } catch (e) {
    const wrongPassword = isDbtlsError(e) && e.code === 'keystore-password';
    return { status: 'invalid', problems: [(e as Error).message], ...(wrongPassword ? { wrongPassword } : {}) };
  }
  if (!listing.verified)
    return {
      status: 'invalid',
      problems: [
        password === undefined
          ? `no store password: the integrity of ${what} cannot be checked`
          : `${what} does not open with the store password`,
      ],
    };
  const invalid: string[] = [];
  const outdated: string[] = [];
  for (const want of entries) {
    const alias = want.alias.toLowerCase();
    const have = listing.entries.find((e) => e.alias.toLowerCase() === alias);
    if (!have) {
      outdated.push(`entry "${want.alias}" is missing`);
      continue;
    }
    if (have.kind !== want.kind) {
      outdated.push(`entry "${want.alias}" is a ${have.kind} entry, not a ${want.kind} one`);
      continue;
    }
    if (full) {
      const bad = keyProblem(have);
      if (bad) invalid.push(`entry "${want.alias}": ${bad}`);
    }
    if (!want.fingerprints.length) continue;
    // A trusted CA bundle is stored as alias, alias-2, …: one entry per CA.
    const prints =
      want.kind === 'trusted-cert'
        ? listing.entries
            .filter((e) => e.alias.toLowerCase() === alias || e.alias.toLowerCase().startsWith(`${alias}-`))
            .flatMap((e) => e.certificates.map((c) => c.fingerprint256))
        : have.certificates.map((c) => c.fingerprint256);
    const same =
      want.kind === 'trusted-cert'
        ? [...prints].sort().join() === [...want.fingerprints].sort().join()
        : prints[0] === want.fingerprints[0];
    if (!same) outdated.push(`entry "${want.alias}" holds other certificates than the manifest records`);
  }
  if (invalid.length) return { status: 'invalid', problems: [...invalid, ...outdated] };
  return outdated.length ? { status: 'outdated', problems: outdated } : null;
}

/** A decrypted key entry: is the key there, and is it the key of the entry's first certificate? */
function keyProblem(e: ListedEntry): string | undefined {
  if (e.kind === 'trusted-cert') return undefined;
  if (!e.key) return 'its key cannot be read with the store password';
  if (e.kind === 'private-key') {
    const leaf = e.certificates[0];
    if (!leaf) return 'it holds a key without its certificate';
    if (!leaf.checkPrivateKey(e.key)) return 'its key does not belong to its certificate';
  }
  return undefined;
}
