// rotate leaf's push phase: reload commands see none of dbtls's secrets, and a node whose reload
// fails is rolled back to its previous files (byte for byte), reported, exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory, type TestNode } from '../helpers/inventory.js';

async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of (await readdir(dir)).sort())
    if (n.endsWith('.pem')) out[n] = (await readFile(join(dir, n))).toString('base64');
  return out;
}

test('rotate leaf: the reload command sees no DBTLS_* secret; a failed reload rolls the node back and says so', async (t) => {
  const dir = await tempDir(t);
  const envFile = join(dir, 'env.out');
  const flag = join(dir, 'fail-db2');
  const nodes: TestNode[] = [
    { name: 'db1', host: '10.9.0.1', roles: ['mariadb'], reload: `env > ${envFile}` },
    // Fails only while the flag file exists, so the first apply goes through.
    {
      name: 'db2',
      host: '10.9.0.2',
      roles: ['mariadb'],
      reload: `if [ -e ${flag} ]; then echo refused >&2; exit 1; fi`,
    },
  ];
  const inv = await writeInventory(dir, { nodes, leafDays: 1 });
  const root = join(dir, 'nodes');
  const secrets = {
    DBTLS_CA_PASSPHRASE: 'ca-Secret-9911',
    DBTLS_SSH_PASSPHRASE: 'ssh-Secret-9912',
    DBTLS_STOREPASS: 'store-Secret-9913',
  };
  const env = { ...process.env, ...secrets };
  const first = await dbtls(['apply', '-i', inv, '--local-root', root], { env });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const db2 = join(root, 'db2/etc/mysql/ssl');
  const before = await files(db2);
  await writeFile(flag, '');

  const r = await dbtls(['rotate', 'leaf', '-i', inv, '--local-root', root, '--within', '2d', '--yes'], { env });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /db2: rolled back [1-9]\d* files/);
  assert.deepEqual(await files(db2), before, 'db2 has exactly its previous files');
  const dump = await readFile(envFile, 'utf8');
  assert.match(dump, /^PATH=/m);
  for (const [k, v] of Object.entries(secrets))
    assert.ok(!dump.includes(v) && !dump.includes(k), `the reload saw ${k}`);
  // db1 took its new files (its reload succeeded): not rolled back.
  assert.equal(
    await readFile(join(root, 'db1/etc/mysql/ssl/server-cert.pem'), 'utf8'),
    await readFile(join(dir, 'pki/nodes/db1/server-cert.pem'), 'utf8'),
  );
});
