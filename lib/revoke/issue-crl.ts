// What `issue` adds when revocation is on (ca.crlDays): the revocation canary (lib/revoke/canary.ts)
// of the CA that signs leaves, and the CRLs when that CA has none yet or the canary is new.
import { signCrls } from './crl-file.js';
import { ensureCanary } from './canary.js';
import type { BatchFile } from '../store/batch.js';
import type { Manifest } from '../store/manifest.js';
import type { PkiLayout } from '../store/pki-dir.js';
import type { CaState } from '../issue/ca.js';
import type { SigningCa } from '../issue/intermediate.js';

/** The files to add to issue's batch; MANIFEST gains the canary's revocation and the CRL records. */
export async function revocationFiles(
  layout: PkiLayout,
  manifest: Manifest,
  ca: CaState,
  signing: SigningCa,
  days: number,
  now: Date,
  passphrase: string | undefined,
): Promise<BatchFile[]> {
  const canary = await ensureCanary(layout, manifest, signing, now);
  if (canary.revoked) manifest.revoked = [...(manifest.revoked ?? []), canary.revoked];
  const signed = (manifest.crls ?? []).some((r) => r.caFingerprint256 === signing.info.fingerprint256);
  if (signed && !canary.revoked) return canary.files;
  const crls = await signCrls(layout, manifest, ca, days, now, passphrase, signing);
  manifest.crls = crls.records;
  return [...canary.files, crls.file];
}
