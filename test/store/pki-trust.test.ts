// The PKI directory through the real CLI (issue 12, findings 1, 7 and 9): `dbtls issue` refuses a
// journal it did not write, a PKI folder another user owns or can write, and a file where a folder
// should be (exit 2, named); it sweeps temporaries of killed runs from every folder below the root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';
import { fileScope, once } from '../helpers/scope.js';
import { createTestUser } from '../helpers/unix-users.js';

const scope = fileScope();
const otherUser = once(() => createTestUser(scope, 'dbtlspkiowner'));

async function cluster(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, { nodes: [{ name: 'db1', host: '127.0.0.1', roles: ['mariadb'] }] });
  const outside = join(dir, 'outside');
  await mkdir(outside, { mode: 0o700 });
  await writeFile(join(outside, 'secret'), 'root secret\n', { mode: 0o600 });
  return { dir, inv, pki: join(dir, 'pki'), outside };
}

async function listAll(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

test('a planted or garbled PKI journal is refused by `dbtls issue` (exit 2, named) and nothing moves', async (t) => {
  const user = await otherUser();
  const { inv, pki, outside } = await cluster(t);
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const journal = join(pki, '.dbtls.journal');
  const cases: Array<[string, number, RegExp]> = [
    [
      JSON.stringify({ version: 1, renames: [[join(outside, 'secret'), join(pki, 'stolen')]] }),
      0,
      /outside its own folder/,
    ],
    [JSON.stringify({ version: 2, renames: [['../outside/secret', 'ca.pem', 0]] }), 0, /outside its own folder/],
    [
      JSON.stringify({ version: 2, renames: [['.ca.pem.0123456789ab.dbtls-tmp', 'ca.pem', 0]] }),
      user.uid,
      /owned by uid \d+, not by uid 0/,
    ],
    ['{"version":2,', 0, /is garbled/],
  ];
  for (const [body, owner, what] of cases) {
    await writeFile(journal, body, { mode: 0o600 });
    await chown(journal, owner, owner);
    const before = await listAll(pki);
    const secret = await readFile(join(outside, 'secret'), 'utf8');
    const r = await dbtls(['issue', '-i', inv]);
    assert.equal(r.code, 2, `${body}: ${r.stderr}`);
    assert.ok(r.stderr.includes(journal), r.stderr);
    assert.match(r.stderr, what);
    assert.match(r.stderr, /remove .*\.dbtls\.journal/);
    assert.doesNotMatch(r.stderr, /SyntaxError|JSON at position|Unexpected end/);
    assert.deepEqual(await listAll(pki), before);
    assert.deepEqual(await readdir(outside), ['secret']);
    assert.equal(await readFile(join(outside, 'secret'), 'utf8'), secret);
  }
});

test('a PKI folder another user can write, or owns, is refused (exit 2) with the chmod/chown that fixes it', async (t) => {
  const user = await otherUser();
  const { dir, inv, pki } = await cluster(t);
  await mkdir(pki, { mode: 0o700 });
  await chmod(pki, 0o777);
  let r = await dbtls(['issue', '-i', inv]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /bad permissions: .*pki is world-writable \(mode 0777/);
  assert.match(r.stderr, /chmod go-w/);
  assert.deepEqual(await readdir(pki), [], 'nothing written');

  await chmod(pki, 0o700);
  await chown(pki, user.uid, user.gid);
  r = await dbtls(['issue', '-i', inv]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /pki is owned by uid \d+, not by root/);
  assert.match(r.stderr, /chown 0/);
  assert.deepEqual(await readdir(pki), []);

  // An ancestor others can write (no sticky bit): refused too.
  await chown(pki, 0, 0);
  await chmod(dir, 0o777);
  r = await dbtls(['issue', '-i', inv]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /world-writable without the sticky bit/);
  await chmod(dir, 0o700);
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
});

test('a file where the PKI folder, or a folder below it, should be: exit 2 naming the path', async (t) => {
  const { inv, pki } = await cluster(t);
  await writeFile(pki, 'not a folder\n');
  let r = await dbtls(['issue', '-i', inv]);
  assert.equal(r.code, 2, r.stderr);
  // (the command may refuse it before the store is reached; either way the path is named)
  assert.ok(r.stderr.includes(`${pki} should be a folder`) || r.stderr.includes(`${pki} is not a directory`), r.stderr);
  assert.doesNotMatch(r.stderr, /ENOTDIR|EEXIST/);
  await rm(pki);
  await mkdir(pki, { mode: 0o700 });
  await writeFile(join(pki, 'nodes'), 'x');
  r = await dbtls(['issue', '-i', inv]);
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(`${join(pki, 'nodes')} should be a folder`), r.stderr);
  assert.doesNotMatch(r.stderr, /ENOTDIR|EEXIST/);
});

test('temporaries of killed runs are swept from pki/tungsten and pki/nodes/<n>/tungsten too', async (t) => {
  const { inv, pki } = await cluster(t);
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const temps = [
    join(pki, 'tungsten', '.truststore.ts.0123456789ab.dbtls-tmp'),
    join(pki, 'nodes', 'db1', 'tungsten', '.tungsten_keystore.jks.0123456789ab.dbtls-tmp'),
    join(pki, 'nodes', 'db1', '.server-key.pem.0123456789ab.dbtls-tmp'),
  ];
  for (const p of temps) {
    await mkdir(join(p, '..'), { recursive: true, mode: 0o700 });
    await writeFile(p, 'half', { mode: 0o600 });
  }
  const r = await dbtls(['issue', '-i', inv]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    (await listAll(pki)).filter((n) => n.includes('dbtls-tmp')),
    [],
  );
});

test('a symlinked folder inside the PKI directory is refused (exit 2), nothing written through it', async (t) => {
  const { inv, pki, outside } = await cluster(t);
  await mkdir(pki, { mode: 0o700 });
  const { symlink } = await import('node:fs/promises');
  await symlink(outside, join(pki, 'nodes'));
  const r = await dbtls(['issue', '-i', inv]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /pki\/nodes is a symbolic link/);
  assert.deepEqual(await readdir(outside), ['secret'], 'nothing written through the link');
});
