// `dbtls setup` run by root in a datadir another user owns (mysql, normally) trusts nothing that user
// could have planted there (issue 12, findings 1, 2, 7): journals, temporaries and symlinks at the
// lock's names; a datadir others can write is refused; an interrupted run rolls forward after a move.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmod,
  chown,
  lchown,
  lstat,
  mkdir,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope, once } from '../helpers/scope.js';
import { createTestUser } from '../helpers/unix-users.js';

const SSL = ['ca.pem', 'ca-key.pem', 'server-cert.pem', 'server-key.pem', 'client-cert.pem', 'client-key.pem'];
const ALL = [...SSL, 'private_key.pem', 'public_key.pem'].sort();
const scope = fileScope();
const mysqlUser = once(() => createTestUser(scope, 'dbtlsdatadir'));

/** A datadir owned by the test user (0700, as mysqld makes it), a root-only folder and a root secret beside it. */
async function layout(t: Parameters<typeof tempDir>[0]) {
  const user = await mysqlUser();
  const base = await tempDir(t);
  const datadir = join(base, 'data');
  const rootOnly = join(base, 'root-only');
  await mkdir(datadir, { mode: 0o700 });
  await chown(datadir, user.uid, user.gid);
  await mkdir(rootOnly, { mode: 0o700 });
  const secret = join(rootOnly, 'secret.key');
  await writeFile(secret, 'root secret\n', { mode: 0o600 });
  /** Something the user makes in the datadir (made here as root, then given to the user). */
  const plant = async (name: string, data: string, mode = 0o600) => {
    const p = join(datadir, name);
    await writeFile(p, data, { mode });
    await chown(p, user.uid, user.gid);
    return p;
  };
  return { user, base, datadir, rootOnly, secret, plant };
}

async function fingerprint(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name);
    const st = await lstat(p);
    out.set(
      name,
      `${st.uid}:${st.gid}:${(st.mode & 0o7777).toString(8)}:${st.isSymbolicLink() ? 'link' : await readFile(p, 'utf8')}`,
    );
  }
  return out;
}

test("a journal the datadir's owner planted is refused (exit 2, named) and nothing it names is moved", async (t) => {
  const { datadir, rootOnly, secret, plant } = await layout(t);
  const attacker = await plant('.ca.pem.0123456789ab.dbtls-tmp', 'attacker file\n', 0o644);
  const journals: unknown[] = [
    // The old format with absolute paths: a file of theirs into root's folder, root's secret into theirs.
    {
      version: 1,
      renames: [
        [attacker, join(rootOnly, 'authorized_keys')],
        [secret, join(datadir, 'stolen.key')],
      ],
    },
    // The new format, climbing out with "..".
    { version: 2, renames: [['../root-only/secret.key', 'stolen.key', 0]] },
    // Only names in the datadir, but their file, not one root wrote: wrong owner.
    { version: 2, renames: [['.ca.pem.0123456789ab.dbtls-tmp', 'ca.pem', 0]] },
  ];
  for (const body of journals) {
    await plant('.dbtls-setup.journal', JSON.stringify(body));
    const beforeData = await fingerprint(datadir);
    const beforeRoot = await fingerprint(rootOnly);
    const r = await dbtls(['setup', '--datadir', datadir]);
    assert.equal(r.code, 2, `${JSON.stringify(body)}: ${r.stderr}`);
    assert.match(r.stderr, /\.dbtls-setup\.journal/);
    assert.match(r.stderr, /not applied/);
    assert.match(r.stderr, /remove .*\.dbtls-setup\.journal/);
    assert.deepEqual(await fingerprint(datadir), beforeData, 'the datadir as it was');
    assert.deepEqual(await fingerprint(rootOnly), beforeRoot, 'the root-only folder as it was');
  }
  // A journal root wrote that is garbled: named, with what to do, not a bare JSON error.
  const j = join(datadir, '.dbtls-setup.journal');
  await writeFile(j, '{"version":2,"renames":[', { mode: 0o600 });
  await chown(j, 0, 0);
  const garbled = await dbtls(['setup', '--datadir', datadir]);
  assert.equal(garbled.code, 2, garbled.stderr);
  assert.match(garbled.stderr, new RegExp(`${j.replace(/[.]/g, '\\.')} is garbled`));
  assert.doesNotMatch(garbled.stderr, /SyntaxError|Unexpected end of JSON/);
});

test("symlinks planted at the lock's names and files with temporaries' names: setup neither follows nor removes them", async (t) => {
  const { user, datadir, secret, plant } = await layout(t);
  const before = await readFile(secret, 'utf8');
  // The old lock took <lock>.<pid>; the next PIDs are predictable: plant a few hundred.
  const { spawnSync } = await import('node:child_process');
  const next = spawnSync('true').pid!;
  for (let pid = next; pid < next + 400; pid++) {
    const p = join(datadir, `.dbtls-setup.lock.${pid}`);
    await symlink(secret, p);
    await lchown(p, user.uid, user.gid);
  }
  const theirTemp = await plant('.ca-key.pem.0123456789ab.dbtls-tmp', 'theirs\n');
  const linkTemp = join(datadir, '.server-key.pem.0123456789ab.dbtls-tmp');
  await symlink(secret, linkTemp);
  await lchown(linkTemp, user.uid, user.gid);

  const r = await dbtls(['setup', '--datadir', datadir, '--uid', user.name]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await readFile(secret, 'utf8'), before, 'the root secret is untouched');
  const st = await stat(secret);
  assert.equal(st.uid, 0);
  assert.equal(st.mode & 0o777, 0o600);
  for (const f of ALL) assert.equal((await stat(join(datadir, f))).uid, user.uid, f);
  assert.equal(await readFile(theirTemp, 'utf8'), 'theirs\n', 'their file is not ours to remove');
  assert.ok((await lstat(linkTemp)).isSymbolicLink());
  assert.ok(!(await readdir(datadir)).includes('.dbtls-setup.lock'), 'lock released');

  // A symlink at the lock's own name: refused by name, not followed.
  await rm(join(datadir, 'ca.pem'));
  await symlink(secret, join(datadir, '.dbtls-setup.lock'));
  const locked = await dbtls(['setup', '--datadir', datadir]);
  assert.equal(locked.code, 2, locked.stderr);
  assert.match(locked.stderr, /\.dbtls-setup\.lock is a symbolic link/);
  assert.equal(await readFile(secret, 'utf8'), before);
});

test('a datadir others can write, or below a folder others can write, is refused (exit 2) with the fix', async (t) => {
  const { base, datadir } = await layout(t);
  for (const mode of [0o777, 0o770, 0o1777]) {
    await chmod(datadir, mode);
    const r = await dbtls(['setup', '--datadir', datadir]);
    assert.equal(r.code, 2, `${mode.toString(8)}: ${r.stderr}`);
    assert.match(r.stderr, /bad permissions: .*data is (world|group)-writable \(mode 0?\d+/);
    assert.match(r.stderr, /chmod go-w/);
    assert.deepEqual(await readdir(datadir), [], 'nothing written');
  }
  await chmod(datadir, 0o700);
  await chmod(base, 0o777);
  const r = await dbtls(['setup', '--datadir', datadir]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /inside .* world-writable without the sticky bit/);
  await chmod(base, 0o700);
  const ok = await dbtls(['setup', '--datadir', datadir]);
  assert.equal(ok.code, 0, ok.stderr);
});

test('an interrupted setup rolls forward after its datadir was moved: every file is there', async (t) => {
  const { base, datadir } = await layout(t);
  // Interrupt setup after its journal is written: a non-empty folder at client-key.pem makes that rename
  // fail (the 6th of 8), leaving the journal and the state a kill at that moment leaves.
  await mkdir(join(datadir, 'client-key.pem', 'x'), { recursive: true });
  const failed = await dbtls(['setup', '--datadir', datadir]);
  assert.equal(failed.code, 1, failed.stderr);
  const left = await readdir(datadir);
  assert.ok(left.includes('.dbtls-setup.journal'), left.join(' '));
  assert.ok(left.includes('ca.pem') && !left.includes('private_key.pem'), left.join(' '));
  await rm(join(datadir, 'client-key.pem'), { recursive: true });
  const moved = join(base, 'moved');
  await rename(datadir, moved);
  const r = await dbtls(['setup', '--datadir', moved, '-v']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /finished the writes of an interrupted run/);
  assert.deepEqual((await readdir(moved)).sort(), ALL);
  const v = await run('openssl', ['verify', '-CAfile', 'ca.pem', 'server-cert.pem', 'client-cert.pem'], { cwd: moved });
  assert.equal(v.code, 0, v.stderr);
  for (const [cert, key] of [
    ['client-cert.pem', 'client-key.pem'],
    ['server-cert.pem', 'server-key.pem'],
  ] as const) {
    const a = await run('openssl', ['x509', '-in', cert, '-noout', '-pubkey'], { cwd: moved });
    const b = await run('openssl', ['pkey', '-in', key, '-pubout'], { cwd: moved });
    assert.equal(a.stdout, b.stdout, `${key} belongs to ${cert}`);
  }
  const pub = await run('openssl', ['pkey', '-in', 'private_key.pem', '-pubout'], { cwd: moved });
  assert.equal(pub.stdout, await readFile(join(moved, 'public_key.pem'), 'utf8'));
});

test("the server setup asks (--version, --verbose --help) sees none of dbtls's secrets", async (t) => {
  const dir = await tempDir(t);
  const datadir = join(dir, 'data');
  await mkdir(datadir, { mode: 0o700 });
  const dump = join(dir, 'env.txt');
  const fake = join(dir, 'mysqld');
  await writeFile(
    fake,
    `#!/bin/sh\nenv >> '${dump}'\nif [ "$1" = --version ]; then echo "mysqld  Ver 8.4.3 for Linux"; exit 0; fi\nprintf 'Variables\\n---\\ndatadir                         ${datadir}/\\n'\n`,
    { mode: 0o755 },
  );
  const env = {
    ...process.env,
    DBTLS_SERVER: fake,
    DBTLS_CA_PASSPHRASE: 'ca-secret-1',
    DBTLS_SSH_PASSPHRASE: 'ssh-secret-2',
    DBTLS_STOREPASS: 'store-secret-3',
    SOME_TOKEN: 'token-secret-4',
  };
  const r = await dbtls(['setup', '--no-defaults'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await readdir(datadir)).sort(), ALL);
  const seen = await readFile(dump, 'utf8');
  assert.match(seen, /^PATH=/m, 'the server was run');
  assert.doesNotMatch(seen, /secret-\d|DBTLS_/);
});
