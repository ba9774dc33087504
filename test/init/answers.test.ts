// `dbtls init` without a terminal (stdin and stdout are pipes here): it refuses without --answers,
// builds the whole cluster from an answers file, and stops with exit 2 — writing nothing — at a missing
// or bad answer, naming the file, line and key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { LOCAL_ANSWERS, checkLocalCluster } from './expected.js';

test('without a terminal and without --answers: refused with exit 2, naming --answers FILE and --yes; nothing written', async (t) => {
  const dir = await tempDir(t);
  const r = await dbtls(['init'], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /needs|terminal/);
  assert.match(r.stderr, /--answers FILE/);
  assert.match(r.stderr, /--yes/);
  assert.deepEqual(await readdir(dir), []);
  // --yes alone answers nothing.
  const yes = await dbtls(['init', '--yes'], { cwd: dir });
  assert.equal(yes.code, 2);
  assert.match(yes.stderr, /--answers FILE/);
});

test('--answers without a terminal: the inventory, certificates OpenSSL verifies, rendered configs and the push', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'answers.yml'), LOCAL_ANSWERS);
  const r = await dbtls(['init', '--answers', 'answers.yml'], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await checkLocalCluster(dir);
  assert.match(r.stdout, /Made, and where:/);
  assert.match(r.stdout, /inventory\s+demo\.yml/);
  assert.match(r.stdout, /3 nodes ok/);

  // A second run over the same folder: the inventory exists and the file does not say to replace it.
  const before = await readFile(join(dir, 'demo.yml'), 'utf8');
  const again = await dbtls(['init', '--answers', 'answers.yml'], { cwd: dir });
  assert.equal(again.code, 2, again.stderr);
  assert.match(
    again.stderr,
    /answers\.yml:\d+:\d+: inventory: .*demo\.yml exists; set overwrite: true \(or pass --force\)/,
  );
  assert.equal(await readFile(join(dir, 'demo.yml'), 'utf8'), before);
  // --force replaces it; the CA and certificates still valid are kept (issue is idempotent).
  const ca = await readFile(join(dir, 'pki', 'demo', 'ca.pem'), 'utf8');
  const forced = await dbtls(['init', '--answers', 'answers.yml', '--force'], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /0 issued, 10 up to date/);
  assert.equal(await readFile(join(dir, 'pki', 'demo', 'ca.pem'), 'utf8'), ca);
});

test('push: false stops after issue and render and prints the exact apply command', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'answers.yml'), LOCAL_ANSWERS.replace('push: true', 'push: false'));
  const r = await dbtls(['init', '--answers', 'answers.yml', '--local-root', 'nodes-here'], {
    cwd: dir,
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /Not pushed\. To deliver the files \(and reload TLS on the servers\): dbtls apply -i demo\.yml --local-root nodes-here\n/,
  );
  assert.ok(!(await readdir(dir)).includes('nodes-here'));
  // The printed command does what the wizard left out.
  const apply = await dbtls(['apply', '-i', 'demo.yml', '--local-root', 'nodes-here'], {
    cwd: dir,
    timeoutMs: 120_000,
  });
  assert.equal(apply.code, 0, apply.stderr);
  assert.ok((await readdir(join(dir, 'nodes-here'))).includes('db1'));
});

test('a bad or missing answer: exit 2 naming the file, line and key; nothing written', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string, RegExp]> = [
    // A value the inventory rules refuse.
    [
      LOCAL_ANSWERS.replace('leaf: { days: 90 }', 'leaf: { days: 90000 }'),
      /answers\.yml:11:15: leaf\.days: 90000 must be an integer from 1 to 36500/,
    ],
    [
      LOCAL_ANSWERS.replace('{ host: 10.0.0.11, roles: [mysql] }', '{ host: 10.0.0.11, roles: [mysql, oracle] }'),
      /answers\.yml:6:39: nodes\[0\]\.roles\[1\]: unknown role "oracle"/,
    ],
    // Rules across answers: a client CN equal to the CA's, two nodes of one name.
    [
      LOCAL_ANSWERS.replace('{ name: monitor }', '{ name: monitor, commonName: demo root ca }'),
      /answers\.yml:14:34: clients\[1\]\.commonName: equals the CA's commonName "Demo Root CA"/,
    ],
    [
      LOCAL_ANSWERS.replace('name: proxy1', 'name: DB1'),
      /answers\.yml:8:13: nodes\[2\]\.name: duplicate node name "DB1"/,
    ],
    // Missing: no nodes at all, and no terminal to ask.
    [LOCAL_ANSWERS.replace(/nodes:\n(  - .*\n)+/, ''), /no answer for nodes in answers\.yml/],
  ];
  for (const [text, expected] of cases) {
    await writeFile(join(dir, 'answers.yml'), text);
    const r = await dbtls(['init', '--answers', 'answers.yml', '--yes'], { cwd: dir });
    assert.equal(r.code, 2, `${expected}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, expected);
    assert.deepEqual(await readdir(dir), ['answers.yml'], String(expected));
  }
});

test('an answers file can turn on ECDSA keys, revocation and an offline root: the inventory says so and issue does it', async (t) => {
  const dir = await tempDir(t);
  await writeFile(
    join(dir, 'answers.yml'),
    LOCAL_ANSWERS.replace(
      'ca: { commonName: Demo Root CA }',
      'ca: { commonName: Demo Root CA, keyType: p256, crlDays: 7, intermediate: true }',
    )
      .replace('leaf: { days: 90 }', 'leaf: { days: 90, keyType: p256 }')
      .replace('push: true', 'push: false'),
  );
  const env = { ...process.env, DBTLS_CA_PASSPHRASE: 'init-answers-root' };
  const r = await dbtls(['init', '--answers', 'answers.yml'], { cwd: dir, env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const inventory = await readFile(join(dir, 'demo.yml'), 'utf8');
  assert.match(
    inventory,
    /^ca:\n(?: {2}.*\n)*? {2}keyType: p256\n(?: {2}.*\n)*? {2}crlDays: 7\n(?: {2}.*\n)*? {2}intermediate: true\n/m,
  );
  assert.match(inventory, /^leaf:\n {2}days: 90\n {2}keyType: p256\n/m);
  const pki = join(dir, 'pki', 'demo');
  const files = await readdir(pki);
  for (const f of ['intermediate.pem', 'crl.pem', 'revocation-canary']) assert.ok(files.includes(f), f);
  const text = (await readFile(join(pki, 'ca-key.pem'), 'utf8')).split('\n')[0];
  assert.equal(text, '-----BEGIN ENCRYPTED PRIVATE KEY-----', 'the root is sealed');
});
