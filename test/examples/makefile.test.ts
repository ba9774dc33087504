// examples/Makefile, driven by the real GNU make in a copy beside a small inventory, as a DBA uses
// it: certificates and configs are file targets rebuilt only when the inventory changed, push is
// phony, `make -n` runs nothing, and the documented in-repo command works as written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, lstat, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type RunResult } from '../helpers/run.js';
import { cliPath, repoRoot } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

const MAKEFILE = join(repoRoot, 'examples/Makefile');
const EXAMPLE_INVENTORY = join(repoRoot, 'examples/make-example.yml');
/** Every make run is bounded; the slowest (issuing the nine-node example with its Java stores) takes seconds. */
const MAKE_TIMEOUT_MS = 120_000;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** The DBTLS value: the compiled CLI run by this node, as one shell word each. */
const DBTLS = `${quote(process.execPath)} ${quote(cliPath)}`;

async function make(cwd: string, args: string[]): Promise<RunResult> {
  const r = await run('make', ['--no-print-directory', ...args], { cwd, timeoutMs: MAKE_TIMEOUT_MS });
  assert.equal(r.signal, null, `make ${args.join(' ')} was killed (timeout?)\n${r.stdout}\n${r.stderr}`);
  return r;
}

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Every file and folder under DIR (DIR itself included) → its mtime in nanoseconds. */
async function mtimes(dir: string): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  const walk = async (path: string): Promise<void> => {
    const s = await lstat(path, { bigint: true });
    out.set(path, s.mtimeNs);
    if (s.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(dir);
  return out;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

test('make certs/configs/push/rotate/check on a copy of examples/Makefile beside an inventory', async (t) => {
  const dir = await tempDir(t, 'dbtls-make-');
  await copyFile(MAKEFILE, join(dir, 'Makefile'));
  // As a DBA would: the Makefile's default INVENTORY is cluster.yml.
  const inventory = join(dir, 'cluster.yml');
  await copyFile(EXAMPLE_INVENTORY, inventory);
  const pki = join(dir, 'pki/make-demo'); // no pki: key, so pki/<cluster> next to the inventory
  const manifest = join(pki, 'manifest.json');
  const localRoot = join(dir, 'out/nodes'); // --local-root's default, relative to where make runs
  const m = (...args: string[]) => make(dir, [`DBTLS=${DBTLS}`, ...args]);

  await t.test('help is the default target and names the PKI directory it found', async () => {
    const r = ok(await m(), 'make');
    assert.match(r.stdout, /^make certs /m);
    assert.match(r.stdout, /PKI=pki\/make-demo /);
    assert.equal(await exists(join(dir, 'pki')), false);
  });

  await t.test('make -n certs prints dbtls issue and runs nothing', async () => {
    const r = ok(await m('-n', 'certs'), 'make -n certs');
    assert.match(r.stdout, /main\.js' issue -i cluster\.yml/);
    assert.equal(await exists(join(dir, 'pki')), false, 'make -n created the PKI directory');
  });

  await t.test('make certs issues the certificates', async () => {
    const r = ok(await m('certs'), 'make certs');
    assert.match(r.stdout, /main\.js' issue -i cluster\.yml/);
    assert.match(r.stdout, /5 issued/);
    for (const f of ['ca.pem', 'nodes/db1/server-cert.pem', 'nodes/db2/server-key.pem', 'clients/app/client-cert.pem'])
      assert.ok(await exists(join(pki, f)), f);
  });

  await t.test('a second make certs runs nothing and changes nothing', async () => {
    const before = await mtimes(pki);
    const r = ok(await m('certs'), 'make certs');
    assert.match(r.stdout, /Nothing to be done for 'certs'/);
    assert.doesNotMatch(r.stdout, / issue /);
    assert.deepEqual(await mtimes(pki), before);
  });

  await t.test('a newer inventory runs dbtls issue again; then make is content again', async () => {
    // Newer than manifest.json by more than a second (filesystems with 1-second mtimes), but not
    // in the future: the recipe's `touch` stamps manifest.json with the current time, and an
    // inventory from the future would stay newer, so every later make would issue again.
    const newer = Number((await stat(manifest, { bigint: true })).mtimeNs / 1_000_000n) + 1100;
    if (newer > Date.now()) await sleep(newer - Date.now());
    await utimes(inventory, newer / 1000, newer / 1000);
    const r = ok(await m('certs'), 'make certs');
    assert.match(r.stdout, /main\.js' issue -i cluster\.yml/);
    // Nothing in the inventory changed, so dbtls wrote nothing: only the recipe's touch tells make.
    assert.match(r.stdout, /nothing to do: everything is up to date/);
    assert.match(r.stdout, /^touch pki\/make-demo\/manifest\.json$/m);
    assert.ok((await stat(manifest)).mtimeMs >= newer, 'manifest.json is not newer than the inventory');
    const again = ok(await m('certs'), 'make certs');
    assert.match(again.stdout, /Nothing to be done for 'certs'/);
  });

  await t.test('make -n push prints the dbtls commands and runs none of them', async () => {
    const before = await mtimes(pki);
    const r = ok(await m('-n', 'push'), 'make -n push');
    assert.match(r.stdout, /main\.js' render -i cluster\.yml/);
    assert.match(r.stdout, /main\.js' push -i cluster\.yml --reload changed/);
    assert.doesNotMatch(r.stdout, / issue /, 'the certificates are up to date');
    assert.equal(await exists(join(dir, 'out')), false, 'make -n delivered files');
    assert.equal(await exists(join(pki, 'rendered')), false, 'make -n rendered');
    assert.deepEqual(await mtimes(pki), before);
  });

  await t.test('make configs renders; a second make configs runs nothing', async () => {
    const r = ok(await m('configs'), 'make configs');
    assert.match(r.stdout, /main\.js' render -i cluster\.yml/);
    assert.ok(await exists(join(pki, 'rendered/db1/my.cnf')));
    assert.ok(await exists(join(pki, 'rendered/.make-stamp')));
    const before = await mtimes(pki);
    const again = ok(await m('configs'), 'make configs');
    assert.match(again.stdout, /Nothing to be done for 'configs'/);
    assert.deepEqual(await mtimes(pki), before);
  });

  await t.test('make check exits 0', async () => {
    const r = ok(await m('check'), 'make check');
    assert.match(r.stdout, /main\.js' check -i cluster\.yml --within 30d/);
    assert.match(r.stdout, /all 6 ok for at least 30d/);
  });

  await t.test('make push delivers under the local root, and runs again every time', async () => {
    const r = ok(await m('push'), 'make push');
    assert.doesNotMatch(r.stdout, / (issue|render) -i /, 'certificates and configs are up to date');
    assert.match(r.stdout, /2 nodes ok, 16 files uploaded/);
    for (const node of ['db1', 'db2']) {
      const delivered = join(localRoot, node, 'etc/mysql/ssl');
      assert.deepEqual(
        await readFile(join(delivered, 'server-cert.pem')),
        await readFile(join(pki, `nodes/${node}/server-cert.pem`)),
        node,
      );
      assert.deepEqual(
        await readFile(join(delivered, 'dbtls/my.cnf')),
        await readFile(join(pki, `rendered/${node}/my.cnf`)),
        node,
      );
    }
    // Phony: make does not decide for the nodes; dbtls compares and sends nothing.
    const again = ok(await m('push'), 'make push');
    assert.match(again.stdout, /main\.js' push -i cluster\.yml/);
    assert.match(again.stdout, /2 nodes ok, 0 files uploaded/);
  });

  await t.test('make rotate WITHIN=1d finds nothing due and changes nothing', async () => {
    const before = await mtimes(pki);
    const r = ok(await m('rotate', 'WITHIN=1d'), 'make rotate');
    assert.match(r.stdout, /main\.js' rotate leaf -i cluster\.yml --within 1d --yes/);
    assert.match(r.stdout, /nothing due within 1d/);
    assert.deepEqual(await mtimes(pki), before);
  });
});

test('the documented in-repo command: make -C examples INVENTORY=../inventories/example.yml', async (t) => {
  // The repository's layout in a temporary folder: examples/, inventories/ (pki: ../out/pki) and dist/.
  const root = await tempDir(t, 'dbtls-make-repo-');
  await mkdir(join(root, 'examples'));
  await mkdir(join(root, 'inventories'));
  await copyFile(MAKEFILE, join(root, 'examples/Makefile'));
  await copyFile(join(repoRoot, 'inventories/example.yml'), join(root, 'inventories/example.yml'));
  await symlink(join(repoRoot, 'dist'), join(root, 'dist'));
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  const m = async (target: string) => {
    const r = await run(
      'make',
      [
        '--no-print-directory',
        '-C',
        'examples',
        'INVENTORY=../inventories/example.yml',
        'DBTLS=node ../dist/cli/main.js',
        target,
      ],
      { cwd: root, env, timeoutMs: MAKE_TIMEOUT_MS },
    );
    assert.equal(r.signal, null, `make ${target} was killed (timeout?)`);
    return ok(r, `make ${target}`);
  };
  const first = await m('certs');
  assert.match(first.stdout, /node \.\.\/dist\/cli\/main\.js issue -i \.\.\/inventories\/example\.yml/);
  assert.ok(
    await exists(join(root, 'out/pki/nodes/db1/server-cert.pem')),
    "the PKI is where the inventory's pki: key says",
  );
  assert.match((await m('certs')).stdout, /Nothing to be done for 'certs'/);
  const push = await m('push');
  assert.match(push.stdout, /8 nodes ok/);
  // --local-root defaults to out/nodes relative to the folder make runs in: examples/.
  assert.ok(await exists(join(root, 'examples/out/nodes/db1/etc/mysql/ssl/server-cert.pem')));
});

test('a PKI directory make cannot find, or gets wrong, stops make with a message', async (t) => {
  const dir = await tempDir(t, 'dbtls-make-pki-');
  await copyFile(MAKEFILE, join(dir, 'Makefile'));
  const m = (...args: string[]) => make(dir, [`DBTLS=${DBTLS}`, ...args]);

  const none = await m('certs');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no inventory cluster\.yml here: set INVENTORY=FILE/);

  // An Ansible inventory has neither key: PKI must be given.
  await writeFile(join(dir, 'hosts.ini'), '[mariadb]\ndb1 ansible_host=127.0.0.1\n');
  const ini = await m('certs', 'INVENTORY=hosts.ini');
  assert.equal(ini.code, 2);
  assert.match(ini.stderr, /found neither pki: nor cluster: in hosts\.ini: set PKI=DIR/);

  // A quoted pki: with a comment is read as dbtls reads it…
  await writeFile(
    join(dir, 'c.yml'),
    'cluster: c\npki: "./keys/c"   # beside this file\nnodes:\n  - { name: db1, host: 127.0.0.1, roles: [mariadb], transport: local }\n',
  );
  assert.match(ok(await m('-n', 'certs', 'INVENTORY=c.yml'), 'make -n').stdout, /^touch keys\/c\/manifest\.json$/m);
  // …and a PKI that is not where dbtls writes is caught after the issue, not touched into being.
  const wrong = await m('certs', 'INVENTORY=c.yml', 'PKI=elsewhere');
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /dbtls issue did not write elsewhere\/manifest\.json: set PKI/);
  assert.ok(await exists(join(dir, 'keys/c/manifest.json')));
  assert.equal(await exists(join(dir, 'elsewhere')), false);
});
