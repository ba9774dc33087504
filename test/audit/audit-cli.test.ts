// The audit trail as the commands write it: issue, push, revoke, rotate leaf each append their
// actions (each exactly once) and a run record to <pki>/audit.log, 0600, with no secret in it;
// `dbtls log --node --at` tells which certificate a node had then; --check writes nothing; a link
// planted at audit.log is refused before any work and its target is untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';

const PASSPHRASE = 'correct-horse-battery-audit';
const env = { ...process.env, DBTLS_CA_PASSPHRASE: PASSPHRASE };

interface Rec {
  event: string;
  run: string;
  command: string;
  time: string;
  node?: string;
  id?: string;
  serial?: string;
  exitCode?: number;
  [k: string]: unknown;
}

const inventory = (dir: string): TestInventory => ({
  nodes: ['db1', 'db2'].map((name, i) => ({
    name,
    host: `10.7.0.${i + 1}`,
    roles: ['mariadb'],
    dest: '/etc/mysql/ssl',
    reload: `echo ${name} >> ${join(dir, 'reloads.log')}`,
  })),
  clients: ['app'],
  crlDays: 30,
});

async function records(pki: string): Promise<Rec[]> {
  const text = await readFile(join(pki, 'audit.log'), 'utf8');
  assert.ok(text.endsWith('\n'));
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);
}

async function ok(args: string[]) {
  const r = await dbtls(args, { env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, `dbtls ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r;
}

const serialOf = async (file: string) => new X509Certificate(await readFile(file)).serialNumber.toLowerCase();

test('issue, push, revoke and rotate leaf append each action once and a run record; 0600; no secret', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, inventory(dir));
  const pki = join(dir, 'pki');
  const root = join(dir, 'nodes');

  await ok(['issue', '-i', inv]);
  assert.equal((await stat(join(pki, 'audit.log'))).mode & 0o777, 0o600);
  let recs = await records(pki);
  const issueRun = recs[0]!.run;
  assert.ok(recs.every((r) => r.run === issueRun && r.command === 'issue'));
  const issued = recs.filter((r) => r.event === 'issued');
  // db1, db2 (MariaDB: no RSA pair): server and client; app: client.
  assert.deepEqual(issued.map((r) => r.id).sort(), [
    'clients/app/client',
    'nodes/db1/client',
    'nodes/db1/server',
    'nodes/db2/client',
    'nodes/db2/server',
  ]);
  for (const r of issued.filter((x) => x.kind === 'certificate')) {
    const file = join(pki, (r.files as string[])[0]!);
    assert.equal(r.serial, await serialOf(file), `${r.id}'s serial is the file's`);
  }
  assert.equal(recs.filter((r) => r.event === 'ca-created').length, 1);
  // crlDays is set: the new CA's first CRL, as the manifest records it.
  const manifest = JSON.parse(await readFile(join(pki, 'manifest.json'), 'utf8'));
  assert.deepEqual(
    recs.filter((r) => r.event === 'crl-signed').map((r) => [r.number, r.nextUpdate, r.caFingerprint256]),
    manifest.crls.map((c: { number: number; nextUpdate: string; caFingerprint256: string }) => [
      c.number,
      c.nextUpdate,
      c.caFingerprint256,
    ]),
  );
  assert.deepEqual(recs.at(-1)!.event, 'run');
  assert.equal(recs.at(-1)!.exitCode, 0);
  const inventorySha = (await import('node:crypto'))
    .createHash('sha256')
    .update(await readFile(inv))
    .digest('hex');
  assert.ok(recs.every((r) => r.inventorySha256 === inventorySha));

  // --check changes nothing, and writes nothing to the trail.
  const before = await readFile(join(pki, 'audit.log'));
  await ok(['issue', '-i', inv, '--check', '--force']);
  await ok(['render', '-i', inv]);
  await ok(['push', '-i', inv, '--local-root', root, '--check']);
  assert.deepEqual(await readFile(join(pki, 'audit.log')), before);

  await ok(['push', '-i', inv, '--local-root', root, '--reload', 'changed']);
  recs = await records(pki);
  const push = recs.filter((r) => r.command === 'push');
  const pushed = push.filter((r) => r.event === 'pushed');
  assert.deepEqual(pushed.map((r) => r.node).sort(), ['db1', 'db2']);
  assert.deepEqual(
    push
      .filter((r) => r.event === 'reloaded')
      .map((r) => [r.node, r.ok])
      .sort(),
    [
      ['db1', true],
      ['db2', true],
    ],
  );
  for (const p of pushed) {
    const files = p.files as Array<{ remote: string; sha256: string }>;
    for (const f of files) {
      const there = await readFile(join(root, p.node!, f.remote));
      assert.equal(f.sha256, (await import('node:crypto')).createHash('sha256').update(there).digest('hex'));
    }
    const server = (p.certificates as Array<{ of: string; serial: string }>).find((c) => c.of === 'server')!;
    assert.equal(server.serial, await serialOf(join(root, p.node!, 'etc/mysql/ssl/server-cert.pem')));
    // Pushed before reloaded.
    assert.ok(push.indexOf(p) < push.findIndex((r) => r.event === 'reloaded' && r.node === p.node));
  }
  assert.equal(push.at(-1)!.event, 'run');

  const db2Server = await serialOf(join(pki, 'nodes/db2/server-cert.pem'));
  await ok(['revoke', '-i', inv, '--node', 'db2', '--reason', 'keyCompromise']);
  recs = await records(pki);
  const revoke = recs.filter((r) => r.command === 'revoke');
  assert.deepEqual(
    revoke.map((r) => r.event),
    ['revoked', 'revoked', 'crl-signed', 'run'],
  );
  assert.ok(revoke.some((r) => r.serial === db2Server && r.node === 'db2' && r.reason === 'keyCompromise'));

  await ok(['rotate', 'leaf', '-i', inv, '--local-root', root, '--all', '--node', 'db1', '--yes']);
  recs = await records(pki);
  const rotate = recs.filter((r) => r.command === 'rotate leaf');
  const rotatedIds = rotate.filter((r) => r.event === 'issued').map((r) => r.id);
  assert.equal(new Set(rotatedIds).size, rotatedIds.length, 'each certificate once');
  assert.ok(rotatedIds.includes('nodes/db1/server'));
  assert.equal(rotate.filter((r) => r.event === 'pushed' && r.node === 'db1').length, 1);
  assert.equal(rotate.filter((r) => r.event === 'reloaded' && r.node === 'db1').length, 1);
  assert.equal(rotate.filter((r) => r.event === 'rotated').length, 1);
  assert.equal(rotate.at(-1)!.event, 'run');
  // Every run's records share one id, and each run ends with its run record.
  const runs = [...new Set(recs.map((r) => r.run))];
  assert.equal(runs.length, 4);
  for (const run of runs) assert.equal(recs.filter((r) => r.run === run && r.event === 'run').length, 1);

  const text = await readFile(join(pki, 'audit.log'), 'utf8');
  assert.ok(!text.includes(PASSPHRASE), 'the CA passphrase is never in the log');
  assert.ok(!text.includes('PRIVATE KEY'), 'no key material');
  const storepass = (await readFile(join(pki, 'storepass'), 'utf8').catch(() => '')).trim();
  if (storepass) assert.ok(!text.includes(storepass));
  assert.equal((await stat(join(pki, 'audit.log'))).mode & 0o777, 0o600);

  // The reader agrees: db2's revoked serial has its history.
  const bySerial = await dbtls(['log', '-i', inv, '--serial', db2Server, '--json']);
  assert.equal(bySerial.code, 0, bySerial.stderr);
  const events = (JSON.parse(bySerial.stdout).records as Rec[]).map((r) => r.event);
  assert.deepEqual(events, ['issued', 'pushed', 'revoked']);
});

test('log --node --at: the certificate a node had between two pushes, then after the second', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, inventory(dir));
  const root = join(dir, 'nodes');
  const served = join(root, 'db1/etc/mysql/ssl/server-cert.pem');
  await ok(['issue', '-i', inv]);
  await ok(['render', '-i', inv]);
  await ok(['push', '-i', inv, '--local-root', root, '--reload', 'changed']);
  const first = await serialOf(served);
  await new Promise((r) => setTimeout(r, 30));
  const between = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 30));
  await ok(['issue', '-i', inv, '--force', '--node', 'db1']);
  await ok(['push', '-i', inv, '--local-root', root, '--reload', 'changed']);
  const second = await serialOf(served);
  assert.notEqual(first, second);

  const at = async (when: string) => {
    const r = await dbtls(['log', '-i', inv, '--node', 'db1', '--at', when, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const then = await at(between);
  assert.equal(then.serving.serial, first);
  assert.equal(then.installed.serial, first);
  assert.match(then.serving.pushedBy, /@/);
  const now = await at(new Date(Date.now() + 60_000).toISOString());
  assert.equal(now.serving.serial, second);
  assert.equal(now.serving.fingerprint256, new X509Certificate(await readFile(served)).fingerprint256);

  // Before anything was pushed: nothing to say, exit 1.
  const early = await dbtls(['log', '-i', inv, '--node', 'db1', '--at', '2000-01-01']);
  assert.equal(early.code, 1);
  // The human answer names the serial.
  const plain = await dbtls(['log', '-i', inv, '--node', 'db1', '--at', between]);
  assert.equal(plain.code, 0);
  assert.match(plain.stdout, new RegExp(`served +serial ${first}`));
  // --node alone lists db1's records: its certificates issued twice, pushed twice.
  const list = await dbtls(['log', '--pki', join(dir, 'pki'), '--node', 'db1', '--json']);
  const recs = JSON.parse(list.stdout).records as Rec[];
  assert.equal(recs.filter((r) => r.event === 'pushed').length, 2);
  assert.equal(recs.filter((r) => r.event === 'issued' && r.id === 'nodes/db1/server').length, 2);
});

test('log: usage errors exit 2, a bad time names the option; a missing log is nothing found', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, inventory(dir));
  const neither = await dbtls(['log']);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /-i.*--pki/);
  const badTime = await dbtls(['log', '-i', inv, '--since', 'yesterday']);
  assert.equal(badTime.code, 2);
  assert.match(badTime.stderr, /--since/);
  const atAlone = await dbtls(['log', '-i', inv, '--at', '2026-11-01', '--json']);
  assert.equal(atAlone.code, 2);
  assert.equal(JSON.parse(atAlone.stdout).error.code, 'at-needs-node');
  const none = await dbtls(['log', '-i', inv]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no audit log/);
});

test('a symlink planted at audit.log is refused before any work; its target is untouched', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, inventory(dir));
  await ok(['issue', '-i', inv]);
  const pki = join(dir, 'pki');
  const { rename } = await import('node:fs/promises');
  await rename(join(pki, 'audit.log'), join(dir, 'moved.log'));
  const target = join(dir, 'precious.txt');
  await writeFile(target, 'keep me\n', { mode: 0o600 });
  await symlink(target, join(pki, 'audit.log'));
  const manifest = await readFile(join(pki, 'manifest.json'));
  const r = await dbtls(['issue', '-i', inv, '--force', '--json'], { env });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(JSON.parse(r.stdout).error.code, 'audit-log-refused');
  assert.match(r.stderr, /audit\.log.*symbolic link/);
  assert.equal(await readFile(target, 'utf8'), 'keep me\n');
  assert.deepEqual(await readFile(join(pki, 'manifest.json')), manifest, 'nothing was issued');
  const read = await dbtls(['log', '--pki', pki]);
  assert.equal(read.code, 2);
  assert.match(read.stderr, /symbolic link/);
});
