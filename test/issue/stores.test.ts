// Java stores from `dbtls issue`, checked with OpenJDK's keytool: the Tungsten file set, client
// keystores, rebuilds only when needed, and the store password kept private.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';

const CLUSTER: TestInventory = {
  nodes: [
    { name: 'db1', host: '10.0.0.11', roles: ['mysql', 'tungsten'] },
    { name: 'db2', host: '10.0.0.12', roles: ['mysql', 'tungsten'] },
    { name: 'db3', host: '10.0.0.13', roles: ['mariadb'] },
  ],
  clients: [{ name: 'app', keystore: 'pkcs12' }, { name: 'legacy', keystore: 'jks' }, 'plain'],
};

async function keytoolList(file: string, storepass: string, type = 'JKS') {
  const r = await run('keytool', ['-list', '-v', '-storetype', type, '-keystore', file, '-storepass', storepass]);
  assert.equal(r.code, 0, `${file}: ${r.stdout}${r.stderr}`);
  const entries = [
    ...r.stdout.matchAll(/Alias name: (.*)\n[\s\S]*?Entry type: (\w+)(?:\nCertificate chain length: (\d+))?/g),
  ].map((m) => [m[1], m[2], m[3] ? Number(m[3]) : 1]);
  return entries;
}

async function issue(inv: string, env: NodeJS.ProcessEnv = process.env) {
  const r = await dbtls(['issue', '-i', inv, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('Tungsten nodes get the tpm file set and a key/trust pair; clients get the store type they ask for', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, CLUSTER);
  const report = await issue(inv);
  const pki = join(dir, 'pki');
  const pass = (await readFile(join(pki, 'storepass'), 'utf8')).trim();
  assert.equal((await stat(join(pki, 'storepass'))).mode & 0o777, 0o600);
  assert.ok(pass.length >= 20);
  assert.ok(!JSON.stringify(report).includes(pass), 'the store password is not in the JSON report');

  const t1 = join(pki, 'nodes/db1/tungsten');
  assert.deepEqual(await keytoolList(join(t1, 'tungsten_keystore.jks'), pass), [['db1', 'PrivateKeyEntry', 2]]);
  assert.deepEqual(await keytoolList(join(t1, 'tungsten_tls_keystore.jks'), pass), [['tls', 'PrivateKeyEntry', 2]]);
  assert.deepEqual(await keytoolList(join(t1, 'tungsten_connector_keystore.jks'), pass), [
    ['db1', 'PrivateKeyEntry', 2],
  ]);
  for (const ts of ['tungsten_truststore.ts', 'tungsten_connector_truststore.ts']) {
    assert.deepEqual(await keytoolList(join(t1, ts), pass), [['ca', 'trustedCertEntry', 1]], ts);
  }
  assert.deepEqual(await keytoolList(join(pki, 'nodes/db2/keystore.jks'), pass), [['db2', 'PrivateKeyEntry', 2]]);
  assert.deepEqual(await keytoolList(join(pki, 'nodes/db2/truststore.jks'), pass), [['ca', 'trustedCertEntry', 1]]);
  await assert.rejects(stat(join(pki, 'nodes/db3/keystore.jks')), 'no stores for a node without the tungsten role');

  assert.deepEqual(await keytoolList(join(pki, 'clients/app/keystore.p12'), pass, 'PKCS12'), [
    ['app', 'PrivateKeyEntry', 2],
  ]);
  assert.deepEqual(await keytoolList(join(pki, 'clients/app/truststore.p12'), pass, 'PKCS12'), [
    ['ca', 'trustedCertEntry', 1],
  ]);
  assert.deepEqual(await keytoolList(join(pki, 'clients/legacy/keystore.jks'), pass), [
    ['legacy', 'PrivateKeyEntry', 2],
  ]);
  await assert.rejects(stat(join(pki, 'clients/plain/keystore.jks')));
  assert.equal((await stat(join(t1, 'tungsten_keystore.jks'))).mode & 0o777, 0o600);
  assert.equal((await stat(join(t1, 'tungsten_truststore.ts'))).mode & 0o777, 0o644);

  // The key in the store is the node's key: keytool exports it to PKCS#12 and OpenSSL compares.
  const p12 = join(dir, 'db1.p12');
  const exp = await run('keytool', [
    '-importkeystore',
    '-srckeystore',
    join(t1, 'tungsten_tls_keystore.jks'),
    '-srcstorepass',
    pass,
    '-destkeystore',
    p12,
    '-deststoretype',
    'PKCS12',
    '-deststorepass',
    pass,
  ]);
  assert.equal(exp.code, 0, exp.stderr);
  const fromStore = await run('openssl', ['pkcs12', '-in', p12, '-nocerts', '-nodes', '-passin', `pass:${pass}`]);
  const pub = async (pem: string) => (await run('openssl', ['pkey', '-pubout'], { input: pem })).stdout;
  assert.equal(await pub(fromStore.stdout), await pub(await readFile(join(pki, 'nodes/db1/server-key.pem'), 'utf8')));
  // The JGroups key: one Blowfish key for the cluster, the same file on every Tungsten node.
  const jceks = await run('keytool', [
    '-list',
    '-v',
    '-storetype',
    'JCEKS',
    '-keystore',
    join(t1, 'tungsten_jgroups_keystore.jceks'),
    '-storepass',
    pass,
  ]);
  assert.equal(jceks.code, 0, jceks.stderr);
  assert.match(jceks.stdout, /Alias name: jgroups\n[\s\S]*Entry type: SecretKeyEntry/);
  assert.deepEqual(
    await readFile(join(t1, 'tungsten_jgroups_keystore.jceks')),
    await readFile(join(pki, 'nodes/db2/tungsten/tungsten_jgroups_keystore.jceks')),
  );
  // A wrong password is refused.
  const wrong = await run('keytool', [
    '-list',
    '-keystore',
    join(t1, 'tungsten_keystore.jks'),
    '-storepass',
    'not-the-password',
  ]);
  assert.notEqual(wrong.code, 0);
});

test('stores are rebuilt only when needed: unchanged, a re-issued node, a missing file, a new password', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, CLUSTER);
  const first = await issue(inv);
  assert.equal(first.stores.length, 2 * 7 + 4 + 3); // + the cluster's JGroups store and its two node copies
  const again = await issue(inv);
  assert.equal(again.changed, false);
  assert.deepEqual(again.stores, []);

  const grown = structuredClone(CLUSTER);
  grown.nodes[1]!.sans = ['db2.example.com'];
  await writeInventory(dir, grown);
  const sanChange = await issue(inv);
  assert.deepEqual(sanChange.stores.map((s: { id: string }) => s.id).sort(), [
    'nodes/db2/keystore.jks',
    'nodes/db2/tungsten/tungsten_connector_keystore.jks',
    'nodes/db2/tungsten/tungsten_keystore.jks',
    'nodes/db2/tungsten/tungsten_tls_keystore.jks',
  ]);
  assert.ok(sanChange.stores.every((s: { reason: string }) => s.reason === 'its certificates changed'));

  await unlink(join(dir, 'pki/clients/app/truststore.p12'));
  const missing = await issue(inv);
  assert.deepEqual(
    missing.stores.map((s: { id: string; reason: string }) => [s.id, s.reason]),
    [['clients/app/truststore.p12', 'clients/app/truststore.p12 is missing']],
  );

  const env = { ...process.env, DBTLS_STOREPASS: 'a-new-store-password' };
  const { readJceks } = await import('../../lib/keystore/jceks.js');
  const jgroupsKey = async (pass: string) =>
    readJceks(await readFile(join(dir, 'pki/nodes/db1/tungsten/tungsten_jgroups_keystore.jceks')), pass)
      .entries[0]!.key!.export()
      .toString('hex');
  const keyBefore = await jgroupsKey((await readFile(join(dir, 'pki/storepass'), 'utf8')).trim());
  const repass = await issue(inv, env);
  assert.equal(repass.stores.length, 21);
  assert.ok(
    repass.stores.every((s: { reason: string }) =>
      /the store password changed|cluster JGroups store changed/.test(s.reason),
    ),
    JSON.stringify(repass.stores),
  );
  assert.equal(await jgroupsKey('a-new-store-password'), keyBefore, 'the JGroups key survives a password change');
  assert.equal((await readFile(join(dir, 'pki/storepass'), 'utf8')).trim(), 'a-new-store-password');
  assert.deepEqual(await keytoolList(join(dir, 'pki/clients/app/keystore.p12'), 'a-new-store-password', 'PKCS12'), [
    ['app', 'PrivateKeyEntry', 2],
  ]);
  assert.equal((await issue(inv, env)).changed, false);
});
