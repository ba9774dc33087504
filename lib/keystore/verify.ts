// Does a store on disk hold what the manifest says it should — opened with the password (integrity
// hash or MAC checked), every entry present with the recorded certificates? Used by `check` to report
// a store that drifted, and by `issue` to rebuild it.
import { readStore } from './store.js';
import type { StoreRecord } from '../store/manifest.js';

/** The problems of a store's bytes against its record; empty when it is as recorded. */
export async function storeProblems(bytes: Buffer, password: string | undefined, entries: StoreRecord['entries'], what: string): Promise<{ status: 'invalid' | 'outdated'; problems: string[] } | null> {
  let listing;
  try {
    listing = await readStore(bytes, password, what);
  } catch (e) {
    return { status: 'invalid', problems: [(e as Error).message] };
  }
  if (!listing.verified) return { status: 'invalid', problems: [password === undefined ? `no store password: the integrity of ${what} cannot be checked` : `${what} does not open with the store password`] };
  const problems: string[] = [];
  for (const want of entries) {
    const alias = want.alias.toLowerCase();
    const have = listing.entries.find((e) => e.alias.toLowerCase() === alias);
    if (!have) {
      problems.push(`entry "${want.alias}" is missing`);
      continue;
    }
    if (!want.fingerprints.length) continue;
    // A trusted CA bundle is stored as alias, alias-2, …: one entry per CA.
    const prints = want.kind === 'trusted-cert'
      ? listing.entries.filter((e) => e.alias.toLowerCase() === alias || e.alias.toLowerCase().startsWith(`${alias}-`)).flatMap((e) => e.certificates.map((c) => c.fingerprint256))
      : have.certificates.map((c) => c.fingerprint256);
    const same = want.kind === 'trusted-cert' ? [...prints].sort().join() === [...want.fingerprints].sort().join() : prints[0] === want.fingerprints[0];
    if (!same) problems.push(`entry "${want.alias}" holds other certificates than the manifest records`);
  }
  return problems.length ? { status: 'outdated', problems } : null;
}
