// `dbtls keystore create|trust|list` and `dbtls inspect` on stores, checked with keytool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

async function setupDir(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const dir = await tempDir(t);
  const r = await dbtls(['setup', '-d', dir, '--suffix', 'ks', '--san', 'localhost']);
  assert.equal(r.code, 0, r.stderr);
  return dir;
}

test('create: a PKCS#12 and a JKS keystore keytool lists as PrivateKeyEntry with the chain; a generated password is kept, not printed', async (t) => {
  const dir = await setupDir(t);
  const args = [
    '--cert',
    join(dir, 'client-cert.pem'),
    '--key',
    join(dir, 'client-key.pem'),
    '--chain',
    join(dir, 'ca.pem'),
  ];
  const p12 = await dbtls(['keystore', 'create', ...args, '--out', join(dir, 'client.p12'), '--alias', 'App']);
  assert.equal(p12.code, 0, p12.stderr);
  const pass = (await readFile(join(dir, 'client.p12.storepass'), 'utf8')).trim();
  assert.equal((await stat(join(dir, 'client.p12.storepass'))).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, 'client.p12'))).mode & 0o777, 0o600);
  assert.ok(!p12.stdout.includes(pass), 'the generated password is not printed');
  const list = await run('keytool', [
    '-list',
    '-v',
    '-storetype',
    'PKCS12',
    '-keystore',
    join(dir, 'client.p12'),
    '-storepass',
    pass,
  ]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /Alias name: app\n[\s\S]*Entry type: PrivateKeyEntry\nCertificate chain length: 2/);

  const jks = await dbtls([
    'keystore',
    'create',
    ...args,
    '--out',
    join(dir, 'client.jks'),
    '--storepass',
    'given-secret',
    '--json',
  ]);
  assert.equal(jks.code, 0, jks.stderr);
  const report = JSON.parse(jks.stdout);
  assert.equal(report.type, 'jks');
  assert.deepEqual(report.entries, [
    { alias: 'mysql-server-ks-auto-generated-client-certificate', kind: 'private-key' },
  ]);
  assert.ok(!jks.stdout.includes('given-secret'));
  const list2 = await run('keytool', ['-list', '-keystore', join(dir, 'client.jks'), '-storepass', 'given-secret']);
  assert.match(list2.stdout, /PrivateKeyEntry/);

  const shown = await dbtls(['keystore', 'create', ...args, '--out', join(dir, 'shown.p12'), '--print-storepass']);
  assert.equal(
    shown.stdout.trim().split('\n').pop(),
    (await readFile(join(dir, 'shown.p12.storepass'), 'utf8')).trim(),
  );
});

test('trust: every CA a trustedCertEntry in PKCS#12 (Java sees them) and JKS', async (t) => {
  const a = await setupDir(t);
  const b = await setupDir(t);
  for (const out of ['trust.p12', 'trust.jks']) {
    const r = await dbtls([
      'keystore',
      'trust',
      '--ca',
      join(a, 'ca.pem'),
      '--ca',
      join(b, 'ca.pem'),
      '--out',
      join(a, out),
      '--storepass',
      'trust-secret',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const list = await run('keytool', ['-list', '-keystore', join(a, out), '-storepass', 'trust-secret']);
    assert.match(list.stdout, /Your keystore contains 2 entries/, out);
    assert.equal(list.stdout.match(/trustedCertEntry/g)?.length, 2, out);
    assert.match(list.stdout, /mysql-server-ks-auto-generated-ca-certificate-2/, 'same-named CAs get distinct aliases');
  }
  const leaf = await dbtls([
    'keystore',
    'trust',
    '--ca',
    join(a, 'server-cert.pem'),
    '--out',
    join(a, 'bad.jks'),
    '--storepass',
    'trust-secret',
  ]);
  assert.equal(leaf.code, 2);
  assert.match(leaf.stderr, /is not a CA certificate/);
});

test('list and inspect read stores; a wrong password exits 2; an existing --out is kept without --force', async (t) => {
  const dir = await setupDir(t);
  const args = [
    '--cert',
    join(dir, 'server-cert.pem'),
    '--key',
    join(dir, 'server-key.pem'),
    '--chain',
    join(dir, 'ca.pem'),
    '--storepass',
    'list-secret',
  ];
  assert.equal((await dbtls(['keystore', 'create', ...args, '--out', join(dir, 's.p12')])).code, 0);
  const listed = await dbtls(['keystore', 'list', join(dir, 's.p12'), '--json'], {
    env: { ...process.env, DBTLS_STOREPASS: 'list-secret' },
  });
  assert.equal(listed.code, 0, listed.stderr);
  const l = JSON.parse(listed.stdout);
  assert.equal(l.verified, true);
  assert.equal(l.entries[0].chain.length, 2);
  assert.match(l.entries[0].chain[0].subject, /Server_Certificate/);
  const wrong = await dbtls(['keystore', 'list', join(dir, 's.p12'), '--storepass', 'wrong-secret']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /password is wrong/);
  const noPass = await dbtls(['keystore', 'list', join(dir, 's.p12')], {
    env: { ...process.env, DBTLS_STOREPASS: '' },
  });
  assert.equal(noPass.code, 2);
  assert.match(noPass.stderr, /its password is needed/);

  const again = await dbtls(['keystore', 'create', ...args, '--out', join(dir, 's.p12')]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /s\.p12 exists/);

  const inspected = await dbtls(['inspect', join(dir, 's.p12'), '--json'], {
    env: { ...process.env, DBTLS_STOREPASS: 'list-secret' },
  });
  assert.equal(inspected.code, 0, inspected.stderr);
  const objects = JSON.parse(inspected.stdout)[0].objects;
  assert.deepEqual(
    objects.map((o: { kind: string }) => o.kind),
    ['store-entry', 'certificate', 'certificate'],
  );
  assert.equal(objects[0].entryType, 'PrivateKeyEntry');
  assert.doesNotMatch(inspected.stdout, /PRIVATE KEY|list-secret/);
});
