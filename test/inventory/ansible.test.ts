import { test } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GROUP_ROLES, clusterNameFromFile } from '../../lib/inventory/ansible.js';
import { expandHostPattern } from '../../lib/inventory/host-range.js';
import { isDbtlsError } from '../../lib/errors.js';
import { ROLES } from '../../lib/inventory/model.js';
import { loadInventory, type LoadOptions } from '../../lib/inventory/load.js';
import { InventoryError } from '../../lib/inventory/errors.js';
import { ROLE_LIST, byName, load, problems, write, type Where } from '../helpers/ansible-inventory.js';

test('host ranges: numbers, zero padding, letters, steps, several ranges, ports', () => {
  assert.deepEqual(expandHostPattern('db[1:3].example.com'), {
    hosts: ['db1.example.com', 'db2.example.com', 'db3.example.com'],
  });
  assert.deepEqual(expandHostPattern('db[01:03]'), { hosts: ['db01', 'db02', 'db03'] });
  assert.deepEqual(expandHostPattern('db[08:10]'), { hosts: ['db08', 'db09', 'db10'] });
  assert.deepEqual(expandHostPattern('node-[a:c]'), { hosts: ['node-a', 'node-b', 'node-c'] });
  assert.deepEqual(expandHostPattern('db[1:7:3]'), { hosts: ['db1', 'db4', 'db7'] });
  assert.deepEqual(expandHostPattern('r[1:2]n[a:b]'), { hosts: ['r1na', 'r1nb', 'r2na', 'r2nb'] });
  assert.deepEqual(expandHostPattern('db[:2]'), { hosts: ['db0', 'db1', 'db2'] });
  assert.deepEqual(expandHostPattern('db1:2222'), { hosts: ['db1'], port: 2222 });
  assert.deepEqual(expandHostPattern('db[1:2]:2222'), { hosts: ['db1', 'db2'], port: 2222 });
  assert.deepEqual(expandHostPattern('[::1]:2222'), { hosts: ['::1'], port: 2222 });
  assert.deepEqual(expandHostPattern('fe80::1'), { hosts: ['fe80::1'] });
  assert.equal(expandHostPattern('db[3:1]'), 'range [3:1] starts after its end in "db[3:1]"');
  assert.equal(
    expandHostPattern('db[01:3]'),
    'range [01:3] must give both ends the same number of digits in "db[01:3]"',
  );
  assert.equal(expandHostPattern('db[1:c]'), 'range [1:c] must be numbers or single letters in "db[1:c]"');
  assert.equal(expandHostPattern('db[1:]'), 'range [1:] has no end in "db[1:]"');
  assert.equal(expandHostPattern('db1:0'), 'port 0 in "db1:0" must be from 1 to 65535');
});

test('the group → role table: role names, TiUP names, galera and pxc', () => {
  assert.deepEqual(GROUP_ROLES['mysql'], ['mysql']);
  assert.deepEqual(GROUP_ROLES['tidb_servers'], ['tidb']);
  assert.deepEqual(GROUP_ROLES['pd_servers'], ['pd']);
  assert.deepEqual(GROUP_ROLES['tikv_servers'], ['tikv']);
  assert.deepEqual(GROUP_ROLES['proxysql_servers'], ['proxysql']);
  assert.deepEqual(GROUP_ROLES['galera'], ['mariadb', 'galera']);
  assert.deepEqual(GROUP_ROLES['pxc'], ['percona', 'pxc']);
  assert.deepEqual(GROUP_ROLES['galera_servers'], ['mariadb', 'galera']);
  assert.deepEqual(GROUP_ROLES['pxc_servers'], ['percona', 'pxc']);
  assert.deepEqual(GROUP_ROLES['maxscale'], ['maxscale']);
  assert.deepEqual(GROUP_ROLES['mysqlrouter_servers'], ['mysqlrouter']);
  assert.deepEqual(GROUP_ROLES['tiflash_servers'], ['tiflash']);
  assert.deepEqual(GROUP_ROLES['cdc_servers'], ['ticdc']);
  assert.deepEqual(GROUP_ROLES['tiproxy_servers'], ['tiproxy']);
  // Every role by its name and NAME_servers (galera and pxc are roles themselves), plus TiUP's cdc/cdc_servers.
  assert.equal(Object.keys(GROUP_ROLES).length, ROLES.length * 2 + 2);
});

test('cluster name from the file name, reduced to [a-z0-9-]', () => {
  assert.equal(clusterNameFromFile('/x/hosts.ini'), 'hosts');
  assert.equal(clusterNameFromFile('/x/Prod_EU West.yml'), 'prod-eu-west');
  assert.equal(clusterNameFromFile('/x/__.ini'), 'cluster');
});

test('INI: groups, ranges, inline and group vars, children, comments, ungrouped hosts', async (t) => {
  const ini = `# a comment
; another comment
lone1 dbtls_roles=mariadb

[mysql]
db[1:2].example.com ansible_user="admin" # trailing comment
db[01:02] ansible_port=2222
dbx:2200
db5 ansible_host=10.0.0.15 ansible_ssh_private_key_file=~/.ssh/db5 dbtls_dest=/etc/mysql/ssl

[tidb_servers]
tidb1 ansible_host=10.0.0.31 ansible_connection=local

[mysql:vars]
ansible_port = 3333
dbtls_sans=a.example.com, b.example.com

[cluster:children]
mysql
tidb_servers

[cluster:vars]
ansible_user=ops
ansible_port=22
`;
  const c = await load(t, ini, 'Prod EU.ini');
  assert.equal(c.cluster, 'prod-eu');
  assert.equal(c.pki, join(c.file, '..', 'pki', 'prod-eu'));
  assert.deepEqual(
    c.nodes.map((n) => n.name),
    ['lone1', 'db1.example.com', 'db2.example.com', 'db01', 'db02', 'dbx', 'db5', 'tidb1'],
  );
  const n = byName(c);
  assert.deepEqual(n['lone1'], {
    name: 'lone1',
    host: 'lone1',
    roles: ['mariadb'],
    sans: [],
    localhost: false,
    port: 3306,
    adminPort: 6032,
    keyType: 'rsa2048',
    transport: 'ssh',
    ssh: { user: 'root', port: 22 },
  });
  // Host vars win over the child group, which wins over its parent.
  assert.deepEqual(n['db1.example.com']!.ssh, { user: 'admin', port: 3333 });
  assert.deepEqual(n['db01']!.ssh, { user: 'ops', port: 2222 });
  assert.deepEqual(n['dbx']!.ssh, { user: 'ops', port: 2200 });
  assert.deepEqual(n['db5']!.ssh, { user: 'ops', port: 3333, identityFile: join(homedir(), '.ssh/db5') });
  assert.equal(n['db5']!.host, '10.0.0.15');
  assert.equal(n['db5']!.dest, '/etc/mysql/ssl');
  assert.deepEqual(n['db5']!.sans, ['a.example.com', 'b.example.com']);
  assert.deepEqual(n['db5']!.roles, ['mysql']);
  assert.deepEqual(n['tidb1'], {
    name: 'tidb1',
    host: '10.0.0.31',
    roles: ['tidb'],
    sans: [],
    localhost: false,
    port: 4000,
    adminPort: 6032,
    keyType: 'rsa2048',
    transport: 'local',
    ssh: { user: 'ops', port: 22 },
  });
});

test('INI: roles accumulate through children, dbtls_roles (string or list) adds to them', async (t) => {
  const ini = `[mysql]
db1
db2 dbtls_roles=proxysql

[tungsten:children]
mysql

[extra]
db1

[extra:vars]
dbtls_roles=['percona', 'pd']
`;
  const n = byName(await load(t, ini));
  assert.deepEqual(n['db1']!.roles, ['mysql', 'percona', 'pd', 'tungsten']);
  assert.deepEqual(n['db2']!.roles, ['mysql', 'proxysql', 'tungsten']);
});

test('INI: --role-map wins over the table and matches group names case-insensitively, "-" as "_"', async (t) => {
  const ini = '[DB-Servers]\ndb1\n[mysql]\ndb2\n';
  const n = byName(
    await load(t, ini, 'hosts.ini', { roleMap: { db_servers: ['mariadb', 'tungsten'], mysql: ['percona'] } }),
  );
  assert.deepEqual(n['db1']!.roles, ['mariadb', 'tungsten']);
  assert.deepEqual(n['db2']!.roles, ['percona']);
});

test('INI: a group unmapped with --role-map leaves its hosts without a role', async (t) => {
  const want: Where[] = [
    [
      2,
      1,
      'db3',
      `host "db3" has no dbtls role: it is in group galera; map a group with --role-map (e.g. --role-map galera=mysql; roles: ${ROLE_LIST}), or set dbtls_roles on the host or a group`,
    ],
  ];
  assert.deepEqual(await problems(t, '[galera]\ndb3\n', 'hosts.ini', { roleMap: { galera: [] } }), want);
});

test('INI: a host with no role is reported at its line, naming its groups and the way out', async (t) => {
  const ini = `[mysql]
db1

[web]
web1 ansible_host=10.0.0.5

[frontends:children]
web
`;
  const want: Where[] = [
    [
      5,
      1,
      'web1',
      `host "web1" has no dbtls role: it is in groups frontends, web; map a group with --role-map (e.g. --role-map web=mysql; roles: ${ROLE_LIST}), or set dbtls_roles on the host or a group`,
    ],
  ];
  assert.deepEqual(await problems(t, ini), want);
});

test('INI: an ungrouped host with no role', async (t) => {
  const want: Where[] = [
    [
      1,
      1,
      'app1',
      `host "app1" has no dbtls role: it is in group ungrouped; map a group with --role-map (e.g. --role-map ungrouped=mysql; roles: ${ROLE_LIST}), or set dbtls_roles on the host or a group`,
    ],
  ];
  assert.deepEqual(await problems(t, 'app1\n[mysql]\ndb1\n'), want);
});

test('INI: bad variables are reported where they are set, with the field that holds them', async (t) => {
  const ini = `[mysql]
db1 ansible_port=abc
db2 ansible_host=db_2 dbtls_sans=ok.example.com,"bad san"
db3 dbtls_dest=/etc/mysql;reboot dbtls_transport=rsh
db4 dbtls_roles=mysql,oracle

[mysql:vars]
ansible_user=ops
ansible_port=99999
`;
  assert.deepEqual(await problems(t, ini), [
    [2, 18, 'db1.ansible_port', 'expected a port number, got "abc"'],
    [3, 18, 'db2.ansible_host', '"db_2" is not a DNS name or an IP address'],
    [3, 34, 'db2.dbtls_sans', '"bad san" is not a DNS name or an IP address'],
    [4, 16, 'db3.dbtls_dest', 'contains ";"; only letters, digits and / . _ + - are allowed'],
    [4, 50, 'db3.dbtls_transport', '"rsh" is not a transport; use ssh or local'],
    [5, 17, 'db4.dbtls_roles', `unknown role "oracle"; the roles are ${ROLE_LIST}`],
    [9, 14, 'mysql.vars.ansible_port', '99999 must be an integer from 1 to 65535'],
  ]);
});

test('INI: host names that cannot be node names or addresses', async (t) => {
  const ini = `[mysql]
db_1
db_2 ansible_host=10.0.0.12
Admin@db3 ansible_host=10.0.0.13
`;
  assert.deepEqual(await problems(t, ini), [
    [2, 1, 'db_1', '"db_1" is not a DNS name or an IP address; set ansible_host to its address'],
    [
      4,
      1,
      'Admin@db3',
      'inventory hostname "Admin@db3" is not a safe name: start with a letter or digit, then letters, digits, ".", "_" or "-" (no "..", no "/"); it names a directory',
    ],
  ]);
});

test('INI: broken lines are reported with their line and column', async (t) => {
  const ini = `[mysql]
db1 port 2222
db[3:1]

[mysql:vars]
ansible_user

[cluster:children]
mysql tidb

[cluster:hosts]
db9

[bad group]
`;
  assert.deepEqual(await problems(t, ini), [
    [2, 5, 'db1', 'expected key=value after the host name, got "port"'],
    [2, 10, 'db1', 'expected key=value after the host name, got "2222"'],
    [3, 1, 'db[3:1]', 'range [3:1] starts after its end in "db[3:1]"'],
    [6, 1, 'mysql:vars', 'expected key=value, got "ansible_user"'],
    [9, 1, 'cluster:children', 'expected one group name per line, got "mysql tidb"'],
    [11, 10, 'cluster', 'unknown section type ":hosts"; use [cluster:vars] or [cluster:children]'],
    [14, 1, '', '"[bad group]" is not a section header; use [group], [group:vars] or [group:children]'],
  ]);
});

test('INI: a loop of children is reported at the entry that closes it', async (t) => {
  const ini = `[a:children]
b
[b:children]
a
[mysql:children]
a
[b]
db1
`;
  assert.deepEqual(await problems(t, ini), [
    [4, 1, 'b.children.a', 'group "a" cannot be a child of "b": "b" is already inside "a"'],
  ]);
});

test('INI: an inventory without hosts', async (t) => {
  assert.deepEqual(await problems(t, '[mysql]\n# nobody yet\n'), [[1, 1, '', 'the inventory lists no hosts']]);
});

test('INI: hosts that differ only in case are duplicates (their folders would clash)', async (t) => {
  const want: Where[] = [[3, 1, 'DB1', 'duplicate node name "DB1" (first at line 2)']];
  assert.deepEqual(await problems(t, '[mysql]\ndb1\nDB1\n'), want);
});

test('options: a bad --cluster or --role-map is a usage error, not an inventory problem', async (t) => {
  const file = await write(t, '[mysql]\ndb1\n', 'hosts.ini');
  const cases: [LoadOptions, string][] = [
    [{ cluster: 'Prod' }, '--cluster "Prod" must be 1–63 characters of a-z, 0-9 and "-"'],
    [
      { roleMap: { mysql: ['oracle' as 'mysql'] } },
      `--role-map mysql=oracle: unknown role "oracle"; the roles are ${ROLE_LIST}`,
    ],
    [
      { roleMap: { dbs: ['mysql'] } },
      '--role-map dbs=…: the inventory has no group "dbs" (its groups: all, ungrouped, mysql)',
    ],
  ];
  for (const [opts, message] of cases) {
    const err = await loadInventory(file, opts).catch((e: unknown) => e);
    assert.ok(isDbtlsError(err) && !(err instanceof InventoryError), String(err));
    assert.equal(err.kind, 'usage');
    assert.equal(err.message, message);
  }
  assert.equal((await loadInventory(file, { cluster: 'prod-1' })).cluster, 'prod-1');
});

test('INI: dbtls_proxy_jump (all or per host, "none" to opt out) and dbtls_reload; bad values where they are set', async (t) => {
  const ini = `[mysql]
db1 ansible_host=10.0.0.11
db2 ansible_host=10.0.0.12 ansible_user=admin dbtls_reload="systemctl reload mysql"
db3 ansible_host=10.0.0.13 dbtls_proxy_jump=none dbtls_reload=none

[all:vars]
ansible_user=ops
dbtls_proxy_jump=bastion.example.com:2222
`;
  const c = await load(t, ini);
  const nodes = byName(c);
  assert.deepEqual(c.ssh.proxyJump, { user: 'ops', host: 'bastion.example.com', port: 2222 });
  assert.deepEqual(nodes.db1!.ssh.proxyJump, { user: 'ops', host: 'bastion.example.com', port: 2222 });
  assert.deepEqual(nodes.db2!.ssh.proxyJump, { user: 'admin', host: 'bastion.example.com', port: 2222 });
  assert.equal(nodes.db3!.ssh.proxyJump, undefined);
  assert.deepEqual(
    [nodes.db1!.reload, nodes.db2!.reload, nodes.db3!.reload],
    [undefined, 'systemctl reload mysql', 'none'],
  );

  const bad = `[mysql]
db1 ansible_host=10.0.0.11 dbtls_proxy_jump="b;id"
db2 ansible_host=10.0.0.12 dbtls_reload=" "
`;
  assert.deepEqual(await problems(t, bad), [
    [
      2,
      45,
      'db1.dbtls_proxy_jump',
      'contains ";"; a jump host is [user@]host[:port], e.g. "ops@bastion.example.com:2222"',
    ],
    [3, 41, 'db2.dbtls_reload', 'must not be empty; write a command, or "none" for no reload'],
  ]);
});
