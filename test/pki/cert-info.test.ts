import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { generateRsaKey, publicKeyToPem, sameKey } from '../../lib/pki/keys.js';
import { issueCertificate, loadIssuer } from '../../lib/pki/certificate.js';
import { certificateInfo, parseCertificates, splitSans } from '../../lib/pki/cert-info.js';
import { verifyChain } from '../../lib/pki/chain.js';
import { parseSans } from '../../lib/pki/san.js';
import { run } from '../helpers/run.js';

const [caKey, otherCaKey, leafKey, otherKey] = await Promise.all([
  generateRsaKey(),
  generateRsaKey(),
  generateRsaKey(),
  generateRsaKey(),
]);
const ca = issueCertificate({ profile: 'ca', subject: { CN: 'Inspect CA' }, days: 30, subjectKey: caKey });
const otherCa = issueCertificate({ profile: 'ca', subject: { CN: 'Inspect CA' }, days: 30, subjectKey: otherCaKey });
const leafCert = issueCertificate({
  profile: 'server',
  subject: { CN: 'db1', O: 'Acme' },
  sans: parseSans(['db1.example.com', '192.0.2.7']).sans,
  days: 10,
  subjectKey: leafKey,
  issuer: loadIssuer(ca.pem, caKey),
});
const [leaf] = parseCertificates(leafCert.pem) as [X509Certificate];
const [root] = parseCertificates(ca.pem) as [X509Certificate];

test('inspection reports what OpenSSL reports: subject, issuer, serial, SANs, dates, SHA-256 fingerprint', async () => {
  const info = certificateInfo(leaf);
  assert.equal(info.subject, 'O=Acme, CN=db1');
  assert.equal(info.issuer, 'CN=Inspect CA');
  assert.equal(info.serial, leafCert.serialHex.replace(/^00/, ''));
  assert.deepEqual(info.sans, ['DNS:db1.example.com', 'IP:192.0.2.7']);
  assert.equal(info.notAfter.getTime(), leafCert.notAfter.getTime());
  assert.equal(info.isCA, false);
  assert.equal(info.keyType, 'rsa');
  assert.equal(info.keyBits, 2048);
  assert.deepEqual(info.extKeyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.equal(info.selfSigned, false);
  assert.equal(certificateInfo(root).selfSigned, true);

  const r = await run('openssl', ['x509', '-noout', '-serial', '-fingerprint', '-sha256'], { input: leafCert.pem });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`serial=${info.serial}`, 'i'));
  assert.match(r.stdout, new RegExp(`Fingerprint=${info.fingerprint256}`));
  const der = createHash('sha256').update(leaf.raw).digest('hex').toUpperCase().match(/../g)!.join(':');
  assert.equal(info.fingerprint256, der);
});

test('chain verification: good chain, foreign CA with the same name, expired leaf', () => {
  const ok = verifyChain(leaf, [root]);
  assert.equal(ok.ok, true);
  const foreign = verifyChain(leaf, parseCertificates(otherCa.pem));
  assert.equal(foreign.ok, false);
  assert.match(!foreign.ok ? foreign.reason : '', /no trusted CA signed/);
  const later = verifyChain(leaf, [root], [], new Date(leafCert.notAfter.getTime() + 1000));
  assert.equal(later.ok, false);
  assert.match(!later.ok ? later.reason : '', /expired/);
  const early = verifyChain(leaf, [root], [], new Date(leafCert.notBefore.getTime() - 1000));
  assert.equal(early.ok, false);
});

test('a leaf cannot act as a CA', () => {
  const fake = issueCertificate({
    profile: 'client',
    subject: { CN: 'child' },
    days: 1,
    subjectKey: otherKey,
    issuer: loadIssuer(leafCert.pem, leafKey),
  });
  const r = verifyChain(parseCertificates(fake.pem)[0]!, [leaf]);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : '', /not a CA/);
});

test('key and certificate match; public key and private key match', () => {
  assert.equal(sameKey(leaf.publicKey, leafKey), true);
  assert.equal(sameKey(leaf.publicKey, otherKey), false);
  assert.equal(sameKey(createPublicKey(publicKeyToPem(leafKey)), leafKey), true);
  assert.equal(sameKey(createPublicKey(publicKeyToPem(otherKey)), leafKey), false);
});

test('SAN strings from Node are split into the DNS:/IP: form', () => {
  assert.deepEqual(splitSans('DNS:a.example, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1'), [
    'DNS:a.example',
    'IP:10.0.0.1',
    'IP:0:0:0:0:0:0:0:1',
  ]);
  assert.deepEqual(splitSans(undefined), []);
});
