// `check` on the CRL, when the inventory turns revocation on (ca.crlDays): present, readable, signed
// by the CA, and not lapsing within the window, exactly as a certificate. An expired CRL makes
// MySQL-family servers refuse every client certificate with "certificate expired" and nothing in
// their log (REFERENCE-2 §4.3), so this must fail days before it happens. A certificate the
// inventory still uses but the manifest records as revoked is flagged too.
import { crlSignedBy, parseCrl } from '../pki/crl.js';
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
  let crl;
  try {
    crl = parseCrl(text, 'crl.pem');
  } catch (e) {
    if (!isDbtlsError(e)) throw e;
    fail('invalid', e.message);
    return item;
  }
  if (!crlSignedBy(crl, caPem)) fail('invalid', 'crl.pem is not signed by the CA in ca.pem');
  if (!crl.nextUpdate) fail('invalid', 'crl.pem has no nextUpdate');
  else {
    item.notAfter = crl.nextUpdate.toISOString();
    const left = crl.nextUpdate.getTime() - now.getTime();
    item.daysLeft = Math.floor(left / DAY_MS);
    // A CRL lives days, not years: it is due for `crl refresh` at half its life, so the window is
    // capped there (a 30-day window would flag every 7-day CRL from the moment it is signed).
    const window = Math.min(withinMs, (crl.nextUpdate.getTime() - crl.thisUpdate.getTime()) / 2);
    if (left <= 0)
      fail(
        'expired',
        `lapsed on ${item.notAfter}: servers now refuse every client certificate (run: dbtls crl refresh)`,
      );
    else if (left <= window)
      fail('expiring', `lapses in ${plural(item.daysLeft, 'day')} (run: dbtls crl refresh; schedule runs it)`);
  }
  const listed = new Set(crl.revoked.map((r) => BigInt(`0x${r.serialHex}`)));
  for (const r of manifest.revoked ?? [])
    if (r.caFingerprint256 === manifest.crl?.caFingerprint256 && !listed.has(BigInt(`0x${r.serial}`)))
      fail(
        'outdated',
        `serial ${r.serial} is revoked in the manifest but not in crl.pem (run: dbtls crl refresh --force)`,
      );
  return item;
}
