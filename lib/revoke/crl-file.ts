// The PKI directory's crl.pem: the current CA's CRL, listing every certificate of that CA the
// manifest records as revoked, numbered one past the last, valid ca.crlDays. Signed whenever the
// list changes (revoke), when it nears its nextUpdate (crl refresh), and once when revocation is
// turned on (issue). Products read an expired CRL as "every client certificate is bad", so `check`
// fails long before that (lib/check/crl.ts).
import { relative } from 'node:path';
import { buildCrl, type CrlReason } from '../pki/crl.js';
import { keySigner } from '../pki/signer.js';
import { CERT_MODE } from '../store/atomic-write.js';
import type { BatchFile } from '../store/batch.js';
import type { CrlRecord, Manifest } from '../store/manifest.js';
import type { PkiLayout } from '../store/pki-dir.js';
import type { CaState } from '../issue/ca.js';

const DAY_MS = 86_400_000;

export async function signCrl(
  layout: PkiLayout,
  manifest: Manifest,
  ca: CaState,
  days: number,
  now: Date,
): Promise<{ file: BatchFile; record: CrlRecord; revoked: number }> {
  const fingerprint = ca.info.fingerprint256;
  const revoked = (manifest.revoked ?? []).filter((r) => r.caFingerprint256 === fingerprint);
  const number = manifest.crl?.caFingerprint256 === fingerprint ? manifest.crl.number + 1 : 1;
  // Whole seconds, as the CRL holds them, so the manifest and the file agree.
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const nextUpdate = new Date(thisUpdate.getTime() + days * DAY_MS);
  const crl = buildCrl({
    issuerCertPem: ca.certPem,
    signer: keySigner(await ca.key()),
    revoked: revoked.map((r) => ({
      serialHex: r.serial,
      revokedAt: new Date(r.revokedAt),
      reason: r.reason as CrlReason,
    })),
    crlNumber: number,
    thisUpdate,
    nextUpdate,
  });
  return {
    file: { path: layout.crl, data: crl.pem, mode: CERT_MODE },
    record: {
      path: relative(layout.root, layout.crl),
      number,
      thisUpdate: thisUpdate.toISOString(),
      nextUpdate: nextUpdate.toISOString(),
      caFingerprint256: fingerprint,
    },
    revoked: revoked.length,
  };
}
