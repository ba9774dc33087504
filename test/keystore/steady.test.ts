// Cheap steady-state runs (issue 12, finding 14) without a blind spot: `check` and `issue` skip the
// key decryption of a Java store only when its bytes are exactly the ones recorded in the manifest.
// Every store here that was changed keeps the properties a light check looks at (the integrity hash
// or MAC verifies with the store password, the certificates are the recorded ones), so only a full
// verification can catch it: these tests fail if the fast path trusts the record for changed bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { type TestInventory } from '../helpers/inventory.js';
import { issuedPki } from '../helpers/issued-pki.js';
import { fileScope, type Scope } from '../helpers/scope.js';
import { readJks, writeJks } from '../../lib/keystore/jks.js';
import { readJceks, writeJceksSecretKey } from '../../lib/keystore/jceks.js';
import { writePkcs12, readPkcs12 } from '../../lib/keystore/pkcs12.js';
import { keystoreIntegrity } from '../../lib/keystore/java-io.js';

const CLUSTER: TestInventory = {
  nodes: [
    { name: 'db1', host: '10.0.0.11', roles: ['mysql', 'tungsten'] },
    { name: 'db2', host: '10.0.0.12', roles: ['mysql', 'tungsten'] },
  ],
  clients: [
    { name: 'app', keystore: 'pkcs12' },
    { name: 'legacy', keystore: 'jks' },
  ],
};

interface Report {
  items: Array<{ id: string; status: string; problems: string[] }>;
}

async function issue(inv: string) {
  const r = await dbtls(['issue', '-i', inv, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { changed: boolean; stores: Array<{ id: string; reason: string }> };
}

async function check(inv: string) {
  const r = await dbtls(['check', '-i', inv, '--json']);
  assert.ok(r.stdout, r.stderr);
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

const byId = (report: Report) => new Map(report.items.map((i) => [i.id, i]));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// Every test starts from its own copy of one issue (the JCEKS stores alone cost seconds of CPU).
const issued = issuedPki(fileScope(), CLUSTER);

async function setUp(t: Scope) {
  const { dir, inv, pki } = await issued(t);
  const pass = (await readFile(join(pki, 'storepass'), 'utf8')).trim();
  const file = (rel: string) => join(pki, rel);
  const certDer = async (rel: string) => new X509Certificate(await readFile(file(rel))).raw;
  const key = async (rel: string) => createPrivateKey(await readFile(file(rel), 'utf8'));
  const manifest = async () =>
    JSON.parse(await readFile(file('manifest.json'), 'utf8')) as {
      stores: Array<{ id: string; path: string; type: string; sha256?: string; spec: string }>;
    };
  return { dir, inv, pki, pass, file, certDer, key, manifest };
}

/** Every file under dir: inode, mtime and content hash (an atomic rewrite shows as a new inode). */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        const s = await stat(p);
        out.set(relative(dir, p), `${s.ino} ${s.mtimeMs} ${sha256(await readFile(p))}`);
      }
    }
  };
  await walk(dir);
  return out;
}

test('check verifies in full every store whose bytes changed, though its integrity hash or MAC and its certificates are still right', async (t) => {
  const { inv, pass, file, certDer, key } = await setUp(t);
  assert.equal((await check(inv)).code, 0);
  const ca = await certDer('ca.pem');

  // 1. db1's keystore: the same key and chain, the store sealed with the store password, the key with another one.
  const db1Key = await key('nodes/db1/server-key.pem');
  const db1Chain = [await certDer('nodes/db1/server-cert.pem'), ca];
  const before = readJks(await readFile(file('nodes/db1/keystore.jks')), { storepass: pass, decryptKeys: false });
  const rekeyed = writeJks(
    [{ kind: 'private-key', alias: 'db1', key: db1Key, chain: db1Chain }],
    pass,
    'another-key-password',
  );
  const light = readJks(rekeyed, { storepass: pass, decryptKeys: false });
  assert.equal(light.verified, true, 'the integrity hash verifies with the store password');
  assert.deepEqual(
    light.entries[0]!.certificates.map((c) => c.fingerprint256),
    before.entries[0]!.certificates.map((c) => c.fingerprint256),
    'the same certificates',
  );
  await writeFile(file('nodes/db1/keystore.jks'), rekeyed);

  // 2. db1's copy of the JGroups key store: the same secret key sealed under another password, the
  //    integrity hash recomputed with the store password.
  const jgroupsPath = 'nodes/db1/tungsten/tungsten_jgroups_keystore.jceks';
  const jgroupsKey = readJceks(await readFile(file(jgroupsPath)), pass).entries[0]!.key!.export();
  const sealed = writeJceksSecretKey({
    alias: 'jgroups',
    algorithm: 'Blowfish',
    key: jgroupsKey,
    password: 'another-key-password',
    iterations: 1000,
  });
  const body = sealed.subarray(0, sealed.length - 20);
  const resealed = Buffer.concat([body, keystoreIntegrity(pass, body)]);
  assert.equal(
    readJceks(resealed, { storepass: pass, decryptKeys: false }).verified,
    true,
    'the JCEKS integrity hash verifies with the store password',
  );
  assert.throws(() => readJceks(resealed, pass), /key password is wrong/);
  await writeFile(file(jgroupsPath), resealed);

  // 3. db2's Tungsten keystore: db2's chain with db1's key, all sealed with the store password.
  const db2Chain = [await certDer('nodes/db2/server-cert.pem'), ca];
  await writeFile(
    file('nodes/db2/tungsten/tungsten_keystore.jks'),
    writeJks([{ kind: 'private-key', alias: 'db2', key: db1Key, chain: db2Chain }], pass),
  );

  // 4. app's PKCS#12 keystore: app's chain with legacy's key; the MAC verifies with the store password.
  const appChain = [await certDer('clients/app/client-cert.pem'), ca];
  const swapped = writePkcs12(
    [{ kind: 'private-key', alias: 'app', key: await key('clients/legacy/client-key.pem'), chain: appChain }],
    pass,
  );
  assert.equal(readPkcs12(swapped, pass, 'app', { decryptKeys: false }).verified, true);
  await writeFile(file('clients/app/keystore.p12'), swapped);

  // 5. db2's truststore: one byte of the CA certificate changed.
  const trust = Buffer.from(await readFile(file('nodes/db2/truststore.jks')));
  trust[trust.length - 200] ^= 0x01;
  await writeFile(file('nodes/db2/truststore.jks'), trust);

  const bad = await check(inv);
  assert.equal(bad.code, 1);
  const items = byId(bad.report);
  const expect: Record<string, RegExp> = {
    'nodes/db1/keystore.jks': /key password is wrong/,
    [jgroupsPath]: /key password is wrong/,
    'nodes/db2/tungsten/tungsten_keystore.jks': /does not belong to its certificate/,
    'clients/app/keystore.p12': /does not belong to its certificate/,
    'nodes/db2/truststore.jks': /password is wrong, or .* tampered/,
  };
  for (const [id, problem] of Object.entries(expect)) {
    const item = items.get(id);
    assert.equal(item?.status, 'invalid', `${id}: ${JSON.stringify(item)}`);
    assert.match(item!.problems.join('; '), problem, id);
  }
  const others = bad.report.items.filter((i) => !(i.id in expect) && i.status !== 'ok');
  assert.deepEqual(others, [], 'nothing else is reported');

  // issue rebuilds exactly those stores, and check is content again.
  const fixed = await issue(inv);
  assert.deepEqual(fixed.stores.map((s) => s.id).sort(), Object.keys(expect).sort());
  assert.equal((await check(inv)).code, 0);
});

test('the fast path still proves the password: stores whose bytes are as recorded are invalid under another kept store password', async (t) => {
  const { inv, pki, file, manifest } = await setUp(t);
  const stores = (await manifest()).stores;
  for (const s of stores)
    assert.equal(s.sha256, sha256(await readFile(file(s.path))), `${s.path}: its bytes are the recorded ones`);
  await writeFile(join(pki, 'storepass'), 'not-the-store-password\n', { mode: 0o600 });
  const bad = await check(inv);
  assert.equal(bad.code, 1);
  const items = byId(bad.report);
  const checked = stores.filter((s) => !s.path.startsWith('tungsten/')); // the cluster's own JGroups store belongs to no node
  assert.ok(checked.length >= 16);
  for (const s of checked) {
    const item = items.get(s.path);
    assert.equal(item?.status, 'invalid', `${s.path}: ${JSON.stringify(item)}`);
    assert.match(item!.problems.join('; '), /password is wrong|does not verify/, s.path);
  }
});

test("a no-change issue and a check write nothing: every file keeps its inode, mtime and bytes; the manifest records each store's SHA-256", async (t) => {
  const { inv, pki, file, manifest } = await setUp(t);
  const before = await snapshot(pki);
  const again = await issue(inv);
  assert.equal(again.changed, false);
  assert.deepEqual(again.stores, []);
  assert.equal((await check(inv)).code, 0);
  assert.deepEqual(await snapshot(pki), before);
  const stores = (await manifest()).stores;
  assert.ok(stores.length >= 19);
  for (const s of stores) assert.equal(s.sha256, sha256(await readFile(file(s.path))), s.path);
});

test('a manifest from before store hashes: stores are verified in full (a re-keyed one is caught), and the hashes are recorded with the next manifest written', async (t) => {
  const { inv, file, pass, certDer, key, manifest } = await setUp(t);
  const m = await manifest();
  for (const s of m.stores) delete s.sha256;
  await writeFile(file('manifest.json'), JSON.stringify(m, null, 2) + '\n');
  assert.equal((await check(inv)).code, 0, 'untouched stores pass the full verification');

  const chain = [await certDer('clients/legacy/client-cert.pem'), await certDer('ca.pem')];
  await writeFile(
    file('clients/legacy/keystore.jks'),
    writeJks(
      [{ kind: 'private-key', alias: 'legacy', key: await key('clients/legacy/client-key.pem'), chain }],
      pass,
      'another-key-password',
    ),
  );
  const bad = await check(inv);
  assert.equal(bad.code, 1);
  assert.equal(byId(bad.report).get('clients/legacy/keystore.jks')?.status, 'invalid');

  const fixed = await issue(inv);
  assert.deepEqual(
    fixed.stores.map((s) => s.id),
    ['clients/legacy/keystore.jks'],
  );
  // (JGroups records have always carried that hash as their spec.)
  for (const s of (await manifest()).stores)
    assert.equal(
      s.sha256 ?? (s.type === 'jceks' ? s.spec : undefined),
      sha256(await readFile(file(s.path))),
      `${s.path}: hash recorded`,
    );
  assert.equal((await issue(inv)).changed, false);
});

test('the cluster JGroups store: re-sealed bytes are verified in full and recorded; one that opens with no known password is refused, not replaced by a new key', async (t) => {
  const { inv, pki, pass, file, manifest } = await setUp(t);
  const cluster = 'tungsten/tungsten_jgroups_keystore.jceks';
  const jgroupsKey = readJceks(await readFile(file(cluster)), pass).entries[0]!.key!.export();

  // The same key sealed again with the store password (a new salt: other bytes): kept, copied, recorded.
  const resealed = writeJceksSecretKey({
    alias: 'jgroups',
    algorithm: 'Blowfish',
    key: jgroupsKey,
    password: pass,
    iterations: 1000,
  });
  await writeFile(file(cluster), resealed);
  const copied = await issue(inv);
  assert.deepEqual(copied.stores.map((s) => s.id).sort(), [
    'nodes/db1/tungsten/tungsten_jgroups_keystore.jceks',
    'nodes/db2/tungsten/tungsten_jgroups_keystore.jceks',
  ]);
  assert.deepEqual(await readFile(file(cluster)), resealed, 'the cluster store is kept');
  assert.equal((await manifest()).stores.find((s) => s.id === cluster)?.sha256, sha256(resealed));
  assert.equal((await issue(inv)).changed, false);

  // Sealed under a password dbtls does not know: exit 2 naming the file, nothing written.
  await writeFile(
    file(cluster),
    writeJceksSecretKey({
      alias: 'jgroups',
      algorithm: 'Blowfish',
      key: jgroupsKey,
      password: 'an-unknown-password',
      iterations: 1000,
    }),
  );
  const before = await snapshot(pki);
  const r = await dbtls(['issue', '-i', inv]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /tungsten_jgroups_keystore\.jceks.*does not open with the store password/);
  assert.deepEqual(await snapshot(pki), before);
});
