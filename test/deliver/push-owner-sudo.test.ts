// Owner and group on delivered files, and `become: sudo` through a real sudo for a root-owned
// destination the SSH user cannot write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/scope.js';
import { startSshd } from '../helpers/sshd.js';
import { allowSudo } from '../helpers/sudoers.js';
import { createTestUser } from '../helpers/unix-users.js';
import { writeInventory, type TestNode } from '../helpers/inventory.js';

const scope = fileScope();

async function push(inv: string) {
  const r = await dbtls(['push', '-i', inv, '--json'], { timeoutMs: 120_000 });
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : undefined };
}

test('owner and group apply to every delivered file; become: sudo installs where the SSH user cannot write', async (t) => {
  const [owner, deploy] = await Promise.all([
    createTestUser(scope, 'dbtls-owner'),
    createTestUser(scope, 'dbtls-deploy'),
  ]);
  await allowSudo(scope, deploy);
  const server = await startSshd(scope, { users: ['root', deploy.name] });
  const dir = await tempDir(t);
  await chmod(dir, 0o755); // the deploy user must reach its key and the folders below
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, server.knownHostsLine() + '\n');
  // The deploy user reads the shared client key through a copy it owns.
  const key = join(dir, 'deploy-key');
  await writeFile(key, await readFile(server.clientKeyPath), { mode: 0o600 });
  const { chown } = await import('node:fs/promises');
  await chown(key, deploy.uid, deploy.gid);
  const rootOnly = join(dir, 'root-only');
  await mkdir(rootOnly, { mode: 0o755 }); // root's, not writable by the deploy user
  const ssh = (user: string, identityFile: string) => ({
    port: server.port,
    user,
    identityFile,
    knownHostsFile: knownHosts,
  });
  const base = (name: string): TestNode => ({ name, host: '127.0.0.1', roles: ['mariadb'], transport: 'ssh' });
  const nodes: TestNode[] = [
    {
      ...base('owned'),
      dest: join(dir, 'owned', 'ssl'),
      owner: owner.name,
      group: owner.name,
      ssh: ssh('root', server.clientKeyPath),
    },
    { ...base('plain'), dest: join(rootOnly, 'plain'), ssh: ssh(deploy.name, key) },
    { ...base('sudo'), dest: join(rootOnly, 'sudo'), become: 'sudo', owner: owner.name, ssh: ssh(deploy.name, key) },
  ];
  const inv = await writeInventory(dir, { nodes });
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);

  const r = await push(inv);
  const byNode = Object.fromEntries(r.report.nodes.map((n: { node: string }) => [n.node, n]));
  assert.equal(r.code, 1, 'the node without become fails');
  assert.deepEqual(r.report.failed, ['plain']);
  assert.match(byNode.plain.error.message, /denied|permission/i);

  for (const f of ['ca.pem', 'server-cert.pem', 'server-key.pem']) {
    const st = await stat(join(nodes[0]!.dest!, f));
    assert.deepEqual([st.uid, st.gid], [owner.uid, owner.gid], `owned/${f}`);
  }
  assert.equal((await stat(join(nodes[0]!.dest!, 'server-key.pem'))).mode & 0o777, 0o600);

  // Through sudo: installed as root with the owner asked for, the mode kept, the content right.
  const sudoKey = await stat(join(nodes[2]!.dest!, 'server-key.pem'));
  assert.equal(sudoKey.uid, owner.uid);
  assert.equal(sudoKey.mode & 0o777, 0o600);
  assert.equal(
    await readFile(join(nodes[2]!.dest!, 'server-cert.pem'), 'utf8'),
    await readFile(join(dir, 'pki/nodes/sudo/server-cert.pem'), 'utf8'),
  );
  assert.equal(byNode.sudo.uploaded.length, 5);
  const again = await dbtls(['push', '-i', inv, '--node', 'sudo', '--json']);
  assert.equal(again.code, 0, again.stdout);
  assert.deepEqual(JSON.parse(again.stdout).nodes[0].uploaded, [], 'sudo reads back what is there: nothing to upload');
});
