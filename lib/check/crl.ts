// `check` on the CRL, when the inventory turns revocation on (ca.crlDays): present, readable, signed
// by the CA, and not lapsing within the window, exactly as a certificate. An expired CRL makes
// MySQL-family servers refuse every client certificate with "certificate expired" and nothing in
// their log (REFERENCE-2 §4.3), so this must fail days before it happens. A certificate the
// inventory still uses but the manifest records as revoked is flagged too.
import { crlSignedBy, parseCrls, type ParsedCrl } from '../pki/crl.js';
import { parseCertificatesOf } from '../pki/cert-info.js';
import { readTextIfExists } from '../store/safe-fs.js';
import { isDbtlsError } from '../errors.js';
import { plural } from '../text/plural.js';
import type { Manifest } from '../store/manifest.js';
import type { PkiLayout } from '../store/pki-dir.js';
import type { CheckItem, CheckStatus } from './check.js';

const DAY_MS = 86_400_000;

export async function checkCrl(
  layout: PkiLayout,
  caPem: string,
  manifest: Manifest,
  now: Date,
  withinMs: number,
): Promise<CheckItem> {
  const item: CheckItem = { id: 'crl', owner: { kind: 'ca', name: 'crl.pem' }, status: 'ok', problems: [] };
  const fail = (status: CheckStatus, problem: string) => {
    if (item.status === 'ok') item.status = status;
    item.problems.push(problem);
  };
  const text = await readTextIfExists(layout.crl, { what: 'the CRL' });
  if (text === undefined) {
    fail('missing', 'crl.pem is missing: servers with ssl_crl set refuse TLS (run: dbtls crl refresh --force)');
    return item;
  }
  let crls;
  try {
    crls = parseCrls(text, 'crl.pem');
  } catch (e) {
    if (!isDbtlsError(e)) throw e;
    fail('invalid', e.message);
    return item;
  }
  // One CRL for each CA ca.pem trusts (two during `rotate ca`): a CA without one makes every
  // certificate it signed fail where ssl_crl is set.
  const cas = parseCertificatesOf(caPem, layout.ca);
  let earliest: { crl: ParsedCrl; left: number } | undefined;
  for (const ca of cas) {
    const pem = ca.toString();
    const crl = crls.find((c) => crlSignedBy(c, pem));
    const name = cas.length > 1 ? ` of the CA serial ${ca.serialNumber.toLowerCase()}` : '';
    if (!crl) {
      fail(
        'invalid',
        cas.length > 1
          ? `crl.pem holds no CRL${name} (run: dbtls crl refresh --force)`
          : 'crl.pem is not signed by the CA in ca.pem',
      );
      continue;
    }
    if (!crl.nextUpdate) {
      fail('invalid', `crl.pem${name} has no nextUpdate`);
      continue;
    }
    const left = crl.nextUpdate.getTime() - now.getTime();
    if (!earliest || left < earliest.left) earliest = { crl, left };
    const listed = new Set(crl.revoked.map((r) => BigInt(`0x${r.serialHex}`)));
    for (const r of manifest.revoked ?? [])
      if (r.caFingerprint256 === ca.fingerprint256 && !listed.has(BigInt(`0x${r.serial}`)))
        fail(
          'outdated',
          `serial ${r.serial} is revoked in the manifest but not in crl.pem (run: dbtls crl refresh --force)`,
        );
  }
  if (crls.length > cas.length)
    fail('outdated', 'crl.pem holds a CRL of a CA that ca.pem no longer trusts (run: dbtls crl refresh --force)');
  if (earliest) {
    const { crl, left } = earliest;
    item.notAfter = crl.nextUpdate!.toISOString();
    item.daysLeft = Math.floor(left / DAY_MS);
    // A CRL lives days, not years: it is due for `crl refresh` at half its life, so the window is
    // capped there (a 30-day window would flag every 7-day CRL from the moment it is signed).
    const window = Math.min(withinMs, (crl.nextUpdate!.getTime() - crl.thisUpdate.getTime()) / 2);
    if (left <= 0)
      fail(
        'expired',
        `lapsed on ${item.notAfter}: servers now refuse every client certificate (run: dbtls crl refresh)`,
      );
    else if (left <= window)
      fail('expiring', `lapses in ${plural(item.daysLeft, 'day')} (run: dbtls crl refresh; schedule runs it)`);
  }
  return item;
}
