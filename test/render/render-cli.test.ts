// `dbtls render` as a command: which files each role gets, idempotent re-runs, --check, --node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';
import { issuedPki } from '../helpers/issued-pki.js';
import { fileScope } from '../helpers/scope.js';

const CLUSTER: TestInventory = {
  nodes: [
    { name: 'db1', host: '10.0.0.11', roles: ['mysql', 'tungsten'] },
    { name: 'db2', host: '10.0.0.12', roles: ['mariadb'] },
    { name: 'proxy1', host: '10.0.0.21', roles: ['proxysql'] },
    { name: 'tidb1', host: '10.0.0.31', roles: ['tidb'] },
  ],
  clients: ['app'],
};
// The tests that render start from their own copy of one issue (db1's Tungsten stores cost seconds).
const issued = issuedPki(fileScope(), CLUSTER);

async function listTree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1))
    .sort();
}

test('render before issue is an input error that says what to do', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, CLUSTER);
  const r = await dbtls(['render', '-i', inv]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /run dbtls issue first/);
});

test('each role gets its files; a re-run writes nothing; --check finds a hand edit and shows it', async (t) => {
  const { dir, inv } = await issued(t);
  const first = await dbtls(['render', '-i', inv, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const out = join(dir, 'pki', 'rendered');
  assert.deepEqual(await listTree(out), [
    'clients/app/client.cnf',
    'clients/app/connectorj.properties',
    'clients/app/go-dsn.md',
    'clients/app/jdbc-url.txt',
    'clients/app/mariadb-connector-j-url.txt',
    'clients/app/mysql2-ssl.js',
    'clients/app/php-mysql.php',
    'db1/client.cnf',
    'db1/my.cnf',
    'db1/tungsten.ini',
    'db1/users.sql',
    'db2/client.cnf',
    'db2/my.cnf',
    'db2/users.sql',
    'proxy1/proxysql-admin.sql',
    'proxy1/proxysql.cnf',
    'tidb1/tidb.toml',
  ]);
  // Paths in the configs are the paths on the node after the push (per-role defaults here).
  assert.match(await readFile(join(out, 'db1/my.cnf'), 'utf8'), /\/etc\/mysql\/ssl\/server-cert\.pem/);
  assert.match(
    await readFile(join(out, 'db1/tungsten.ini'), 'utf8'),
    /\/opt\/continuent\/share\/tungsten_keystore\.jks/,
  );
  assert.equal((await stat(join(out, 'db1/tungsten.ini'))).mode & 0o777, 0o600, 'it holds the store password');

  const mtime = (await stat(join(out, 'db2/my.cnf'))).mtimeMs;
  const again = await dbtls(['render', '-i', inv, '--json']);
  const report = JSON.parse(again.stdout);
  assert.equal(report.changed, false);
  assert.ok(report.files.every((f: { state: string }) => f.state === 'unchanged'));
  assert.equal((await stat(join(out, 'db2/my.cnf'))).mtimeMs, mtime);
  const ok = await dbtls(['render', '-i', inv, '--check']);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /all 17 files up to date/);

  const edited = (await readFile(join(out, 'db2/my.cnf'), 'utf8')).replace(
    /^(ssl[-_]cert\s*=\s*).*$/m,
    '$1/tmp/elsewhere.pem',
  );
  await writeFile(join(out, 'db2/my.cnf'), edited);
  const check = await dbtls(['render', '-i', inv, '--check']);
  assert.equal(check.code, 1);
  assert.match(check.stdout, /--- a\/db2\/my\.cnf/);
  assert.match(check.stdout, /^-ssl[-_]cert\s*=\s*\/tmp\/elsewhere\.pem$/m);
  assert.match(check.stdout, /^\+ssl[-_]cert\s*=\s*\/etc\/mysql\/ssl\/server-cert\.pem$/m);
  assert.match(check.stdout, /1 of 17 files differ/);
  assert.equal(await readFile(join(out, 'db2/my.cnf'), 'utf8'), edited, '--check writes nothing');
  const fix = await dbtls(['render', '-i', inv]);
  assert.match(fix.stdout, /updated db2\/my\.cnf\n1 written, 16 up to date/);
});

test('--node renders only that node; an unknown node is a usage error', async (t) => {
  const { dir, inv } = await issued(t);
  const out = join(dir, 'out');
  const r = await dbtls(['render', '-i', inv, '--node', 'tidb1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await listTree(out), ['tidb1/tidb.toml']);
  const bad = await dbtls(['render', '-i', inv, '--node', 'db9']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no node named "db9"/);
});

test('--templates naming no folder (missing, or a file) is an input error naming it, and nothing is written', async (t) => {
  const { dir, inv } = await issued(t);
  const out = join(dir, 'out');
  const missing = join(dir, 'no-such-templates');
  const r = await dbtls(['render', '-i', inv, '--out', out, '--templates', missing]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`--templates: no folder ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  const file = join(dir, 'a-file');
  await writeFile(file, 'not a folder\n');
  const f = await dbtls(['render', '-i', inv, '--out', out, '--templates', file, '--check']);
  assert.equal(f.code, 2, f.stdout + f.stderr);
  assert.match(f.stderr, /--templates: .*a-file is not a folder/);
  await assert.rejects(stat(out), { code: 'ENOENT' }, 'nothing was written');
});
