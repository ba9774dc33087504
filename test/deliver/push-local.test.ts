// `dbtls push` / `apply` with the local transport: the delivery plan, idempotency, backups, --check,
// the --files loop with shell patterns, and a failing node that does not stop the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';
import { issuedPki } from '../helpers/issued-pki.js';
import { fileScope } from '../helpers/scope.js';

const CLUSTER: TestInventory = {
  nodes: [
    { name: 'db1', host: '10.0.0.11', roles: ['mysql'] },
    { name: 'db2', host: '10.0.0.12', roles: ['mariadb'], replicaOf: 'db1' },
    { name: 'proxy1', host: '10.0.0.21', roles: ['proxysql'] },
  ],
  clients: ['app'],
};
// Tests about pushing what was issued start from their own copy of one issue; the first apply
// below still issues from nothing.
const issued = issuedPki(fileScope(), CLUSTER);

async function localInventory(dir: string, inv: TestInventory = CLUSTER): Promise<string> {
  const path = await writeInventory(dir, inv);
  // writeInventory sets transport: local on every node.
  return path;
}

async function apply(inv: string, root: string, extra: string[] = []) {
  const r = await dbtls(['apply', '-i', inv, '--local-root', root, '--json', ...extra]);
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : undefined };
}

test('apply delivers each node its plan; a second apply changes nothing; a re-issued node is the only upload', async (t) => {
  const dir = await tempDir(t);
  const inv = await localInventory(dir);
  const root = join(dir, 'nodes');
  const first = await apply(inv, root);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.report.ok, true);
  assert.equal(first.report.changed, true);
  const db1 = join(root, 'db1/etc/mysql/ssl');
  assert.deepEqual((await readdir(db1)).sort(), [
    'ca.pem',
    'client-cert.pem',
    'client-key.pem',
    'dbtls',
    'private_key.pem',
    'public_key.pem',
    'server-cert.pem',
    'server-key.pem',
  ]);
  assert.deepEqual((await readdir(join(db1, 'dbtls'))).sort(), ['client.cnf', 'my.cnf', 'users.sql']);
  assert.deepEqual((await readdir(join(root, 'db2/etc/mysql/ssl/dbtls'))).sort(), [
    'client.cnf',
    'my.cnf',
    'replication.sql',
    'users.sql',
  ]);
  assert.equal((await stat(join(db1, 'server-key.pem'))).mode & 0o777, 0o600);
  assert.equal((await stat(join(db1, 'server-cert.pem'))).mode & 0o777, 0o644);
  // ProxySQL's fixed frontend files are the node's CA, certificate and key.
  const p = join(root, 'proxy1/var/lib/proxysql');
  assert.equal(
    await readFile(join(p, 'proxysql-cert.pem'), 'utf8'),
    await readFile(join(dir, 'pki/nodes/proxy1/server-cert.pem'), 'utf8'),
  );
  assert.equal(
    await readFile(join(p, 'proxysql-key.pem'), 'utf8'),
    await readFile(join(dir, 'pki/nodes/proxy1/server-key.pem'), 'utf8'),
  );
  assert.equal(await readFile(join(p, 'proxysql-ca.pem'), 'utf8'), await readFile(join(dir, 'pki/ca.pem'), 'utf8'));

  const second = await apply(inv, root);
  assert.equal(second.report.changed, false);
  assert.ok(second.report.nodes.every((n: { uploaded: string[] }) => n.uploaded.length === 0));

  const grown = structuredClone(CLUSTER);
  grown.nodes[0]!.sans = ['db1.example.com'];
  await writeInventory(dir, grown);
  const third = await apply(inv, root);
  const byNode = Object.fromEntries(
    third.report.nodes.map((n: { node: string; uploaded: string[] }) => [n.node, n.uploaded.sort()]),
  );
  assert.deepEqual(byNode.db1, ['/etc/mysql/ssl/server-cert.pem', '/etc/mysql/ssl/server-key.pem']);
  assert.deepEqual(byNode.db2, []);
  assert.deepEqual(byNode.proxy1, []);
  // The replaced files are kept as timestamped backups beside the new ones.
  const backups = (await readdir(db1)).filter((n) => n.startsWith('server-cert.pem.dbtls-bak-'));
  assert.equal(backups.length, 1);
});

test('push --check reports what would change and changes nothing', async (t) => {
  const { dir, inv } = await issued(t);
  assert.equal((await dbtls(['render', '-i', inv])).code, 0);
  const root = join(dir, 'nodes');
  const r = await dbtls(['push', '-i', inv, '--local-root', root, '--check', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.ok(
    report.nodes.every(
      (n: { wouldUpload: string[]; uploaded: string[] }) => n.wouldUpload.length > 0 && n.uploaded.length === 0,
    ),
  );
  await assert.rejects(stat(root));
});

test('--files with the Tungsten patterns (hidden files too) copies exactly those files to --dest on every node', async (t) => {
  const dir = await tempDir(t);
  const inv = await localInventory(dir);
  const share = join(dir, 'share');
  await mkdir(share);
  for (const f of [
    'jmxremote.access',
    'passwords.store',
    'tungsten_keystore.jks',
    '.tungsten_hidden',
    '.jx',
    'other.txt',
    'readme',
  ])
    await writeFile(join(share, f), f);
  const root = join(dir, 'nodes');
  const r = await dbtls([
    'push',
    '-i',
    inv,
    '--local-root',
    root,
    '--files',
    join(share, '[jpt]*'),
    '--files',
    join(share, '.[jpt]*'),
    '--dest',
    '/opt/continuent/share',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  for (const node of ['db1', 'db2', 'proxy1']) {
    assert.deepEqual(
      (await readdir(join(root, node, 'opt/continuent/share'))).sort(),
      ['.jx', '.tungsten_hidden', 'jmxremote.access', 'passwords.store', 'tungsten_keystore.jks'],
      node,
    );
  }
  const bad = await dbtls([
    'push',
    '-i',
    inv,
    '--local-root',
    root,
    '--files',
    join(share, '*'),
    '--dest',
    '/opt/$(id)',
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--dest contains "\$"/);
});

test('a node that fails is reported, the others finish, exit 1; a rerun converges', async (t) => {
  const { dir, inv } = await issued(t);
  const root = join(dir, 'nodes');
  // db2's folder cannot be written by anyone: a file sits where its directory should be.
  await mkdir(join(root, 'db2', 'etc', 'mysql'), { recursive: true });
  await writeFile(join(root, 'db2', 'etc', 'mysql', 'ssl'), 'in the way');
  const r = await apply(inv, root);
  assert.equal(r.code, 1);
  assert.deepEqual(r.report.failed, ['db2']);
  assert.ok(r.report.nodes.find((n: { node: string }) => n.node === 'db1').ok);
  assert.match(r.report.nodes.find((n: { node: string }) => n.node === 'db2').error.message, /ssl/);
  await chmod(join(root, 'db2', 'etc', 'mysql', 'ssl'), 0o644);
  const { unlink } = await import('node:fs/promises');
  await unlink(join(root, 'db2', 'etc', 'mysql', 'ssl'));
  const again = await apply(inv, root);
  assert.equal(again.code, 0, again.stdout);
  assert.ok(again.report.nodes.find((n: { node: string }) => n.node === 'db2').uploaded.length > 0);
  assert.deepEqual(again.report.nodes.find((n: { node: string }) => n.node === 'db1').uploaded, []);
});

test('temporary files an interrupted run left in a destination folder are swept by the next push that writes there; a fresh one is left alone', async (t) => {
  const { dir, inv } = await issued(t);
  const root = join(dir, 'nodes');
  assert.equal((await apply(inv, root)).code, 0);
  const db1 = join(root, 'db1/etc/mysql/ssl');
  const stale = join(db1, '.server-key.pem.0a0b0c0d0e0f.dbtls-tmp');
  const fresh = join(db1, '.client-key.pem.0f0e0d0c0b0a.dbtls-tmp');
  await writeFile(stale, 'half');
  await writeFile(fresh, 'half');
  const hourAgo = new Date(Date.now() - 3600_000);
  await utimes(stale, hourAgo, hourAgo);
  // Something must change in that folder for a push to write there.
  assert.equal((await dbtls(['issue', '-i', inv, '--force', '--node', 'db1'])).code, 0);
  assert.equal((await apply(inv, root)).code, 0);
  const temps = (await readdir(db1)).filter((n) => n.endsWith('.dbtls-tmp'));
  assert.deepEqual(temps, ['.client-key.pem.0f0e0d0c0b0a.dbtls-tmp']);
});
