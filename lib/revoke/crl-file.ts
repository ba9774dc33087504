// The PKI directory's crl.pem: one CRL for each CA that ca.pem trusts (lib/revoke/crl-issuers.ts),
// the signing CA's first, each listing the certificates of that CA the manifest records as revoked,
// numbered one past its last, valid ca.crlDays. OpenSSL reads every CRL of a PEM file given as
// ssl_crl. Signed whenever the list changes (revoke), when it nears its nextUpdate or the trusted CAs
// change (crl refresh, rotate ca), and once when revocation is turned on (issue). Products read an
// expired CRL as "every client certificate is bad", so `check` fails long before that (lib/check/crl.ts).
import { CANARY_ID } from './canary.js';
import { relative } from 'node:path';
import { buildCrl, crlSignedBy, parseCrl, type CrlReason, type ParsedCrl } from '../pki/crl.js';
import { derToPem, pemBlocks } from '../pki/pem.js';
import { readTextIfExists } from '../store/safe-fs.js';
import { isDbtlsError } from '../errors.js';
import type { SigningCa } from '../issue/intermediate.js';
import type { Signer } from '../pki/signer.js';
import { CERT_MODE } from '../store/atomic-write.js';
import type { BatchFile } from '../store/batch.js';
import type { CrlRecord, Manifest } from '../store/manifest.js';
import type { PkiLayout } from '../store/pki-dir.js';
import type { CaState } from '../issue/ca.js';
import { crlIssuers, ROOT_CRL_DAYS } from './crl-issuers.js';

const DAY_MS = 86_400_000;

export interface SignedCrls {
  file: BatchFile;
  /** One per CA, the signing CA's first. */
  records: CrlRecord[];
  /** Entries in the signing CA's CRL. */
  revoked: number;
}

/** The CRLs of the current crl.pem, as PEM blocks with what they say (a damaged file: none). */
async function currentCrls(layout: PkiLayout): Promise<Array<{ pem: string; crl: ParsedCrl }>> {
  const text = await readTextIfExists(layout.crl, { what: 'the CRL' });
  if (text === undefined) return [];
  try {
    return pemBlocks(text)
      .filter((b) => b.label === 'X509 CRL')
      .map((b) => ({ pem: derToPem('X509 CRL', b.der), crl: parseCrl(b.der, layout.crl) }));
  } catch (e) {
    if (isDbtlsError(e)) return [];
    throw e;
  }
}

/**
 * An offline root's CRL, kept as it is when it lists what it should and is not past half its life;
 * or when the root key cannot be had this run (no passphrase) and it is still valid: `check` flags
 * it well before it lapses, and the intermediate's CRL must not wait for the root's.
 */
function keepSealed(
  existing: Array<{ pem: string; crl: ParsedCrl }>,
  issuerPem: string,
  wanted: string[],
  now: Date,
  force: boolean,
): { pem: string; crl: ParsedCrl } | undefined {
  const mine = existing.find((e) => crlSignedBy(e.crl, issuerPem));
  if (!mine?.crl.nextUpdate || mine.crl.nextUpdate.getTime() <= now.getTime()) return undefined;
  const listed = mine.crl.revoked.map((r) => BigInt(`0x${r.serialHex}`)).sort();
  const same =
    listed.length === wanted.length &&
    wanted
      .map((w) => BigInt(`0x${w}`))
      .sort()
      .every((w, i) => w === listed[i]);
  const life = mine.crl.nextUpdate.getTime() - mine.crl.thisUpdate.getTime();
  if (force || (same && mine.crl.nextUpdate.getTime() - now.getTime() > life / 2)) return mine;
  return undefined;
}

export async function signCrls(
  layout: PkiLayout,
  manifest: Manifest,
  ca: CaState,
  days: number,
  now: Date,
  passphrase?: string,
  intermediate?: SigningCa,
): Promise<SignedCrls> {
  // Whole seconds, as the CRL holds them, so the manifest and the file agree.
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const pems: string[] = [];
  const records: CrlRecord[] = [];
  let signingEntries = 0;
  const existing = await currentCrls(layout);
  for (const issuer of await crlIssuers(layout, ca, passphrase, intermediate)) {
    const fingerprint = issuer.fingerprint256;
    const revoked = (manifest.revoked ?? []).filter((r) => r.caFingerprint256 === fingerprint);
    // Reported: what people revoked, not the canary every CRL lists (lib/revoke/canary.ts).
    if (records.length === 0) signingEntries = revoked.filter((r) => r.id !== CANARY_ID).length;
    const last = (manifest.crls ?? []).find((r) => r.caFingerprint256 === fingerprint);
    let signer: Signer | undefined;
    if (issuer.sealed) {
      const wanted = revoked.map((r) => r.serial);
      let kept = keepSealed(existing, issuer.certPem, wanted, now, false);
      if (!kept)
        try {
          signer = await issuer.signer();
        } catch (e) {
          if (!isDbtlsError(e) || e.code !== 'ca-passphrase-needed') throw e;
          kept = keepSealed(existing, issuer.certPem, wanted, now, true);
          if (!kept) throw e;
        }
      if (kept) {
        pems.push(kept.pem);
        records.push(
          last ?? {
            path: relative(layout.root, layout.crl),
            number: Number(kept.crl.crlNumber ?? 1n),
            thisUpdate: kept.crl.thisUpdate.toISOString(),
            nextUpdate: kept.crl.nextUpdate!.toISOString(),
            caFingerprint256: fingerprint,
          },
        );
        continue;
      }
    }
    const life = issuer.sealed ? Math.max(days, ROOT_CRL_DAYS) : days;
    const nextUpdate = new Date(thisUpdate.getTime() + life * DAY_MS);
    const number = last ? last.number + 1 : 1;
    const crl = buildCrl({
      issuerCertPem: issuer.certPem,
      signer: signer ?? (await issuer.signer()),
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
