import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createPrivateKey, sign, verify } from 'node:crypto';
import {
  generateRsaKey,
  privateKeyToPem,
  publicKeyToPem,
  parsePrivateKey,
  keyIdentifier,
  isRsaKeySize,
  encryptPrivateKeyPem,
  exportPrivateKeyPem,
  KEY_PBKDF2_ITERATIONS,
} from '../../lib/pki/keys.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

test('PKCS#8 by default, PKCS#1 on request, and both read back to the same key', async () => {
  const key = await generateRsaKey();
  const p8 = privateKeyToPem(key);
  const p1 = privateKeyToPem(key, 'pkcs1');
  assert.match(p8, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(p1, /^-----BEGIN RSA PRIVATE KEY-----\n/);
  const a = createPrivateKey(p8);
  const b = createPrivateKey(p1);
  assert.ok(a.equals(b));
  assert.equal(privateKeyToPem(parsePrivateKey(p1), 'pkcs8'), p8);
  assert.equal(privateKeyToPem(parsePrivateKey(p8), 'pkcs1'), p1);
});

test('public keys are SubjectPublicKeyInfo PEM and verify what the private key signs', async () => {
  const key = await generateRsaKey();
  const pub = publicKeyToPem(key);
  assert.match(pub, /^-----BEGIN PUBLIC KEY-----\n/);
  const sig = sign('sha256', Buffer.from('hello'), key);
  assert.ok(verify('sha256', Buffer.from('hello'), createPublicKey(pub), sig));
});

test('key sizes 2048, 3072 and 4096 are made with those sizes', async () => {
  const keys = await Promise.all([generateRsaKey(2048), generateRsaKey(3072), generateRsaKey(4096)]);
  assert.deepEqual(
    keys.map((k) => k.asymmetricKeyDetails?.modulusLength),
    [2048, 3072, 4096],
  );
  assert.ok(isRsaKeySize(3072));
  assert.ok(!isRsaKeySize(1024));
});

test('OpenSSL reads both PEM forms', async (t) => {
  const dir = await tempDir(t);
  const key = await generateRsaKey();
  for (const format of ['pkcs8', 'pkcs1'] as const) {
    const file = join(dir, `${format}.pem`);
    await writeFile(file, privateKeyToPem(key, format));
    const r = await run('openssl', ['rsa', '-in', file, '-check', '-noout']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /RSA key ok/);
  }
});

test('keyIdentifier is SHA-1 of the public key bits, as OpenSSL computes the subjectKeyIdentifier', async (t) => {
  const dir = await tempDir(t);
  const key = await generateRsaKey();
  const file = join(dir, 'k.pem');
  await writeFile(file, privateKeyToPem(key));
  const req = await run('openssl', [
    'req',
    '-new',
    '-x509',
    '-key',
    file,
    '-subj',
    '/CN=ski',
    '-days',
    '1',
    '-addext',
    'subjectKeyIdentifier=hash',
  ]);
  assert.equal(req.code, 0, req.stderr);
  const text = await run('openssl', ['x509', '-noout', '-ext', 'subjectKeyIdentifier'], { input: req.stdout });
  const fromOpenssl = /([0-9A-F]{2}(:[0-9A-F]{2}){19})/.exec(text.stdout)?.[1];
  const ours = keyIdentifier(key).toString('hex').toUpperCase().match(/../g)!.join(':');
  assert.equal(ours, fromOpenssl);
});

test('encryptPrivateKeyPem: PBES2, PBKDF2-HMAC-SHA256 at 600,000 iterations, AES-256-CBC, read back by OpenSSL and Node; 2048-iteration files still read', async (t) => {
  assert.equal(KEY_PBKDF2_ITERATIONS, 600_000);
  const key = await generateRsaKey();
  const clear = key.export({ type: 'pkcs8', format: 'pem' }) as string;
  const pem = exportPrivateKeyPem(key, 'pässphrase');
  assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  const dir = await tempDir(t);
  await writeFile(join(dir, 'k.pem'), pem, { mode: 0o600 });
  const asn1 = await run('openssl', ['asn1parse', '-in', join(dir, 'k.pem')]);
  assert.equal(asn1.code, 0, asn1.stderr);
  assert.match(
    asn1.stdout,
    /:PBES2[\s\S]*:PBKDF2[\s\S]*OCTET STRING[\s\S]*INTEGER +:0927C0\n[\s\S]*:hmacWithSHA256[\s\S]*:aes-256-cbc/,
  );
  const back = await run('openssl', ['pkey', '-in', join(dir, 'k.pem'), '-passin', 'pass:pässphrase']);
  assert.equal(back.code, 0, back.stderr);
  assert.equal(back.stdout, clear);
  assert.equal(parsePrivateKey(pem, 'pässphrase').export({ type: 'pkcs8', format: 'pem' }), clear);
  assert.throws(() => parsePrivateKey(pem, 'wrong'));
  // Node's own export (OpenSSL's default count, what dbtls wrote before) still reads.
  const old = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'p' }) as string;
  await writeFile(join(dir, 'old.pem'), old, { mode: 0o600 });
  assert.match((await run('openssl', ['asn1parse', '-in', join(dir, 'old.pem')])).stdout, /INTEGER +:0800\n/);
  assert.equal(parsePrivateKey(old, 'p').export({ type: 'pkcs8', format: 'pem' }), clear);
  // A fresh salt and IV every time; no passphrase, no encryption.
  assert.notEqual(encryptPrivateKeyPem(key, 'x', 1000), encryptPrivateKeyPem(key, 'x', 1000));
  assert.equal(exportPrivateKeyPem(key, undefined), clear);
});
