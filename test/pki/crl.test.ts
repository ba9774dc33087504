// CRLs as OpenSSL reads them: buildCrl's lists verify against RSA, P-256 and P-384 CAs (`openssl crl
// -verify`), make `openssl verify -crl_check` refuse exactly the revoked certificate, and, once past
// nextUpdate, refuse every certificate with "CRL has expired" (the lock-out check must warn about
// before it happens). parseCrl reads OpenSSL's own CRLs as `openssl crl -text` prints them, and
// refuses damaged ones with a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueCertificate, loadIssuer, type IssuedCertificate } from '../../lib/pki/certificate.js';
import { keySigner } from '../../lib/pki/signer.js';
import { buildCrl, crlSignedBy, parseCrl } from '../../lib/pki/crl.js';
import { isDbtlsError } from '../../lib/errors.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

const DAY = 86_400_000;
const KEYS: Record<string, () => KeyObject> = {
  rsa: () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  p256: () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
  p384: () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey,
};

interface Pki {
  dir: string;
  caKey: KeyObject;
  ca: IssuedCertificate;
  leaves: IssuedCertificate[];
}

async function pki(t: Parameters<typeof tempDir>[0], type: string, cn = 'CRL Test CA'): Promise<Pki> {
  const dir = await tempDir(t);
  const caKey = KEYS[type]!();
  const ca = issueCertificate({ profile: 'ca', subject: { CN: cn }, days: 30, subjectKey: caKey });
  const issuer = loadIssuer(ca.pem, caKey);
  const leaves = ['a', 'b'].map((name) =>
    issueCertificate({ profile: 'client', subject: { CN: name }, days: 10, subjectKey: KEYS['p256']!(), issuer }),
  );
  await writeFile(join(dir, 'ca.pem'), ca.pem);
  for (const [i, l] of leaves.entries()) await writeFile(join(dir, `leaf${i}.pem`), l.pem);
  return { dir, caKey, ca, leaves };
}

const openssl = (args: string[], cwd: string) => run('openssl', args, { cwd, timeoutMs: 15_000 });

for (const type of ['rsa', 'p256', 'p384']) {
  test(`${type} CA: the CRL verifies, the revoked leaf is refused with "certificate revoked", the other passes`, async (t) => {
    const p = await pki(t, type);
    const now = new Date();
    const crl = buildCrl({
      issuerCertPem: p.ca.pem,
      signer: keySigner(p.caKey),
      revoked: [{ serialHex: p.leaves[0]!.serialHex, revokedAt: now, reason: 'keyCompromise' }],
      crlNumber: 3,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + 7 * DAY),
    });
    await writeFile(join(p.dir, 'crl.pem'), crl.pem);
    const verified = await openssl(['crl', '-in', 'crl.pem', '-CAfile', 'ca.pem', '-noout', '-verify'], p.dir);
    assert.match(verified.stderr + verified.stdout, /verify OK/);
    const text = (await openssl(['crl', '-in', 'crl.pem', '-noout', '-text'], p.dir)).stdout;
    assert.match(text, /Version 2/);
    assert.match(text, /X509v3 CRL Number: \n\s+3/);
    assert.match(text, /Key Compromise/);
    assert.match(text, new RegExp(`Serial Number: ${p.leaves[0]!.serialHex}`, 'i'));
    const check = (leaf: string) =>
      openssl(['verify', '-crl_check', '-CRLfile', 'crl.pem', '-CAfile', 'ca.pem', leaf], p.dir);
    const revoked = await check('leaf0.pem');
    assert.notEqual(revoked.code, 0);
    assert.match(revoked.stdout + revoked.stderr, /certificate revoked/);
    assert.equal((await check('leaf1.pem')).code, 0);
    assert.equal(crlSignedBy(parseCrl(crl.pem), p.ca.pem), true);
    const other = await pki(t, type);
    assert.equal(crlSignedBy(parseCrl(crl.pem), other.ca.pem), false, 'another CA of the same name did not sign it');
  });
}

test('an empty CRL has no revokedCertificates field and passes every leaf; an expired one fails every leaf', async (t) => {
  const p = await pki(t, 'p256', 'Zürich CA');
  const now = Date.now();
  const empty = buildCrl({
    issuerCertPem: p.ca.pem,
    signer: keySigner(p.caKey),
    revoked: [],
    crlNumber: 1,
    thisUpdate: new Date(now),
    nextUpdate: new Date(now + DAY),
  });
  await writeFile(join(p.dir, 'empty.pem'), empty.pem);
  assert.doesNotMatch(
    (await openssl(['crl', '-in', 'empty.pem', '-noout', '-text'], p.dir)).stdout,
    /Revoked Certificates:\n\s+Serial/,
  );
  for (const leaf of ['leaf0.pem', 'leaf1.pem'])
    assert.equal(
      (await openssl(['verify', '-crl_check', '-CRLfile', 'empty.pem', '-CAfile', 'ca.pem', leaf], p.dir)).code,
      0,
    );
  // The issuer name is the CA's subject as encoded (UTF-8 CN), so OpenSSL matched it to its CA above.
  assert.match(
    (await openssl(['crl', '-in', 'empty.pem', '-noout', '-issuer', '-nameopt', 'utf8'], p.dir)).stdout,
    /Zürich CA/,
  );

  const lapsed = buildCrl({
    issuerCertPem: p.ca.pem,
    signer: keySigner(p.caKey),
    revoked: [],
    crlNumber: 2,
    thisUpdate: new Date(now - 2 * DAY),
    nextUpdate: new Date(now - DAY),
  });
  await writeFile(join(p.dir, 'lapsed.pem'), lapsed.pem);
  const r = await openssl(['verify', '-crl_check', '-CRLfile', 'lapsed.pem', '-CAfile', 'ca.pem', 'leaf1.pem'], p.dir);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /CRL has expired/);
  assert.equal(parseCrl(lapsed.pem).nextUpdate!.getTime(), Math.floor((now - DAY) / 1000) * 1000);
});

test('parseCrl reads a CRL made by `openssl ca -gencrl` as `openssl crl -text` shows it', async (t) => {
  const p = await pki(t, 'rsa');
  const { dir } = p;
  await writeFile(join(dir, 'ca-key.pem'), p.caKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'crlnumber'), '1000\n');
  await writeFile(
    join(dir, 'ca.cnf'),
    `[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\ncrlnumber = crlnumber\ncertificate = ca.pem\nprivate_key = ca-key.pem\ndefault_md = sha256\ndefault_crl_days = 5\n`,
  );
  const revoke = await openssl(['ca', '-config', 'ca.cnf', '-revoke', 'leaf0.pem', '-crl_reason', 'superseded'], dir);
  assert.equal(revoke.code, 0, revoke.stderr);
  const gen = await openssl(['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'openssl-crl.pem'], dir);
  assert.equal(gen.code, 0, gen.stderr);
  const parsed = parseCrl(await readFile(join(dir, 'openssl-crl.pem')));
  const text = (await openssl(['crl', '-in', 'openssl-crl.pem', '-noout', '-text'], dir)).stdout;
  assert.equal(parsed.crlNumber, 0x1000n);
  assert.match(text, /X509v3 CRL Number: \n\s+4096/);
  assert.deepEqual(
    parsed.revoked.map((r) => [r.serialHex, r.reason]),
    [[BigInt(`0x${p.leaves[0]!.serialHex}`).toString(16), 'superseded']],
  );
  assert.equal(Math.round((parsed.nextUpdate!.getTime() - parsed.thisUpdate.getTime()) / DAY), 5);
  assert.equal(crlSignedBy(parsed, p.ca.pem), true);
});

test('a truncated, garbled or foreign file is refused with bad-crl, never a crash', async (t) => {
  const p = await pki(t, 'p256');
  const now = new Date();
  const { der, pem } = buildCrl({
    issuerCertPem: p.ca.pem,
    signer: keySigner(p.caKey),
    revoked: [{ serialHex: p.leaves[1]!.serialHex, revokedAt: now }],
    crlNumber: 1,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + DAY),
  });
  const bad: Array<string | Buffer> = [
    der.subarray(0, der.length - 10),
    Buffer.concat([der, Buffer.from([0])]),
    Buffer.from(der.map((b, i) => (i === 1 ? b ^ 0x01 : b))), // the outer length
    pem.replace(/X509 CRL/g, 'CERTIFICATE'),
    p.ca.pem,
    '',
  ];
  for (const input of bad) {
    assert.throws(
      () => parseCrl(input, 'crl.pem'),
      (e: unknown) => isDbtlsError(e) && e.code === 'bad-crl' && /^crl\.pem is not a readable CRL/.test(e.message),
      String(input).slice(0, 40),
    );
  }
  // A flipped byte inside the signed part still parses, but no longer verifies.
  const flipped = Buffer.from(der.map((b, i) => (i === 40 ? b ^ 0xff : b)));
  assert.equal(crlSignedBy(parseCrl(flipped), p.ca.pem), false);
});
