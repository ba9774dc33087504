// verifyPair / verifyPairFiles: the one check of a leaf and its key (parses, belongs, chains).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRsaKey, privateKeyToPem } from '../../lib/pki/keys.js';
import { issueCertificate, loadIssuer } from '../../lib/pki/certificate.js';
import { verifyPair, verifyPairFiles } from '../../lib/pki/verify-pair.js';
import { DbtlsError } from '../../lib/errors.js';
import { tempDir } from '../helpers/tmp.js';

const [caKey, otherCaKey, k1, k2] = await Promise.all([
  generateRsaKey(),
  generateRsaKey(),
  generateRsaKey(),
  generateRsaKey(),
]);
const ca = issueCertificate({ profile: 'ca', subject: { CN: 'Pair CA' }, days: 30, subjectKey: caKey });
// Same name, another key: only the signature tells them apart.
const otherCa = issueCertificate({ profile: 'ca', subject: { CN: 'Pair CA' }, days: 30, subjectKey: otherCaKey });
const leaf = (key: typeof k1, caPem: string, signer: typeof caKey, cn: string) =>
  issueCertificate({
    profile: 'server',
    subject: { CN: cn },
    days: 10,
    subjectKey: key,
    issuer: loadIssuer(caPem, signer),
  }).pem;
const cert1 = leaf(k1, ca.pem, caKey, 'db1');
const cert2 = leaf(k2, ca.pem, caKey, 'db2');
const key1 = privateKeyToPem(k1);
const key2 = privateKeyToPem(k2);

test('a good pair signed by the CA verifies (also as an encrypted key with its passphrase, and among several CAs)', () => {
  assert.equal(verifyPair(cert1, key1, [ca.pem]), undefined);
  assert.equal(verifyPair(cert1, key1, [otherCa.pem, ca.pem]), undefined);
  const enc = k1.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
  assert.equal(verifyPair(cert1, enc, [ca.pem], { passphrase: 'pw' }), undefined);
  assert.equal(verifyPair(cert1, enc, [ca.pem], { passphrase: 'wrong' })?.code, 'bad-key');
});

test('a truncated key, a garbled certificate, a swapped key and a certificate of another CA are each named', () => {
  assert.deepEqual(
    { ...verifyPair(cert1, key1.slice(0, key1.length / 2), [ca.pem]), message: undefined },
    { code: 'bad-key', which: 'key', message: undefined },
  );
  const lines = cert1.split('\n');
  lines[2] = 'A'.repeat(64);
  assert.equal(verifyPair(lines.join('\n'), key1, [ca.pem])?.code, 'bad-certificate');
  assert.equal(verifyPair(cert1.slice(0, cert1.length / 2), key1, [ca.pem])?.code, 'bad-certificate');
  assert.equal(verifyPair('', key1, [ca.pem])?.code, 'bad-certificate');
  assert.equal(verifyPair(cert1, key2, [ca.pem])?.code, 'key-mismatch');
  assert.equal(verifyPair(cert2, key1, [ca.pem])?.code, 'key-mismatch');
  const foreign = leaf(k1, otherCa.pem, otherCaKey, 'db1');
  assert.equal(verifyPair(foreign, key1, [ca.pem])?.code, 'wrong-ca');
  assert.equal(verifyPair(cert1, key1, [otherCa.pem])?.code, 'wrong-ca');
});

test('verifyPairFiles: a DbtlsError of kind input naming the file at fault; a symlinked key is refused', async (t) => {
  const dir = await tempDir(t);
  const c = join(dir, 'server-cert.pem');
  const k = join(dir, 'server-key.pem');
  await writeFile(c, cert1);
  await writeFile(k, key1, { mode: 0o600 });
  await verifyPairFiles(c, k, [ca.pem], "db1's server certificate");

  await writeFile(k, key2, { mode: 0o600 });
  await assert.rejects(
    verifyPairFiles(c, k, [ca.pem], "db1's server certificate", { hint: 'dbtls issue --force --node db1' }),
    (e: unknown) => {
      assert.ok(e instanceof DbtlsError);
      assert.equal(e.kind, 'input');
      assert.equal(e.code, 'pair-key-mismatch');
      assert.equal(e.location.file, k);
      assert.match(e.message, /db1's server certificate: .*server-key\.pem does not belong/);
      assert.equal(e.hint, 'dbtls issue --force --node db1');
      return true;
    },
  );

  const real = join(dir, 'elsewhere.pem');
  await writeFile(real, key1, { mode: 0o600 });
  const linked = join(dir, 'linked-key.pem');
  await symlink(real, linked);
  await assert.rejects(verifyPairFiles(c, linked, [ca.pem], "db1's server certificate"), (e: unknown) => {
    assert.ok(e instanceof DbtlsError);
    assert.equal(e.kind, 'input');
    assert.equal(e.location.file, linked);
    assert.match(e.message, /symbolic link/);
    return true;
  });

  await assert.rejects(
    verifyPairFiles(join(dir, 'gone.pem'), k, [ca.pem], 'x'),
    (e: unknown) => e instanceof DbtlsError && e.kind === 'input' && /gone\.pem is missing/.test(e.message),
  );
});
