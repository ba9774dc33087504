// Every option that names a file to read — the inventory, --ca-cert/--ca-key, passphrase and
// password files, --answers, --cert/--key/--chain/--ca, push --files — refuses a missing file, a
// directory or a device before any work: exit 2, one line naming the option and the file, nothing
// written. A secret may still come through a pipe (process substitution, /dev/stdin).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run, type RunResult } from '../helpers/run.js';
import { cliPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/scope.js';
import { writeInventory } from '../helpers/inventory.js';

const scope = fileScope();
const dir = await tempDir(scope, 'dbtls-input-files-');
const inv = await writeInventory(dir, { nodes: [{ name: 'db1', host: 'db1.example.com' }] });
const missing = join(dir, 'missing.pem');
const notDir = join(inv, 'below-a-file.pem'); // ENOTDIR
const aDir = join(dir, 'a-dir');
await mkdir(aDir);
const out = join(dir, 'out.p12');

/** Exit 2, one line "dbtls: FLAG PATH: WHAT" (and at most a hint), no stack, no raw errno text. */
function assertRefused(r: RunResult, flag: string, path: string, what: RegExp, label: string): void {
  assert.equal(r.code, 2, `${label}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.ok(lines.length <= 2, `${label}: ${r.stderr}`);
  const first = lines[0]!;
  assert.ok(first.startsWith(`dbtls: ${flag} ${path}: `), `${label}: ${first}`);
  assert.match(first.slice(`dbtls: ${flag} ${path}: `.length), what, label);
  assert.doesNotMatch(r.stderr, /ENOENT|ENOTDIR|EISDIR|errno|\bat [\w.]+ \(/, label);
}

const NO_FILE = /^no such file/;

test('a missing, misplaced or special file named by an option: exit 2 naming the option and the file', async () => {
  const cases: Array<[label: string, args: string[], flag: string, path: string, what: RegExp]> = [
    ['inventory missing', ['issue', '-i', missing], '--inventory', missing, NO_FILE],
    [
      'inventory under a file',
      ['check', '-i', notDir],
      '--inventory',
      notDir,
      /^no such file \(a part of the path is not a directory\)$/,
    ],
    ['inventory a directory', ['render', '-i', aDir], '--inventory', aDir, /^is a directory, not a file$/],
    ['issue --ca-cert', ['issue', '-i', inv, '--ca-cert', missing, '--ca-key', inv], '--ca-cert', missing, NO_FILE],
    ['issue --ca-key', ['issue', '-i', inv, '--ca-cert', inv, '--ca-key', missing], '--ca-key', missing, NO_FILE],
    [
      'issue --ca-passphrase-file',
      ['issue', '-i', inv, '--ca-passphrase-file', missing],
      '--ca-passphrase-file',
      missing,
      NO_FILE,
    ],
    [
      'issue --storepass-file device',
      ['issue', '-i', inv, '--storepass-file', '/dev/zero'],
      '--storepass-file',
      '/dev/zero',
      /^is a device, not a regular file$/,
    ],
    ['apply --storepass-file', ['apply', '-i', inv, '--storepass-file', missing], '--storepass-file', missing, NO_FILE],
    [
      'push --ssh-passphrase-file',
      ['push', '-i', inv, '--ssh-passphrase-file', missing],
      '--ssh-passphrase-file',
      missing,
      NO_FILE,
    ],
    ['push --files', ['push', '-i', inv, '--files', missing, '--dest', '/opt/x'], '--files', missing, NO_FILE],
    [
      'push --files a directory',
      ['push', '-i', inv, '--files', aDir, '--dest', '/opt/x'],
      '--files',
      aDir,
      /^is a directory, not a file$/,
    ],
    [
      'rotate leaf --ca-passphrase-file',
      ['rotate', 'leaf', '-i', inv, '--ca-passphrase-file', missing, '--check'],
      '--ca-passphrase-file',
      missing,
      NO_FILE,
    ],
    ['probe --ca', ['probe', '127.0.0.1:9', '--ca', missing], '--ca', missing, NO_FILE],
    [
      'inspect --ca device',
      ['inspect', inv, '--ca', '/dev/zero'],
      '--ca',
      '/dev/zero',
      /^is a device, not a regular file$/,
    ],
    ['inspect --key', ['inspect', inv, '--key', missing], '--key', missing, NO_FILE],
    [
      'keystore create --cert',
      ['keystore', 'create', '--cert', missing, '--key', inv, '--out', out],
      '--cert',
      missing,
      NO_FILE,
    ],
    [
      'keystore create --chain',
      ['keystore', 'create', '--cert', inv, '--key', inv, '--chain', inv, '--chain', missing, '--out', out],
      '--chain',
      missing,
      NO_FILE,
    ],
    ['keystore trust --ca', ['keystore', 'trust', '--ca', missing, '--out', out], '--ca', missing, NO_FILE],
    ['init --answers', ['init', '--answers', missing], '--answers', missing, NO_FILE],
  ];
  for (const [label, args, flag, path, what] of cases) {
    assertRefused(await dbtls(args, { env: { ...process.env, DBTLS_STOREPASS: '' } }), flag, path, what, label);
  }
  // Nothing was written: no PKI folder, no store.
  assert.deepEqual((await readdir(dir)).sort(), ['a-dir', 'inventory.yml']);
});

test('push --files: a pattern that matches nothing is a usage error, not a silent no-op', async () => {
  const pattern = join(aDir, '[jpt]*');
  const r = await dbtls(['push', '-i', inv, '--files', pattern, '--dest', '/opt/x']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n')[0], `dbtls: --files ${pattern}: matches no file`);
});

test('--json: the refusal is a JSON error with the option and the file', async () => {
  const r = await dbtls(['issue', '-i', missing, '--json']);
  assert.equal(r.code, 2);
  const j = JSON.parse(r.stdout) as {
    ok: boolean;
    error: { code: string; field: string; file: string; message: string };
  };
  assert.equal(j.ok, false);
  assert.deepEqual([j.error.code, j.error.field, j.error.file], ['input-file', '--inventory', missing]);
});

/** `dbtls ARGS… FLAG <(printf SECRET)`: the secret through a pipe, as a shell's process substitution gives it. */
function withPipedSecret(args: string[], flag: string, secret: string): Promise<RunResult> {
  // printf is a bash builtin: the secret is in no process's argv.
  return run(
    'bash',
    ['-c', 'exec "$0" "$1" "${@:3}" "$2" <(printf "%s\\n" "$SECRET")', process.execPath, cliPath, flag, ...args],
    {
      env: { ...process.env, SECRET: secret },
    },
  );
}

test('a secret through a pipe still works (process substitution): the CA key is encrypted with it', async () => {
  const work = await tempDir(scope, 'dbtls-input-pipe-');
  const inv2 = await writeInventory(work, { nodes: [{ name: 'db1', host: 'db1.example.com' }] });
  const r = await withPipedSecret(['issue', '-i', inv2], '--ca-passphrase-file', 'pipe-passphrase-1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(await readFile(join(work, 'pki', 'ca-key.pem'), 'utf8'), /ENCRYPTED PRIVATE KEY/);
  // The wrong passphrase through the same kind of pipe is refused: the one given was used.
  const wrong = await withPipedSecret(['issue', '-i', inv2, '--force'], '--ca-passphrase-file', 'another-one');
  assert.equal(wrong.code, 2, wrong.stderr);
  const right = await withPipedSecret(['issue', '-i', inv2, '--force'], '--ca-passphrase-file', 'pipe-passphrase-1');
  assert.equal(right.code, 0, right.stderr);
});

test('a secret pipe that never ends (<(yes)) is cut after 64 KiB: exit 2, not memory without bound', async () => {
  const work = await tempDir(scope, 'dbtls-input-pipe-');
  const inv2 = await writeInventory(work, { nodes: [{ name: 'db1', host: 'db1.example.com' }] });
  const r = await run(
    'bash',
    ['-c', 'exec "$0" "$1" issue -i "$2" --storepass-file <(yes)', process.execPath, cliPath, inv2],
    { timeoutMs: 30_000 },
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^dbtls: --storepass-file \/dev\/fd\/\d+: holds more than the 65536 bytes dbtls reads\n/);
});

test("a file where the inventory's PKI folder (or one of its parents) should be: exit 2 naming the inventory and pki, for every command", async () => {
  const work = await tempDir(scope, 'dbtls-input-pki-');
  await writeFile(join(work, 'pki'), 'not a folder\n');
  const inv2 = await writeInventory(work, { nodes: [{ name: 'db1', host: 'db1.example.com' }] });
  for (const args of [
    ['issue', '-i', inv2],
    ['check', '-i', inv2],
    ['push', '-i', inv2],
    ['apply', '-i', inv2],
    ['render', '-i', inv2],
  ]) {
    const r = await dbtls(args);
    assert.equal(r.code, 2, `${args[0]}: exit ${r.code}\n${r.stderr}`);
    assert.equal(
      r.stderr.split('\n')[0],
      `dbtls: ${inv2}: pki: the PKI folder ${join(work, 'pki')} is not a directory`,
      args[0],
    );
  }
  const below = await writeInventory(work, { nodes: [{ name: 'db1', host: 'db1.example.com' }] }, 'below.yml');
  await writeFile(below, (await readFile(below, 'utf8')).replace('pki: ./pki', 'pki: ./pki/inner'));
  const r = await dbtls(['issue', '-i', below]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /pki: the PKI folder \S+\/pki\/inner cannot exist: a part of its path is a file\n/);
  assert.equal(await readFile(join(work, 'pki'), 'utf8'), 'not a folder\n');
});
