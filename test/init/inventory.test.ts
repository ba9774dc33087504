// The pieces of `dbtls init` that need no terminal: node lists as typed or pasted, the inventory text it
// writes (read back by the real inventory loader), and the answers file's checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseHostPort, parseNodeLines, nameForHost } from '../../lib/init/nodes.js';
import { renderInventory, inventoryPath } from '../../lib/init/inventory-yaml.js';
import { readAnswersFile } from '../../lib/init/answers-file.js';
import { loadInventory } from '../../lib/inventory/load.js';
import { isDbtlsError } from '../../lib/errors.js';
import type { InitAnswers } from '../../lib/init/model.js';
import { tempDir } from '../helpers/tmp.js';

test('host[:port] as Ansible writes it: a port after one colon, IPv6 in brackets, a bare IPv6 has none', () => {
  assert.deepEqual(parseHostPort('db1.example.com'), { host: 'db1.example.com' });
  assert.deepEqual(parseHostPort('10.0.0.1:2222'), { host: '10.0.0.1', port: 2222 });
  assert.deepEqual(parseHostPort('[::1]:2200'), { host: '::1', port: 2200 });
  assert.deepEqual(parseHostPort('2001:db8::7'), { host: '2001:db8::7' });
  assert.match(parseHostPort('db1:70000') as string, /not a port/);
  assert.match(parseHostPort('[db1]:22') as string, /IPv6/);
  assert.match(parseHostPort('bad host') as string, /not a DNS name or an IP address/);
  assert.match(parseHostPort('*.example.com') as string, /not a DNS name/);
});

test('a pasted list: host, name host, name host roles; names made from hosts; every bad line reported with its number', () => {
  const { nodes, problems } = parseNodeLines([
    'db1 10.0.0.11',
    '',
    '  # a comment',
    'db2.example.com:2222',
    '10.0.0.13',
    'px 10.0.0.21 proxysql,mysql',
  ]);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    nodes.map((n) => [n.line, n.name, n.host, n.port, n.roles]),
    [
      [1, 'db1', '10.0.0.11', undefined, []],
      [4, 'db2', 'db2.example.com', 2222, []],
      [5, 'db3', '10.0.0.13', undefined, []],
      // Roles keep the model's order, whatever the line's.
      [6, 'px', '10.0.0.21', undefined, ['mysql', 'proxysql']],
    ],
  );
  const bad = parseNodeLines([
    'db1 10.0.0.1',
    'DB1 10.0.0.2',
    'a b c d',
    'x 10.0.0.3 oracle',
    '../x 10.0.0.4',
    'y not_a_host!',
  ]);
  assert.deepEqual(
    bad.problems.map((p) => p.line),
    [2, 3, 4, 5, 6],
  );
  assert.match(bad.problems[0]!.message, /duplicate node name "DB1" \(first on line 1\)/);
  assert.match(bad.problems[2]!.message, /unknown role "oracle"/);
  assert.match(bad.problems[3]!.message, /not a safe name/);
  assert.equal(nameForHost('db7.example.com', 1, ['db7']), 'db7-1');
  assert.equal(nameForHost('::1', 4, []), 'db4');
});

function answers(dir: string, over: Partial<InitAnswers> = {}): InitAnswers {
  return {
    cluster: 'prod-eu',
    roles: ['mysql', 'proxysql'],
    transport: 'ssh',
    nodes: [
      { name: 'db1', host: '10.0.0.11', roles: ['mysql'], ssh: { port: 2222 } },
      { name: 'db2', host: 'db2.example.com', roles: ['mysql'], dest: '/srv/tls' },
      {
        name: 'px',
        host: '::1',
        roles: ['proxysql'],
        transport: 'local',
        reload: 'systemctl reload proxysql && echo "ok: done"',
      },
    ],
    dest: '/etc/mysql/tls',
    ssh: {
      user: 'ops',
      port: 22,
      identityFile: '~/.ssh/id_ed25519',
      knownHostsFile: join(dir, 'keys', 'known_hosts'),
      proxyJump: 'ops@bastion.example.com:2200',
    },
    subject: { O: 'Example: Inc.', C: 'DE' },
    ca: { commonName: 'prod-eu CA', days: 3650, keySize: 3072 },
    leaf: { days: 90, keySize: 2048 },
    clients: [
      { name: 'app', keystore: 'pkcs12' },
      { name: 'repl', commonName: 'replication' },
    ],
    inventory: join(dir, 'prod-eu.yml'),
    pki: join(dir, 'pki', 'prod-eu'),
    ...over,
  };
}

test('the written inventory is commented, and the real loader reads back exactly the answers', async (t) => {
  const dir = await tempDir(t);
  const a = answers(dir);
  const text = renderInventory(a, 'dbtls 0.0.0');
  for (const section of ['cluster:', 'pki:', 'subject:', 'ca:', 'leaf:', 'ssh:', 'nodes:', 'clients:']) {
    const at = text.split('\n').indexOf(text.split('\n').find((l) => l.startsWith(section))!);
    assert.ok(at > 0 && text.split('\n')[at - 1]!.startsWith('#'), `a comment above ${section}`);
  }
  // Paths inside the inventory's folder are written relative to it, so the folder can move.
  assert.match(text, /^pki: pki\/prod-eu$/m);
  assert.match(text, /knownHostsFile: keys\/known_hosts/);
  await writeFile(a.inventory, text);
  const c = await loadInventory(a.inventory);
  assert.equal(c.cluster, 'prod-eu');
  assert.equal(c.pki, join(dir, 'pki', 'prod-eu'));
  assert.deepEqual(c.subject, { O: 'Example: Inc.', C: 'DE' });
  assert.deepEqual(c.ca, { commonName: 'prod-eu CA', days: 3650, keyType: 'rsa3072' });
  assert.deepEqual(c.leaf, { days: 90, keyType: 'rsa2048', localhost: false });
  const [db1, db2, px] = c.nodes;
  assert.deepEqual([db1!.ssh.port, db1!.ssh.user, db1!.dest, db1!.transport], [2222, 'ops', '/etc/mysql/tls', 'ssh']);
  assert.deepEqual(db1!.ssh.proxyJump, { user: 'ops', host: 'bastion.example.com', port: 2200 });
  assert.equal(db1!.ssh.knownHostsFile, join(dir, 'keys', 'known_hosts'));
  assert.equal(db2!.dest, '/srv/tls', "a node's own dest wins over the wizard's");
  assert.deepEqual(
    [px!.host, px!.transport, px!.reload],
    ['::1', 'local', 'systemctl reload proxysql && echo "ok: done"'],
  );
  assert.deepEqual(c.clients, [
    { name: 'app', commonName: 'app', keystore: 'pkcs12' },
    { name: 'repl', commonName: 'replication' },
  ]);

  // Only local nodes: no ssh section at all.
  const local = renderInventory(
    answers(dir, { transport: 'local', nodes: [{ name: 'db1', host: '10.0.0.1', roles: ['mysql'] }] }),
    'dbtls 0.0.0',
  );
  assert.doesNotMatch(local, /^ssh:/m);
  assert.match(local, /transport: local/);
  assert.equal(inventoryPath('/elsewhere/pki', dir), '/elsewhere/pki');
});

test('an answers file is checked like an inventory: every problem at file:line:col with its key', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'answers.yml');
  await writeFile(
    file,
    [
      'cluster: Demo',
      'nodes:',
      '  - { host: "10.0.0.1:99999" }',
      'ca: { days: "10" }',
      'leaf: { keysize: 2048 }',
      'ansible: { file: hosts.ini }',
      'push: yes',
    ].join('\n') + '\n',
  );
  await assert.rejects(readAnswersFile(file), (e: unknown) => {
    assert.ok(isDbtlsError(e));
    assert.equal(e.exitCode, 2);
    const lines = e.message.split('\n');
    assert.match(lines[0]!, new RegExp(`^${file}:1:10: cluster: "Demo" must be`));
    assert.match(e.message, /:3:13: nodes\[0\]\.host: "99999" is not a port/);
    assert.match(e.message, /:4:13: ca\.days: expected an integer, got the string "10"/);
    assert.match(e.message, /:5:9: leaf\.keysize: unknown key "keysize" \(did you mean "keySize"\?\)/);
    assert.match(e.message, /:6:10: ansible: give the nodes either as nodes or from an ansible inventory, not both/);
    assert.match(e.message, /:7:7: push: expected true or false, got the string "yes"/);
    return true;
  });
});
