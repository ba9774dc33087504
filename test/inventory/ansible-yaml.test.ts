// Ansible YAML inventories (groups, children, vars, ranges; mistakes at their key or value), and the
// shipped example's INI and YAML versions read as the same cluster as example.yml.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadInventory } from '../../lib/inventory/load.js';
import { repoRoot } from '../helpers/paths.js';
import { ROLE_LIST, byName, load, problems, type Where } from '../helpers/ansible-inventory.js';

test('YAML: groups, nested children, vars, ranges, ports, dbtls_* lists', async (t) => {
  const yaml = `all:
  vars:
    ansible_user: ops
  hosts:
    solo1: { dbtls_roles: [mariadb] }
  children:
    tungsten:
      vars: { ansible_port: 2200 }
      children:
        mysql_servers:
          hosts:
            db[1:3]:
            db9:2222: { ansible_host: 10.0.0.19, dbtls_sans: [db9.example.com, 10.0.1.19] }
          vars:
            dbtls_dest: /etc/mysql/ssl
    pd_servers:
      hosts:
        pd1: { ansible_host: 10.0.0.41, ansible_user: tidb, dbtls_transport: local }
`;
  const c = await load(t, yaml, 'cluster.yml');
  assert.equal(c.cluster, 'cluster');
  const n = byName(c);
  assert.deepEqual(
    c.nodes.map((x) => x.name),
    ['solo1', 'db1', 'db2', 'db3', 'db9', 'pd1'],
  );
  assert.deepEqual(n['solo1']!.roles, ['mariadb']);
  assert.deepEqual(n['db2'], {
    name: 'db2',
    host: 'db2',
    roles: ['mysql', 'tungsten'],
    sans: [],
    localhost: false,
    port: 3306,
    adminPort: 6032,
    keyType: 'rsa2048',
    transport: 'ssh',
    ssh: { user: 'ops', port: 2200 },
    dest: '/etc/mysql/ssl',
  });
  assert.deepEqual(n['db9']!.ssh, { user: 'ops', port: 2222 });
  assert.deepEqual(n['db9']!.sans, ['db9.example.com', '10.0.1.19']);
  assert.deepEqual(n['pd1'], {
    name: 'pd1',
    host: '10.0.0.41',
    roles: ['pd'],
    sans: [],
    localhost: false,
    port: 2379,
    adminPort: 6032,
    keyType: 'rsa2048',
    transport: 'local',
    ssh: { user: 'tidb', port: 22 },
  });
  assert.deepEqual(c.ssh, { user: 'ops', port: 22 });
});

test('YAML: mistakes are reported at their key or value', async (t) => {
  const yaml = `all:
  children:
    mysql:
      host:
        db1:
      hosts:
        db2: { ansible_port: "22x", dbtls_roles: { a: 1 } }
        db2: {}
        db[5:4]:
    web:
      hosts: [web1]
`;
  assert.deepEqual(await problems(t, yaml, 'hosts.yml'), [
    [4, 7, 'mysql.host', 'unknown key "host"; a group holds hosts, children, vars'],
    [7, 30, 'db2.ansible_port', 'expected a port number, got "22x"'],
    [7, 50, 'db2.dbtls_roles', 'expected a list or a comma-separated string, got a mapping'],
    [8, 9, 'mysql.hosts.db2', 'duplicate key "db2"'],
    [9, 9, 'mysql.hosts.db[5:4]', 'range [5:4] starts after its end in "db[5:4]"'],
    [11, 14, 'web.hosts', 'expected a mapping of hosts'],
  ]);
});

test('YAML: a host with no role', async (t) => {
  const yaml = 'web:\n  children:\n    apps:\n      hosts:\n        app1:\n';
  const want: Where[] = [
    [
      5,
      9,
      'app1',
      `host "app1" has no dbtls role: it is in groups web, apps; map a group with --role-map (e.g. --role-map apps=mysql; roles: ${ROLE_LIST}), or set dbtls_roles on the host or a group`,
    ],
  ];
  assert.deepEqual(await problems(t, yaml, 'hosts.yml'), want);
});

test('YAML: a syntax error is reported with its position', async (t) => {
  const want: Where[] = [
    [4, 1, '', 'invalid YAML: Flow map in block collection must be sufficiently indented and end with a }'],
  ];
  assert.deepEqual(await problems(t, 'all:\n  hosts:\n    db1: {ansible_host: 10.0.0.1\n', 'hosts.yml'), want);
});

test('the Ansible versions of the example give the same nodes and SSH settings as example.yml', async () => {
  const yml = await loadInventory(join(repoRoot, 'inventories/example.yml'));
  for (const name of ['hosts.ini', 'hosts.yml']) {
    const ans = await loadInventory(join(repoRoot, 'inventories', name), { cluster: 'demo' });
    assert.equal(ans.cluster, 'demo');
    assert.deepEqual(ans.nodes, yml.nodes, name);
    assert.deepEqual(ans.ssh, yml.ssh, name);
    assert.deepEqual([ans.ca, ans.leaf], [yml.ca, yml.leaf], name);
    // What Ansible cannot say: clients, subject, a chosen pki folder.
    assert.deepEqual(ans.clients, []);
    assert.equal(ans.pki, join(repoRoot, 'inventories/pki/demo'));
  }
  const plain = await loadInventory(join(repoRoot, 'inventories/hosts.ini'));
  assert.equal(plain.cluster, 'hosts');
});
