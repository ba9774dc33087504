// --check on the commands that change things (issue, apply): they report what would change, with
// `changed` in the JSON for Ansible's check mode, and write nothing at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory, type TestNode } from '../helpers/inventory.js';

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** Every file under DIR with its bytes and mtime: the proof that nothing was written. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(p, `${(await stat(p)).mtimeMs}:${(await readFile(p)).toString('base64')}`);
    }
  };
  await walk(dir);
  return out;
}

test('apply --check and issue --check: changed says whether a run would change anything, and they write nothing', async (t) => {
  const dir = await tempDir(t);
  const nodes: TestNode[] = [
    { name: 'db1', host: '10.1.0.1', roles: ['mariadb'], dest: '/etc/mysql/ssl' },
    { name: 'db2', host: '10.1.0.2', roles: ['mariadb'], dest: '/etc/mysql/ssl' },
  ];
  const inv = await writeInventory(dir, { nodes, clients: ['app'] });
  const root = join(dir, 'nodes');
  const apply = (args: string[]) => dbtls(['apply', '-i', inv, '--local-root', root, '--json', ...args]);

  // Nothing issued yet: a change, and not even the PKI folder appears.
  const first = await apply(['--check']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout).changed, true);
  assert.equal(await exists(join(dir, 'pki')), false, 'the PKI directory was not created');
  assert.equal(await exists(root), false);

  assert.equal((await apply([])).code, 0);
  const before = await snapshot(dir);
  const clean = await apply(['--check']);
  assert.equal(clean.code, 0, clean.stderr);
  assert.equal(JSON.parse(clean.stdout).changed, false, 'after a run, nothing would change');

  // A SAN added: issue --check names the certificate and why; apply --check says changed.
  nodes[0]!.sans = ['db1.example.com'];
  await writeInventory(dir, { nodes, clients: ['app'] });
  const issue = await dbtls(['issue', '-i', inv, '--check', '--json']);
  assert.equal(issue.code, 0, issue.stderr);
  const planned = JSON.parse(issue.stdout);
  assert.equal(planned.changed, true);
  assert.deepEqual(
    planned.issued.map((i: { id: string }) => i.id),
    ['nodes/db1/server'],
  );
  assert.match(planned.issued[0].reason, /SANs changed \+DNS:db1\.example\.com/);
  assert.equal(JSON.parse((await apply(['--check'])).stdout).changed, true);
  const plain = await dbtls(['issue', '-i', inv, '--check']);
  assert.match(plain.stdout, /would issue nodes\/db1\/server: SANs changed/);

  // A file gone from a node: apply --check names it as one it would upload, and leaves it gone.
  nodes[0]!.sans = undefined;
  await writeInventory(dir, { nodes, clients: ['app'] });
  const gone = join(root, 'db2/etc/mysql/ssl/server-key.pem');
  await rm(gone);
  const drift = JSON.parse((await apply(['--check'])).stdout);
  assert.equal(drift.changed, true);
  assert.deepEqual(drift.nodes.find((n: { node: string }) => n.node === 'db2').wouldUpload, [
    '/etc/mysql/ssl/server-key.pem',
  ]);
  assert.equal(await exists(gone), false, '--check did not restore it');

  const after = await snapshot(dir);
  after.delete(inv);
  before.delete(inv);
  before.delete(gone);
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), 'no file appeared or vanished');
  for (const [p, v] of after) assert.equal(v, before.get(p), `${p} unchanged`);
});
