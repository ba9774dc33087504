// The journal and the temp sweep trust only what dbtls itself wrote (issue 12, findings 1 and 9):
// a journal that is planted, loose, garbled or names paths outside its folder is refused, named, and
// nothing it names is moved; the sweep removes only dbtls temporaries owned by the euid, in every
// folder below the root, and never follows a link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, lchown, lstat, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTemp, KEY_MODE, CERT_MODE } from '../../lib/store/atomic-write.js';
import { commitBatch, recoverBatch } from '../../lib/store/batch.js';
import { isDbtlsError } from '../../lib/errors.js';
import { tempDir } from '../helpers/tmp.js';

const OTHER_UID = 4242; // no such user is needed: only the number is compared
const uid = process.geteuid!();

async function setupDirs(t: Parameters<typeof tempDir>[0]) {
  const base = await tempDir(t);
  const root = join(base, 'pki');
  const outside = join(base, 'outside');
  await mkdir(root, { mode: 0o700 });
  await mkdir(outside, { mode: 0o700 });
  await writeFile(join(outside, 'secret'), 'root secret\n', { mode: 0o600 });
  return { base, root, outside, journal: join(root, '.dbtls.journal') };
}

async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

function refusedNaming(journal: string, what: RegExp) {
  return (e: unknown) => {
    assert.ok(isDbtlsError(e), String(e));
    assert.equal(e.code, 'bad-journal');
    assert.equal(e.exitCode, 2);
    assert.ok(e.message.includes(journal), e.message);
    assert.match(e.message, what);
    assert.match(e.hint ?? '', /remove .*\.dbtls\.journal/);
    return true;
  };
}

test('a garbled journal is refused naming the file and what to do, not a bare JSON error', async (t) => {
  const { journal } = await setupDirs(t);
  for (const text of [
    '{"version":1,"renames":[[',
    'null',
    '{"version":2,"renames":"x"}',
    '{"version":2,"renames":[["a"]]}',
    '{"version":9,"renames":[]}',
  ]) {
    await writeFile(journal, text, { mode: 0o600 });
    await assert.rejects(
      recoverBatch(journal),
      refusedNaming(journal, /garbled|not a dbtls journal|unknown version/),
      text,
    );
  }
});

test('journals naming paths outside their folder, or names that are not dbtls temporaries, are refused and nothing moves', async (t) => {
  const { root, outside, journal } = await setupDirs(t);
  const temp = await writeTemp(join(root, 'ca.pem'), 'CA', { mode: CERT_MODE });
  const tempName = temp.slice(root.length + 1);
  const cases: Array<[string, unknown, RegExp]> = [
    ['absolute final (v1)', { version: 1, renames: [[temp, join(outside, 'secret')]] }, /outside its own folder/],
    [
      'absolute source (v1)',
      { version: 1, renames: [[join(outside, 'secret'), join(root, 'stolen')]] },
      /outside its own folder/,
    ],
    ['.. in final', { version: 2, renames: [[tempName, '../outside/secret', uid]] }, /outside its own folder/],
    ['.. in source', { version: 2, renames: [['../outside/secret', 'stolen', uid]] }, /outside its own folder/],
    ['absolute (v2)', { version: 2, renames: [[tempName, join(outside, 'x'), uid]] }, /outside its own folder/],
    ['NUL', { version: 2, renames: [[tempName, 'ca.pem\u0000x', uid]] }, /outside its own folder/],
    [
      'not a temporary',
      { version: 2, renames: [['server-key.pem', 'ca.pem', uid]] },
      /not a dbtls temporary of "ca.pem"/,
    ],
    ['temporary of another name', { version: 2, renames: [[tempName, 'ca-key.pem', uid]] }, /not a dbtls temporary/],
  ];
  for (const [name, body, what] of cases) {
    await writeFile(journal, JSON.stringify(body), { mode: 0o600 });
    await assert.rejects(recoverBatch(journal), refusedNaming(journal, what), name);
    assert.deepEqual(await listing(root), ['.dbtls.journal', tempName].sort(), name);
    assert.deepEqual(await listing(outside), ['secret'], name);
    assert.equal(await readFile(join(outside, 'secret'), 'utf8'), 'root secret\n', name);
  }
});

test('a journal another user owns, a loose one, a symlinked one or one with two names is refused', async (t) => {
  const { root, outside, journal } = await setupDirs(t);
  const temp = await writeTemp(join(root, 'ca.pem'), 'CA', { mode: CERT_MODE });
  const body = JSON.stringify({ version: 2, renames: [[temp.slice(root.length + 1), 'ca.pem', uid]] });

  await writeFile(journal, body, { mode: 0o600 });
  await chown(journal, OTHER_UID, OTHER_UID);
  await assert.rejects(recoverBatch(journal), refusedNaming(journal, /owned by uid 4242/));

  await chown(journal, uid, 0);
  await chmod(journal, 0o644);
  await assert.rejects(recoverBatch(journal), refusedNaming(journal, /mode 0644, not 0600/));

  await chmod(journal, 0o600);
  const { link, rename, unlink } = await import('node:fs/promises');
  await link(journal, join(outside, 'hardlink'));
  await assert.rejects(recoverBatch(journal), refusedNaming(journal, /2 hard links/));
  await unlink(join(outside, 'hardlink'));

  await rename(journal, join(outside, 'journal'));
  await symlink(join(outside, 'journal'), journal);
  await assert.rejects(recoverBatch(journal), refusedNaming(journal, /symbolic link/));
  assert.ok(!(await listing(root)).includes('ca.pem'), 'nothing renamed');
});

test('a temporary that is a symlink, or owned by someone else than the journal says, is refused before anything moves', async (t) => {
  const { root, outside, journal } = await setupDirs(t);
  const good = await writeTemp(join(root, 'a.pem'), 'A', { mode: CERT_MODE });
  const bad = join(root, '.b.pem.0123456789ab.dbtls-tmp');
  await symlink(join(outside, 'secret'), bad);
  const rel = (p: string) => p.slice(root.length + 1);
  await writeFile(
    journal,
    JSON.stringify({
      version: 2,
      renames: [
        [rel(good), 'a.pem', uid],
        [rel(bad), 'b.pem', uid],
      ],
    }),
    { mode: 0o600 },
  );
  await assert.rejects(recoverBatch(journal), refusedNaming(journal, /not a regular file/));
  assert.ok(!(await listing(root)).includes('a.pem'), 'the good rename did not run either');

  const { unlink } = await import('node:fs/promises');
  await unlink(bad);
  await writeFile(bad, 'planted', { mode: 0o644 });
  await chown(bad, OTHER_UID, OTHER_UID);
  await assert.rejects(recoverBatch(journal), refusedNaming(journal, /owned by uid 4242, not by uid 0/));
  assert.deepEqual(await listing(outside), ['secret']);
  assert.equal(await readFile(join(outside, 'secret'), 'utf8'), 'root secret\n');
});

test('journal paths are relative: a folder moved after an interrupted batch is rolled forward where it is now', async (t) => {
  const { base, root } = await setupDirs(t);
  await mkdir(join(root, 'nodes', 'db1'), { recursive: true, mode: 0o700 });
  // Interrupt the batch after its journal: a final name that is a non-empty folder makes a rename fail.
  await mkdir(join(root, 'nodes', 'db1', 'server-key.pem', 'x'), { recursive: true });
  await assert.rejects(
    commitBatch(
      [
        { path: join(root, 'ca.pem'), data: 'CA', mode: CERT_MODE },
        { path: join(root, 'nodes', 'db1', 'server-key.pem'), data: 'KEY', mode: KEY_MODE },
        { path: join(root, 'nodes', 'db1', 'server-cert.pem'), data: 'CERT', mode: CERT_MODE },
      ],
      join(root, '.dbtls.journal'),
    ),
  );
  const { rename, rm } = await import('node:fs/promises');
  await rm(join(root, 'nodes', 'db1', 'server-key.pem'), { recursive: true });
  const moved = join(base, 'moved');
  await rename(root, moved);
  assert.equal(await recoverBatch(join(moved, '.dbtls.journal')), 'rolled-forward');
  assert.equal(await readFile(join(moved, 'ca.pem'), 'utf8'), 'CA');
  assert.equal(await readFile(join(moved, 'nodes', 'db1', 'server-key.pem'), 'utf8'), 'KEY');
  assert.equal(await readFile(join(moved, 'nodes', 'db1', 'server-cert.pem'), 'utf8'), 'CERT');
  assert.deepEqual(await listing(join(moved, 'nodes', 'db1')), ['server-cert.pem', 'server-key.pem']);
});

test('the sweep covers every folder below the root (tungsten too), removes only our own regular temporaries, follows no link', async (t) => {
  const { root, outside, journal } = await setupDirs(t);
  const dirs = [
    root,
    join(root, 'tungsten'),
    join(root, 'nodes', 'db1'),
    join(root, 'nodes', 'db1', 'tungsten'),
    join(root, 'clients', 'app'),
  ];
  for (const d of dirs) await mkdir(d, { recursive: true, mode: 0o700 });
  for (const d of dirs) await writeTemp(join(d, 'keystore.jks'), 'half', { mode: KEY_MODE });
  // Another user's file with a temporary's name, a symlink with one, and a linked folder holding one.
  const theirs = join(root, 'nodes', 'db1', '.x.pem.0123456789ab.dbtls-tmp');
  await writeFile(theirs, 'theirs');
  await chown(theirs, OTHER_UID, OTHER_UID);
  const linkTemp = join(root, '.y.pem.0123456789ab.dbtls-tmp');
  await symlink(join(outside, 'secret'), linkTemp);
  const outsideTemp = join(outside, '.z.pem.0123456789ab.dbtls-tmp');
  await writeFile(outsideTemp, 'outside');
  await symlink(outside, join(root, 'nodes', 'linked'));
  await lchown(join(root, 'nodes', 'linked'), uid, 0);

  assert.equal(await recoverBatch(journal), 'clean');
  assert.deepEqual(await listing(join(root, 'tungsten')), []);
  assert.deepEqual(await listing(join(root, 'nodes', 'db1', 'tungsten')), []);
  assert.deepEqual(await listing(join(root, 'clients', 'app')), []);
  assert.deepEqual(await listing(join(root, 'nodes', 'db1')), ['.x.pem.0123456789ab.dbtls-tmp', 'tungsten']);
  assert.ok((await lstat(linkTemp)).isSymbolicLink(), 'a symlink is not ours to remove');
  assert.equal(await readFile(outsideTemp, 'utf8'), 'outside', 'nothing through a linked folder');
  assert.equal((await stat(theirs)).uid, OTHER_UID);
  assert.equal(await readFile(join(outside, 'secret'), 'utf8'), 'root secret\n');
});
