// The PKI directory's crl.pem: one CRL for each CA that ca.pem trusts (lib/revoke/crl-issuers.ts),
// the signing CA's first, each listing the certificates of that CA the manifest records as revoked,
// numbered one past its last, valid ca.crlDays. OpenSSL reads every CRL of a PEM file given as
// ssl_crl. Signed whenever the list changes (revoke), when it nears its nextUpdate or the trusted CAs
// change (crl refresh, rotate ca), and once when revocation is turned on (issue). Products read an
// expired CRL as "every client certificate is bad", so `check` fails long before that (lib/check/crl.ts).
import { relative } from 'node:path';
import { buildCrl, type CrlReason } from '../pki/crl.js';
import { CERT_MODE } from '../store/atomic-write.js';
import type { BatchFile } from '../store/batch.js';
import type { CrlRecord, Manifest } from '../store/manifest.js';
import type { PkiLayout } from '../store/pki-dir.js';
import type { CaState } from '../issue/ca.js';
import { crlIssuers } from './crl-issuers.js';

const DAY_MS = 86_400_000;

export interface SignedCrls {
  file: BatchFile;
  /** One per CA, the signing CA's first. */
  records: CrlRecord[];
  /** Entries in the signing CA's CRL. */
  revoked: number;
}

export async function signCrls(
  layout: PkiLayout,
  manifest: Manifest,
  ca: CaState,
  days: number,
  now: Date,
  passphrase?: string,
): Promise<SignedCrls> {
  // Whole seconds, as the CRL holds them, so the manifest and the file agree.
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const nextUpdate = new Date(thisUpdate.getTime() + days * DAY_MS);
  const pems: string[] = [];
  const records: CrlRecord[] = [];
  let signingEntries = 0;
  for (const issuer of await crlIssuers(layout, ca, passphrase)) {
    const fingerprint = issuer.fingerprint256;
    const revoked = (manifest.revoked ?? []).filter((r) => r.caFingerprint256 === fingerprint);
    if (records.length === 0) signingEntries = revoked.length;
    const last = (manifest.crls ?? []).find((r) => r.caFingerprint256 === fingerprint);
    const number = last ? last.number + 1 : 1;
    const crl = buildCrl({
      issuerCertPem: issuer.certPem,
      signer: await issuer.signer(),
      revoked: revoked.map((r) => ({
        serialHex: r.serial,
        revokedAt: new Date(r.revokedAt),
        reason: r.reason as CrlReason,
      })),
      crlNumber: number,
      thisUpdate,
      nextUpdate,
    });
    pems.push(crl.pem);
    records.push({
      path: relative(layout.root, layout.crl),
      number,
      thisUpdate: thisUpdate.toISOString(),
      nextUpdate: nextUpdate.toISOString(),
      caFingerprint256: fingerprint,
    });
  }
  return { file: { path: layout.crl, data: pems.join(''), mode: CERT_MODE }, records, revoked: signingEntries };
}
