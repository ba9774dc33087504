// For Ansible and Make: every command that changes things takes --check and --json (with `changed`),
// and documents its exit codes in --help. The --check runs here write nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';

const CHANGING = [
  ['setup'],
  ['issue'],
  ['render'],
  ['push'],
  ['apply'],
  ['rotate', 'leaf'],
  ['rotate', 'ca'],
  ['keystore', 'create'],
  ['keystore', 'trust'],
  ['export', 'ansible'],
  ['schedule'],
];

test('every command that changes things documents --check, --json and its exit codes', async () => {
  for (const cmd of CHANGING) {
    const r = await dbtls([...cmd, '--help']);
    assert.equal(r.code, 0, cmd.join(' '));
    assert.match(r.stdout, /--check\b/, `${cmd.join(' ')} --check`);
    assert.match(r.stdout, /--json\b/, `${cmd.join(' ')} --json`);
    assert.match(r.stdout, /EXIT CODES[\s\S]*\b0\b[\s\S]*\b2\b/, `${cmd.join(' ')} exit codes`);
  }
});

test('setup, keystore create, rotate ca and schedule --out with --check: `changed` in the JSON, nothing written', async (t) => {
  const dir = await tempDir(t);
  const certs = join(dir, 'certs');
  await mkdir(certs);
  const setup = await dbtls(['setup', '-d', certs, '--check', '--json']);
  assert.equal(setup.code, 0, setup.stderr);
  assert.equal(JSON.parse(setup.stdout).changed, true);
  assert.deepEqual(await readdir(certs), [], 'setup --check wrote nothing');
  assert.equal((await dbtls(['setup', '-d', certs])).code, 0);
  assert.equal(JSON.parse((await dbtls(['setup', '-d', certs, '--check', '--json'])).stdout).changed, false);

  const store = join(dir, 'app.p12');
  const ks = await dbtls([
    'keystore',
    'create',
    '--cert',
    join(certs, 'client-cert.pem'),
    '--key',
    join(certs, 'client-key.pem'),
    '--chain',
    join(certs, 'ca.pem'),
    '--out',
    store,
    '--check',
    '--json',
  ]);
  assert.equal(ks.code, 0, ks.stderr);
  assert.equal(JSON.parse(ks.stdout).changed, true);
  const mismatch = await dbtls([
    'keystore',
    'create',
    '--cert',
    join(certs, 'client-cert.pem'),
    '--key',
    join(certs, 'server-key.pem'),
    '--out',
    store,
    '--check',
  ]);
  assert.equal(mismatch.code, 2, '--check still checks the inputs');

  const inv = await writeInventory(dir, { nodes: [{ name: 'db1', host: '10.3.0.1' }] });
  assert.equal((await dbtls(['apply', '-i', inv, '--local-root', join(dir, 'nodes')])).code, 0);
  const before = (await readdir(join(dir, 'pki'))).sort();
  const ca = await dbtls(['rotate', 'ca', '-i', inv, '--check', '--json']);
  assert.equal(ca.code, 0, ca.stderr);
  assert.deepEqual(
    JSON.parse(ca.stdout).runs.map((r: { phase: number }) => r.phase),
    [1, 2, 3],
  );
  assert.deepEqual((await readdir(join(dir, 'pki'))).sort(), before, 'rotate ca --check started nothing');

  const units = join(dir, 'units');
  await mkdir(units);
  const sched = await dbtls(['schedule', '-i', inv, '--systemd', '--out', units, '--check', '--json']);
  assert.equal(sched.code, 0, sched.stderr);
  assert.equal(JSON.parse(sched.stdout).changed, true);
  assert.deepEqual(await readdir(units), [], 'schedule --check wrote nothing');
  assert.equal((await dbtls(['schedule', '-i', inv, '--systemd', '--out', units])).code, 0);
  assert.equal(
    JSON.parse((await dbtls(['schedule', '-i', inv, '--systemd', '--out', units, '--check', '--json'])).stdout).changed,
    false,
  );
  await writeFile(join(dir, 'done'), '');
});
