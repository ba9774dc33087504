// Each profile's extensions, read back by OpenSSL (the parser servers use) and by Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRsaKey } from '../../lib/pki/keys.js';
import { issueCertificate, loadIssuer, BACKDATE_SECONDS } from '../../lib/pki/certificate.js';
import { parseSans } from '../../lib/pki/san.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

const [caKey, leafKey] = await Promise.all([generateRsaKey(), generateRsaKey()]);
const ca = issueCertificate({
  profile: 'ca',
  subject: { CN: 'Test Root CA', O: 'Société Générale', C: 'FR' },
  days: 3650,
  subjectKey: caKey,
});
const issuer = loadIssuer(ca.pem, caKey);
const { sans } = parseSans(['db1.example.com', '10.0.0.11', '::1', 'localhost']);
const leaf = (profile: 'server' | 'client' | 'peer') =>
  issueCertificate({
    profile,
    subject: { CN: `db1 ${profile}`, O: 'Société Générale' },
    sans: profile === 'client' ? [] : sans,
    days: 825,
    subjectKey: leafKey,
    issuer,
  });

async function opensslText(pem: string): Promise<string> {
  const r = await run('openssl', ['x509', '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus_space'], { input: pem });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** The lines of one extension in `openssl x509 -text`. */
function extension(text: string, name: string): string {
  const m = new RegExp(`X509v3 ${name}:( critical)? *\\n\\s+(.*)`).exec(text);
  assert.ok(m, `${name} missing`);
  return (m[1] ? 'critical: ' : '') + m[2]!.trim();
}

test('CA profile: CA:TRUE critical, keyCertSign + cRLSign critical, subjectKeyIdentifier, v3, SHA-256', async () => {
  const text = await opensslText(ca.pem);
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.equal(extension(text, 'Basic Constraints'), 'critical: CA:TRUE');
  assert.equal(extension(text, 'Key Usage'), 'critical: Certificate Sign, CRL Sign');
  assert.match(text, /X509v3 Subject Key Identifier/);
  assert.doesNotMatch(text, /Extended Key Usage|Subject Alternative Name/);
  assert.match(text, /Subject: C=FR, O=Société Générale, CN=Test Root CA/);
});

test("server profile: CA:FALSE, digitalSignature + keyEncipherment, serverAuth, SANs, AKI = the CA's SKI", async () => {
  const text = await opensslText(leaf('server').pem);
  assert.equal(extension(text, 'Basic Constraints'), 'critical: CA:FALSE');
  assert.equal(extension(text, 'Key Usage'), 'critical: Digital Signature, Key Encipherment');
  assert.equal(extension(text, 'Extended Key Usage'), 'TLS Web Server Authentication');
  assert.equal(
    extension(text, 'Subject Alternative Name'),
    'DNS:db1.example.com, IP Address:10.0.0.11, IP Address:0:0:0:0:0:0:0:1, DNS:localhost',
  );
  const caSki = extension(await opensslText(ca.pem), 'Subject Key Identifier');
  assert.equal(extension(text, 'Authority Key Identifier').replace(/^keyid:/, ''), caSki);
  assert.match(text, /Issuer: C=FR, O=Société Générale, CN=Test Root CA/);
});

test('client profile: clientAuth only; peer profile: serverAuth and clientAuth', async () => {
  assert.equal(extension(await opensslText(leaf('client').pem), 'Extended Key Usage'), 'TLS Web Client Authentication');
  assert.equal(
    extension(await opensslText(leaf('peer').pem), 'Extended Key Usage'),
    'TLS Web Server Authentication, TLS Web Client Authentication',
  );
});

test('openssl verify accepts every leaf profile against the CA, with the purpose it is for', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'ca.pem'), ca.pem);
  for (const [profile, purposes] of [
    ['server', ['sslserver']],
    ['client', ['sslclient']],
    ['peer', ['sslserver', 'sslclient']],
  ] as const) {
    const file = join(dir, `${profile}.pem`);
    await writeFile(file, leaf(profile).pem);
    for (const purpose of purposes) {
      const r = await run('openssl', ['verify', '-purpose', purpose, '-CAfile', join(dir, 'ca.pem'), file]);
      assert.equal(r.code, 0, `${profile}/${purpose}: ${r.stdout}${r.stderr}`);
    }
  }
  // and the purposes they are not for are refused
  const wrong = await run('openssl', [
    'verify',
    '-purpose',
    'sslserver',
    '-CAfile',
    join(dir, 'ca.pem'),
    join(dir, 'client.pem'),
  ]);
  assert.notEqual(wrong.code, 0);
});

test('Node checks the SANs the way VERIFY_IDENTITY does', () => {
  const c = new X509Certificate(leaf('server').pem);
  assert.equal(c.checkHost('db1.example.com'), 'db1.example.com');
  assert.equal(c.checkIP('10.0.0.11'), '10.0.0.11');
  assert.equal(c.checkIP('::1'), '::1');
  assert.equal(c.checkHost('db2.example.com'), undefined);
  assert.equal(c.checkIP('10.0.0.12'), undefined);
});

test('validity: backdated for clock skew, lasting exactly the requested days from notBefore (as OpenSSL reads it); years past 2049 use GeneralizedTime', async () => {
  const now = new Date('2030-06-01T12:00:00.500Z');
  const c = issueCertificate({ profile: 'server', subject: { CN: 'v' }, days: 10, subjectKey: leafKey, issuer, now });
  assert.equal(c.notBefore.getTime(), Date.parse('2030-06-01T12:00:00Z') - BACKDATE_SECONDS * 1000);
  assert.equal(c.notAfter.toISOString(), '2030-06-11T11:55:00.000Z');
  const r = await run('openssl', ['x509', '-noout', '-startdate', '-enddate'], { input: c.pem });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'notBefore=Jun  1 11:55:00 2030 GMT\nnotAfter=Jun 11 11:55:00 2030 GMT\n');
  // The CA too: notAfter - notBefore is days × 86400 s, not days plus the back-dating.
  const caNow = issueCertificate({ profile: 'ca', subject: { CN: 'exact' }, days: 3650, subjectKey: caKey, now });
  assert.equal(caNow.notAfter.getTime() - caNow.notBefore.getTime(), 3650 * 86_400_000);
  const far = issueCertificate({ profile: 'ca', subject: { CN: 'far' }, days: 36500, subjectKey: caKey, now });
  assert.equal(new Date(new X509Certificate(far.pem).validTo).getUTCFullYear(), 2130);
});

test("a leaf never outlives its CA: notAfter is cut to the CA's and the result says so", async () => {
  const now = new Date();
  const shortCa = issueCertificate({ profile: 'ca', subject: { CN: 'Short CA' }, days: 30, subjectKey: caKey, now });
  const shortIssuer = loadIssuer(shortCa.pem, caKey);
  assert.equal(shortIssuer.notAfter.getTime(), shortCa.notAfter.getTime());
  const c = issueCertificate({
    profile: 'server',
    subject: { CN: 'long' },
    days: 397,
    subjectKey: leafKey,
    issuer: shortIssuer,
    now,
  });
  assert.equal(c.notAfter.getTime(), shortCa.notAfter.getTime());
  assert.equal(c.cappedAt?.getTime(), shortCa.notAfter.getTime());
  const r = await run('openssl', ['x509', '-noout', '-enddate'], { input: c.pem });
  const rc = await run('openssl', ['x509', '-noout', '-enddate'], { input: shortCa.pem });
  assert.equal(r.stdout, rc.stdout);
  const within = issueCertificate({
    profile: 'server',
    subject: { CN: 'short' },
    days: 10,
    subjectKey: leafKey,
    issuer: shortIssuer,
    now,
  });
  assert.equal(within.cappedAt, undefined);
});

test("a leaf may not share the CA's CN, and a CA carries no SANs", () => {
  assert.throws(
    () =>
      issueCertificate({ profile: 'server', subject: { CN: 'Test Root CA' }, days: 1, subjectKey: leafKey, issuer }),
    /must differ from the CA/,
  );
  assert.throws(
    () => issueCertificate({ profile: 'ca', subject: { CN: 'x' }, sans, days: 1, subjectKey: caKey }),
    /no SANs/,
  );
  assert.throws(
    () => issueCertificate({ profile: 'ca', subject: { CN: 'x' }, days: 0, subjectKey: caKey }),
    /positive/,
  );
});
