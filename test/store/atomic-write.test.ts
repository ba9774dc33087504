import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeTemp, KEY_MODE, CERT_MODE, isTempName } from '../../lib/store/atomic-write.js';
import { commitBatch, recoverBatch } from '../../lib/store/batch.js';
import { acquireLock } from '../../lib/store/lock.js';
import { isDbtlsError } from '../../lib/errors.js';
import { tempDir } from '../helpers/tmp.js';

test('a temporary file already has its final mode before any byte is written, even with umask 0', async (t) => {
  const dir = await tempDir(t);
  const old = process.umask(0);
  try {
    const temp = await writeTemp(join(dir, 'key.pem'), '', { mode: KEY_MODE });
    assert.equal((await stat(temp)).mode & 0o777, 0o600);
    assert.ok(isTempName(temp.slice(dir.length + 1)));
  } finally {
    process.umask(old);
  }
});

test('modes are exact whatever the umask: keys 0600, certificates 0644', async (t) => {
  const dir = await tempDir(t);
  const old = process.umask(0o077);
  try {
    await writeFileAtomic(join(dir, 'a-key.pem'), 'k', { mode: KEY_MODE });
    await writeFileAtomic(join(dir, 'a-cert.pem'), 'c', { mode: CERT_MODE });
  } finally {
    process.umask(old);
  }
  assert.equal((await stat(join(dir, 'a-key.pem'))).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, 'a-cert.pem'))).mode & 0o777, 0o644);
});

test('replacing a file swaps it whole (a new inode) and leaves no temporary behind', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ca.pem');
  await writeFile(file, 'old');
  const before = await stat(file);
  await writeFileAtomic(file, 'new', { mode: CERT_MODE });
  assert.equal(await readFile(file, 'utf8'), 'new');
  assert.notEqual((await stat(file)).ino, before.ino);
  assert.deepEqual(await readdir(dir), ['ca.pem']);
});

test('a failed write leaves the old file and no temporary', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ca.pem');
  await writeFile(file, 'old');
  // A uid the kernel refuses makes fchown fail half-way through the write.
  await assert.rejects(writeFileAtomic(file, 'new', { mode: CERT_MODE, owner: { uid: -2, gid: -2 } }));
  assert.equal(await readFile(file, 'utf8'), 'old');
  assert.deepEqual(await readdir(dir), ['ca.pem']);
});

test('a batch writes every file and removes its journal', async (t) => {
  const dir = await tempDir(t);
  await commitBatch(
    [
      { path: join(dir, 'a'), data: 'A', mode: CERT_MODE },
      { path: join(dir, 'b'), data: 'B', mode: KEY_MODE },
    ],
    join(dir, '.journal'),
  );
  assert.deepEqual((await readdir(dir)).sort(), ['a', 'b']);
  assert.equal((await stat(join(dir, 'b'))).mode & 0o777, 0o600);
});

test('a batch interrupted after its journal is rolled forward by the next run', async (t) => {
  const dir = await tempDir(t);
  // The state a crash leaves between two renames: "a" renamed, "b" still under its temporary name.
  const tempA = await writeTemp(join(dir, 'a'), 'A', { mode: KEY_MODE });
  const tempB = await writeTemp(join(dir, 'b'), 'B', { mode: KEY_MODE });
  await rename(tempA, join(dir, 'a'));
  const uid = process.geteuid!();
  const rel = (p: string) => p.slice(dir.length + 1);
  await writeFile(
    join(dir, '.journal'),
    JSON.stringify({
      version: 2,
      renames: [
        [rel(tempA), 'a', uid],
        [rel(tempB), 'b', uid],
      ],
    }),
    { mode: 0o600 },
  );
  assert.equal(await recoverBatch(join(dir, '.journal')), 'rolled-forward');
  assert.deepEqual((await readdir(dir)).sort(), ['a', 'b']);
  assert.equal(await readFile(join(dir, 'b'), 'utf8'), 'B');
  assert.equal(await recoverBatch(join(dir, '.journal')), 'clean');
});

test('temporaries of a run killed before its journal are removed, final files untouched', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'ca.pem'), 'keep');
  await writeTemp(join(dir, 'server-key.pem'), 'half', { mode: KEY_MODE });
  assert.equal(await recoverBatch(join(dir, '.journal')), 'clean');
  assert.deepEqual(await readdir(dir), ['ca.pem']);
});

test('the lock admits one run; a lock left by a dead process is taken over', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, '.lock');
  const lock = await acquireLock(path);
  await assert.rejects(acquireLock(path), (e: unknown) => isDbtlsError(e) && e.code === 'locked' && e.exitCode === 1);
  await lock.release();
  // PID 2^22+1 is above Linux's pid_max limit, so no process can hold it.
  const { hostname } = await import('node:os');
  await writeFile(path, `${4194305} ${hostname()}\n`);
  const taken = await acquireLock(path);
  assert.match(await readFile(path, 'utf8'), new RegExp(`^${process.pid} `));
  await taken.release();
});
