import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadInventory, detectFormat } from '../../lib/inventory/load.js';
import { InventoryError, type Problem } from '../../lib/inventory/errors.js';
import { isDbtlsError } from '../../lib/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { repoRoot } from '../helpers/paths.js';
import { ROLES } from '../../lib/inventory/model.js';

const ROLE_LIST = ROLES.join(', ');

type Where = [line: number, column: number, field: string, message: string];

async function write(t: Parameters<typeof tempDir>[0], text: string, name = 'inventory.yml'): Promise<string> {
  const file = join(await tempDir(t), name);
  await writeFile(file, text);
  return file;
}

/** Every problem of a bad inventory as [line, column, field, message]; also checks the file name on each. */
async function problems(t: Parameters<typeof tempDir>[0], text: string, name?: string): Promise<Where[]> {
  const file = await write(t, text, name);
  const err = await loadInventory(file).then(
    () => assert.fail('the inventory loaded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof InventoryError, String(err));
  assert.equal(err.kind, 'input');
  assert.equal(err.exitCode, 2);
  for (const p of err.problems) assert.equal(p.file, file);
  return err.problems.map((p: Problem) => [p.line, p.column, p.field, p.message]);
}

const NODE = `cluster: demo
nodes:
  - name: db1
    host: 10.0.0.11
    roles: [mysql]
`;

const TOP_KEYS = 'cluster, pki, subject, ca, leaf, ssh, nodes, clients';

// One bad thing per inventory: the exact place and message.
const CASES: { name: string; yaml: string; want: Where[] }[] = [
  {
    name: 'unknown top-level key',
    yaml: NODE + 'colour: blue\n',
    want: [[6, 1, 'colour', `unknown key "colour"; expected one of ${TOP_KEYS}`]],
  },
  {
    name: 'misspelt key gets a suggestion, and the real one is then missing',
    yaml: 'cluster: demo\nnode:\n  - name: db1\n',
    want: [
      [1, 1, 'nodes', 'is required'],
      [2, 1, 'node', 'unknown key "node" (did you mean "nodes"?)'],
    ],
  },
  {
    name: 'a key in the wrong case gets a suggestion',
    yaml: NODE.replace('    host:', '    Host:'),
    want: [
      [3, 5, 'nodes[0].host', 'is required'],
      [4, 5, 'nodes[0].Host', 'unknown key "Host" (did you mean "host"?)'],
    ],
  },
  {
    name: 'cluster name with capitals and underscore',
    yaml: NODE.replace('cluster: demo', 'cluster: My_Cluster'),
    want: [[1, 10, 'cluster', '"My_Cluster" must be 1–63 characters of a-z, 0-9 and "-"']],
  },
  {
    name: 'cluster missing',
    yaml: NODE.replace('cluster: demo\n', ''),
    want: [[1, 1, 'cluster', 'is required']],
  },
  {
    name: 'cluster present but empty: the key is pointed at',
    yaml: NODE.replace('cluster: demo', 'cluster:'),
    want: [[1, 1, 'cluster', 'is required but empty']],
  },
  {
    name: 'a number where a string belongs',
    yaml: NODE.replace('cluster: demo', 'cluster: 42'),
    want: [[1, 10, 'cluster', 'expected a string, got 42 (quote it: "42")']],
  },
  {
    name: 'no nodes',
    yaml: 'cluster: demo\nnodes: []\n',
    want: [[2, 8, 'nodes', 'must list at least 1 node']],
  },
  {
    name: 'nodes as a mapping',
    yaml: 'cluster: demo\nnodes:\n  db1: { host: 10.0.0.11 }\n',
    want: [[3, 3, 'nodes', 'expected a list, got a mapping']],
  },
  {
    name: 'an empty list item',
    yaml: NODE + '  -\n',
    want: [[6, 4, 'nodes[1]', 'expected a mapping, got an empty value']],
  },
  {
    name: 'node without host',
    yaml: 'cluster: demo\nnodes:\n  - name: db1\n    roles: [mysql]\n',
    want: [[3, 5, 'nodes[0].host', 'is required']],
  },
  {
    name: 'node without name or roles',
    yaml: 'cluster: demo\nnodes:\n  - host: db1.example.com\n',
    want: [
      [3, 5, 'nodes[0].name', 'is required'],
      [3, 5, 'nodes[0].roles', 'is required'],
    ],
  },
  {
    name: 'host that is neither a DNS name nor an IP',
    yaml: NODE.replace('host: 10.0.0.11', 'host: db_1.example.com'),
    want: [[4, 11, 'nodes[0].host', '"db_1.example.com" is not a DNS name or an IP address']],
  },
  {
    name: 'host with an impossible IPv4 address',
    yaml: NODE.replace('host: 10.0.0.11', 'host: 10.0.0.256'),
    want: [[4, 11, 'nodes[0].host', '"10.0.0.256" is not a DNS name or an IP address']],
  },
  {
    name: 'host as a wildcard',
    yaml: NODE.replace('host: 10.0.0.11', 'host: "*.example.com"'),
    want: [[4, 11, 'nodes[0].host', '"*.example.com" is not a DNS name or an IP address']],
  },
  {
    name: 'invalid SAN, the second of three',
    yaml: NODE + '    sans: [db1.example.com, "db 1", 10.0.0.11]\n',
    want: [[6, 29, 'nodes[0].sans[1]', '"db 1" is not a DNS name or an IP address']],
  },
  {
    name: 'SANs as a string',
    yaml: NODE + '    sans: db1.example.com\n',
    want: [[6, 11, 'nodes[0].sans', 'expected a list, got the string "db1.example.com"']],
  },
  {
    name: 'unknown role',
    yaml: NODE.replace('roles: [mysql]', 'roles: [mysql, postgres]'),
    want: [[5, 20, 'nodes[0].roles[1]', `unknown role "postgres"; the roles are ${ROLE_LIST}`]],
  },
  {
    name: 'empty roles list',
    yaml: NODE.replace('roles: [mysql]', 'roles: []'),
    want: [[5, 12, 'nodes[0].roles', 'must list at least 1 role']],
  },
  {
    name: 'roles as a string',
    yaml: NODE.replace('roles: [mysql]', 'roles: mysql'),
    want: [[5, 12, 'nodes[0].roles', 'expected a list, got the string "mysql"']],
  },
  {
    name: 'roles in block style, the bad one on its own line',
    yaml: 'cluster: demo\nnodes:\n  - name: db1\n    host: 10.0.0.11\n    roles:\n      - mysql\n      - MySQL\n',
    want: [[7, 9, 'nodes[0].roles[1]', `unknown role "MySQL"; the roles are ${ROLE_LIST}`]],
  },
  {
    name: 'dest not absolute',
    yaml: NODE + '    dest: etc/mysql/ssl\n',
    want: [[6, 11, 'nodes[0].dest', '"etc/mysql/ssl" is not an absolute path (start it with "/")']],
  },
  {
    name: 'dest with a ".." segment',
    yaml: NODE + '    dest: /etc/mysql/../../root\n',
    want: [[6, 11, 'nodes[0].dest', '"/etc/mysql/../../root" must not contain ".." segments']],
  },
  {
    name: 'dest with a newline',
    yaml: NODE + '    dest: "/etc/mysql\\nssl"\n',
    want: [[6, 11, 'nodes[0].dest', 'must not contain a newline']],
  },
  {
    name: 'dest with a shell metacharacter',
    yaml: NODE + '    dest: "/etc/mysql;rm -rf /"\n',
    want: [[6, 11, 'nodes[0].dest', 'contains ";"; only letters, digits and / . _ + - are allowed']],
  },
  {
    name: 'dest with a space',
    yaml: NODE + '    dest: /etc/my sql\n',
    want: [[6, 11, 'nodes[0].dest', 'contains a space; only letters, digits and / . _ + - are allowed']],
  },
  {
    name: 'dest with a dollar sign',
    yaml: NODE + '    dest: /etc/$HOME\n',
    want: [[6, 11, 'nodes[0].dest', 'contains "$"; only letters, digits and / . _ + - are allowed']],
  },
  {
    name: 'dest with a backquote',
    yaml: NODE + '    dest: "/etc/`id`"\n',
    want: [[6, 11, 'nodes[0].dest', 'contains a backquote; only letters, digits and / . _ + - are allowed']],
  },
  {
    name: 'unknown transport',
    yaml: NODE + '    transport: scp\n',
    want: [[6, 16, 'nodes[0].transport', '"scp" is not a transport; use ssh or local']],
  },
  {
    name: 'cluster ssh port out of range',
    yaml: NODE + 'ssh: { port: 70000 }\n',
    want: [[6, 14, 'ssh.port', '70000 must be an integer from 1 to 65535']],
  },
  {
    name: 'ssh port as a string',
    yaml: NODE + 'ssh: { port: "22" }\n',
    want: [[6, 14, 'ssh.port', 'expected an integer, got the string "22"']],
  },
  {
    name: 'node ssh override with a misspelt key',
    yaml: NODE + '    ssh: { prot: 2222 }\n',
    want: [[6, 12, 'nodes[0].ssh.prot', 'unknown key "prot" (did you mean "port"?)']],
  },
  {
    name: 'node ssh port zero',
    yaml: NODE + '    ssh:\n      port: 0\n',
    want: [[7, 13, 'nodes[0].ssh.port', '0 must be an integer from 1 to 65535']],
  },
  {
    name: 'ssh user with a space',
    yaml: NODE + 'ssh: { user: "db admin" }\n',
    want: [[6, 14, 'ssh.user', '"db admin" is not a user name (it is empty or holds spaces or control characters)']],
  },
  {
    name: 'identityFile not a string',
    yaml: NODE + 'ssh: { identityFile: [a, b] }\n',
    want: [[6, 22, 'ssh.identityFile', 'expected a string, got a list']],
  },
  {
    name: 'ca days zero',
    yaml: NODE + 'ca: { days: 0 }\n',
    want: [[6, 13, 'ca.days', '0 must be an integer from 1 to 36500']],
  },
  {
    name: 'leaf days too large',
    yaml: NODE + 'leaf:\n  days: 36501\n',
    want: [[7, 9, 'leaf.days', '36501 must be an integer from 1 to 36500']],
  },
  {
    name: 'leaf days not whole',
    yaml: NODE + 'leaf: { days: 90.5 }\n',
    want: [[6, 15, 'leaf.days', '90.5 must be an integer from 1 to 36500']],
  },
  {
    name: 'unsupported key size',
    yaml: NODE + 'ca: { keySize: 1024 }\n',
    want: [[6, 16, 'ca.keySize', '1024 is not a supported RSA key size; use 2048, 3072, 4096']],
  },
  {
    name: 'leaf keySize as a string',
    yaml: NODE + 'leaf: { keySize: "4096" }\n',
    want: [[6, 18, 'leaf.keySize', 'expected an integer, got the string "4096"']],
  },
  {
    name: 'YAML 1.1 "yes" is not a boolean',
    yaml: NODE + 'leaf: { localhost: yes }\n',
    want: [[6, 20, 'leaf.localhost', 'expected true or false, got the string "yes"']],
  },
  {
    name: 'node localhost as a number',
    yaml: NODE + '    localhost: 1\n',
    want: [[6, 16, 'nodes[0].localhost', 'expected true or false, got 1']],
  },
  {
    name: 'pki as a number',
    yaml: NODE + 'pki: 7\n',
    want: [[6, 6, 'pki', 'expected a string, got 7 (quote it: "7")']],
  },
  {
    name: 'country with three letters',
    yaml: NODE + 'subject: { C: DEU, O: Example }\n',
    want: [[6, 15, 'subject.C', '"DEU" must be a 2-letter country code, like "DE"']],
  },
  {
    name: 'CN is not a subject field (it comes from the names)',
    yaml: NODE + 'subject:\n  CN: demo\n',
    want: [[7, 3, 'subject.CN', 'unknown key "CN"; expected one of C, ST, L, O, OU']],
  },
  {
    name: 'organisation longer than X.509 allows',
    yaml: NODE + `subject: { O: ${'x'.repeat(65)} }\n`,
    want: [[6, 15, 'subject.O', 'is longer than 64 characters']],
  },
  {
    name: 'CA commonName longer than 64 characters',
    yaml: NODE + `ca: { commonName: ${'c'.repeat(65)} }\n`,
    want: [[6, 19, 'ca.commonName', `"${'c'.repeat(65)}" is longer than 64 characters`]],
  },
  {
    name: 'duplicate node names, compared without case',
    yaml: NODE + '  - name: DB1\n    host: 10.0.0.12\n    roles: [mysql]\n',
    want: [[6, 11, 'nodes[1].name', 'duplicate node name "DB1" (first at line 3)']],
  },
  {
    name: 'duplicate client names',
    yaml: NODE + 'clients:\n  - name: app\n  - { name: app, commonName: other }\n',
    want: [[8, 13, 'clients[1].name', 'duplicate client name "app" (first at line 7)']],
  },
  {
    name: 'node name with a path separator',
    yaml: NODE.replace('name: db1', 'name: db/1'),
    want: [
      [
        3,
        11,
        'nodes[0].name',
        '"db/1" is not a safe name: start with a letter or digit, then letters, digits, ".", "_" or "-" (no "..", no "/"); it names a directory',
      ],
    ],
  },
  {
    name: 'node name that climbs out of the PKI folder',
    yaml: NODE.replace('name: db1', 'name: ../etc'),
    want: [
      [
        3,
        11,
        'nodes[0].name',
        '"../etc" is not a safe name: start with a letter or digit, then letters, digits, ".", "_" or "-" (no "..", no "/"); it names a directory',
      ],
    ],
  },
  {
    name: 'client name starting with a dot',
    yaml: NODE + 'clients:\n  - name: .hidden\n',
    want: [
      [
        7,
        11,
        'clients[0].name',
        '".hidden" is not a safe name: start with a letter or digit, then letters, digits, ".", "_" or "-" (no "..", no "/"); it names a directory',
      ],
    ],
  },
  {
    name: 'client CN equal to the default CA CN',
    yaml: NODE + 'clients:\n  - name: app\n    commonName: Demo CA\n',
    want: [
      [
        8,
        17,
        'clients[0].commonName',
        "equals the CA's commonName \"demo CA\"; a certificate's CN must differ from its CA's",
      ],
    ],
  },
  {
    name: 'client named like a custom CA CN',
    yaml: NODE + 'ca: { commonName: app }\nclients:\n  - name: app\n',
    want: [
      [8, 11, 'clients[0].name', "equals the CA's commonName \"app\"; a certificate's CN must differ from its CA's"],
    ],
  },
  {
    name: 'node named like the CA CN',
    yaml: NODE + 'ca: { commonName: db1 }\n',
    want: [
      [3, 11, 'nodes[0].name', "equals the CA's commonName \"db1\"; a certificate's CN must differ from its CA's"],
    ],
  },
  {
    name: 'client with an unknown key',
    yaml: NODE + 'clients:\n  - name: app\n    cn: app\n',
    want: [[8, 5, 'clients[0].cn', 'unknown key "cn"; expected one of name, commonName, keystore, connectTo']],
  },
  {
    name: 'the same key twice',
    yaml: NODE + 'cluster: other\n',
    want: [[6, 1, 'cluster', 'duplicate key "cluster"']],
  },
  {
    name: 'YAML syntax error: tab indentation',
    yaml: 'cluster: demo\nnodes:\n\t- name: db1\n',
    want: [[3, 1, '', 'invalid YAML: Tabs are not allowed as indentation']],
  },
  {
    name: 'YAML syntax error: unclosed flow sequence',
    yaml: NODE.replace('roles: [mysql]', 'roles: [mysql') + 'clients: []\n',
    want: [
      [6, 1, '', 'invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ],
  },
  {
    name: 'an alias without an anchor',
    yaml: NODE + 'ssh: *defaults\n',
    want: [[6, 6, 'ssh', 'unknown alias *defaults']],
  },
  {
    name: 'a list at the top',
    yaml: '- cluster: demo\n',
    want: [[1, 1, '', `expected a mapping of inventory keys (${TOP_KEYS}), got a list`]],
  },
  {
    name: 'replicaOf names no node, itself, or a node that does not replicate',
    yaml:
      NODE +
      '    replicaOf: db9\n  - { name: db2, host: 10.0.0.12, roles: [mysql], replicaOf: db2 }\n  - { name: t1, host: 10.0.0.31, roles: [tidb] }\n  - { name: db3, host: 10.0.0.13, roles: [mysql], replicaOf: t1 }\n',
    want: [
      [6, 16, 'nodes[0].replicaOf', 'no node named "db9"'],
      [7, 62, 'nodes[1].replicaOf', 'a node cannot replicate from itself'],
      [9, 62, 'nodes[3].replicaOf', 'replication needs a mysql, mariadb or percona role on both nodes'],
    ],
  },
  {
    name: 'a bad port, version and connectTo',
    yaml: NODE + '    port: 70000\n    version: eight\nclients:\n  - { name: app, connectTo: db9 }\n',
    want: [
      [6, 11, 'nodes[0].port', '70000 must be an integer from 1 to 65535'],
      [7, 14, 'nodes[0].version', '"eight" is not a version like "8.0.36"'],
      [9, 29, 'clients[0].connectTo', 'no node named "db9"'],
    ],
  },
  {
    name: 'an empty file',
    yaml: '# nothing yet\n',
    want: [
      [1, 1, 'cluster', 'is required'],
      [1, 1, 'nodes', 'is required'],
    ],
  },
];

for (const c of CASES) {
  test(`bad inventory: ${c.name}`, async (t) => {
    assert.deepEqual(await problems(t, c.yaml), c.want);
  });
}

test('every problem of a file is reported at once, in file order, and described one per line', async (t) => {
  const yaml = `cluster: Demo
ca: { days: -1 }
nodes:
  - name: db1
    host: 10.0.0.11
    roles: [mysql, oracle]
    dest: tmp/ssl
  - name: db1
    host: "db 2"
    roles: [mariadb]
    sans: [ok.example.com, -bad-]
  - name: db3
    hots: 10.0.0.13
    roles: [tidb]
clients:
  - name: app
  - name: app
`;
  const file = await write(t, yaml);
  const err = await loadInventory(file).catch((e: unknown) => e);
  assert.ok(err instanceof InventoryError);
  const want: Where[] = [
    [1, 10, 'cluster', '"Demo" must be 1–63 characters of a-z, 0-9 and "-"'],
    [2, 13, 'ca.days', '-1 must be an integer from 1 to 36500'],
    [6, 20, 'nodes[0].roles[1]', `unknown role "oracle"; the roles are ${ROLE_LIST}`],
    [7, 11, 'nodes[0].dest', '"tmp/ssl" is not an absolute path (start it with "/")'],
    [8, 11, 'nodes[1].name', 'duplicate node name "db1" (first at line 4)'],
    [9, 11, 'nodes[1].host', '"db 2" is not a DNS name or an IP address'],
    [11, 28, 'nodes[1].sans[1]', '"-bad-" is not a DNS name or an IP address'],
    [12, 5, 'nodes[2].host', 'is required'],
    [13, 5, 'nodes[2].hots', 'unknown key "hots" (did you mean "host"?)'],
    [17, 11, 'clients[1].name', 'duplicate client name "app" (first at line 16)'],
  ];
  assert.deepEqual(
    err.problems.map((p) => [p.line, p.column, p.field, p.message]),
    want,
  );
  const lines = err.describe().split('\n');
  assert.equal(lines.length, want.length);
  assert.equal(lines[0], `${file}:1:10: cluster: "Demo" must be 1–63 characters of a-z, 0-9 and "-"`);
  assert.equal(lines[7], `${file}:12:5: nodes[2].host: is required`);
  assert.equal(err.message, err.describe());
  assert.deepEqual(err.location, { file, line: 1, column: 10, field: 'cluster' });
  assert.equal(err.code, 'bad-inventory');
});

test('a syntax error stops there: the half-read document is not checked further', async (t) => {
  const want: Where[] = [[2, 1, '', 'invalid YAML: Tabs are not allowed as indentation']];
  assert.deepEqual(await problems(t, 'cluster: Bad_Name\n\tnodes: []\n'), want);
});

test('a missing file is an input error naming the file', async (t) => {
  const file = join(await tempDir(t), 'nope.yml');
  const err = await loadInventory(file).catch((e: unknown) => e);
  assert.ok(isDbtlsError(err));
  assert.equal(err.code, 'inventory-unreadable');
  assert.equal(err.exitCode, 2);
  assert.equal(err.describe(), `${file}: cannot read the inventory: no such file`);
});

test('problems name the file as it was given, relative or not', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'inv.yml'), 'cluster: demo\n');
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  const err = await loadInventory('inv.yml').catch((e: unknown) => e);
  assert.ok(err instanceof InventoryError);
  assert.equal(err.describe(), 'inv.yml:1:1: nodes: is required');
});

test('defaults: pki next to the file, CA CN, validity, key sizes, ssh, transport, localhost, client CN', async (t) => {
  const file = await write(t, NODE + 'clients:\n  - name: app\n');
  const c = await loadInventory(file);
  assert.deepEqual(c, {
    cluster: 'demo',
    file,
    pki: join(resolve(file, '..'), 'pki', 'demo'),
    subject: {},
    ca: { commonName: 'demo CA', days: 3650, keyType: 'rsa2048' },
    leaf: { days: 825, keyType: 'rsa2048', localhost: false },
    ssh: { user: 'root', port: 22 },
    nodes: [
      {
        name: 'db1',
        host: '10.0.0.11',
        roles: ['mysql'],
        sans: [],
        localhost: false,
        port: 3306,
        adminPort: 6032,
        keyType: 'rsa2048',
        transport: 'ssh',
        ssh: { user: 'root', port: 22 },
      },
    ],
    clients: [{ name: 'app', commonName: 'app' }],
  });
});

test('settings: node ssh merges over the cluster ssh, paths expand "~/" and resolve next to the file', async (t) => {
  const yaml = `cluster: lab-1
pki: ../certs
leaf: { localhost: true, days: 90, keySize: 3072 }
ssh: { user: deploy, identityFile: ~/.ssh/id_ed25519, knownHostsFile: keys/known_hosts }
nodes:
  - name: db1
    host: db1.example.com
    roles: [tungsten, mysql, mysql]
    ssh: { port: 2222, user: admin }
    localhost: false
    transport: local
    dest: /etc/mysql/ssl/
  - { name: db2, host: "::1", roles: [mariadb], sans: ["IP:10.0.0.12", "DNS:db2.internal"] }
`;
  const file = await write(t, yaml);
  const dir = resolve(file, '..');
  const c = await loadInventory(file);
  assert.equal(c.pki, resolve(dir, '../certs'));
  assert.deepEqual(c.leaf, { days: 90, keyType: 'rsa3072', localhost: true });
  const ssh = {
    user: 'deploy',
    port: 22,
    identityFile: join(homedir(), '.ssh/id_ed25519'),
    knownHostsFile: join(dir, 'keys/known_hosts'),
  };
  assert.deepEqual(c.ssh, ssh);
  assert.deepEqual(c.nodes[0], {
    name: 'db1',
    host: 'db1.example.com',
    roles: ['mysql', 'tungsten'],
    sans: [],
    localhost: false,
    port: 3306,
    adminPort: 6032,
    keyType: 'rsa3072',
    transport: 'local',
    ssh: { ...ssh, port: 2222, user: 'admin' },
    dest: '/etc/mysql/ssl/',
  });
  assert.equal(c.nodes[1]!.localhost, true);
  assert.deepEqual(c.nodes[1]!.sans, ['IP:10.0.0.12', 'DNS:db2.internal']);
  assert.equal(c.nodes[1]!.host, '::1');
});

test('a client may be named like a node; anchors and aliases work', async (t) => {
  const yaml = `cluster: demo
ssh: &ssh { user: ops }
nodes:
  - { name: db1, host: 10.0.0.11, roles: [mysql], ssh: *ssh }
clients:
  - name: db1
`;
  const c = await loadInventory(await write(t, yaml));
  assert.deepEqual(c.clients, [{ name: 'db1', commonName: 'db1' }]);
  assert.equal(c.nodes[0]!.ssh.user, 'ops');
});

test('the example inventory loads: 8 nodes, their roles and SANs, two clients, pki under out/', async () => {
  const c = await loadInventory(join(repoRoot, 'inventories/example.yml'));
  assert.equal(c.cluster, 'demo');
  assert.equal(c.pki, join(repoRoot, 'out/pki'));
  assert.deepEqual(
    c.nodes.map((n) => n.name),
    ['db1', 'db2', 'db3', 'db4', 'db5', 'db6', 'proxy1', 'tidb1'],
  );
  for (const [i, n] of c.nodes.slice(0, 6).entries()) {
    assert.deepEqual(n.roles, ['mysql', 'tungsten']);
    assert.equal(n.host, `10.0.0.${11 + i}`);
    assert.deepEqual(n.sans, [`db${i + 1}.example.com`]);
  }
  assert.deepEqual(c.nodes[6]!.roles, ['proxysql']);
  assert.deepEqual(c.nodes[7]!.roles, ['tidb']);
  assert.ok(c.nodes.every((n) => n.transport === 'local' && n.dest === undefined));
  assert.deepEqual(c.clients, [
    { name: 'app', commonName: 'app' },
    { name: 'repl', commonName: 'replication' },
  ]);
  assert.deepEqual(c.subject, { C: 'DE', O: 'Example', OU: 'Databases' });
  assert.equal(c.ca.commonName, 'demo CA');
});

test('format detection looks at the content, not only the extension', () => {
  assert.equal(detectFormat(NODE, 'inventory.txt'), 'dbtls');
  assert.equal(detectFormat('all:\n  hosts:\n    db1:\n', 'hosts'), 'ansible-yaml');
  assert.equal(detectFormat('mysql:\n  hosts:\n    db1:\ntidb:\n', 'inv.yml'), 'ansible-yaml');
  assert.equal(detectFormat('[mysql]\ndb1 ansible_host=10.0.0.11\n', 'hosts.yml'), 'ansible-ini');
  assert.equal(detectFormat('db1\ndb2\n', 'hosts'), 'ansible-ini');
  assert.equal(detectFormat('[mysql]\n', 'hosts.ini'), 'ansible-ini');
  assert.equal(detectFormat('cluster: [oops\n', 'inv.yaml'), 'dbtls');
  assert.equal(detectFormat('', 'inventory.yml'), 'dbtls');
  assert.equal(detectFormat('pki: ./x\n', 'inventory'), 'dbtls');
});

// ---- ssh.proxyJump and reload ----

test('ssh.proxyJump: [user@]host[:port] at cluster and node level; the user defaults to the ssh user; "none" opts a node out', async (t) => {
  const yaml = `cluster: demo
ssh: { user: deploy, proxyJump: bastion.example.com }
nodes:
  - { name: db1, host: 10.0.0.11, roles: [mysql] }
  - { name: db2, host: 10.0.0.12, roles: [mysql], ssh: { user: admin } }
  - { name: db3, host: 10.0.0.13, roles: [mysql], ssh: { proxyJump: "ops@[2001:db8::1]:2222" } }
  - { name: db4, host: 10.0.0.14, roles: [mysql], ssh: { proxyJump: none } }
  - { name: db5, host: 10.0.0.15, roles: [mysql], ssh: { proxyJump: "jump@10.9.9.9:22" } }
`;
  const c = await loadInventory(await write(t, yaml));
  assert.deepEqual(c.ssh.proxyJump, { user: 'deploy', host: 'bastion.example.com', port: 22 });
  const jumps = c.nodes.map((n) => n.ssh.proxyJump);
  assert.deepEqual(jumps, [
    { user: 'deploy', host: 'bastion.example.com', port: 22 },
    { user: 'admin', host: 'bastion.example.com', port: 22 },
    { user: 'ops', host: '2001:db8::1', port: 2222 },
    undefined,
    { user: 'jump', host: '10.9.9.9', port: 22 },
  ]);
  assert.equal('proxyJump' in c.nodes[3]!.ssh, false);
});

const JUMP_FORM = 'a jump host is [user@]host[:port], e.g. "ops@bastion.example.com:2222"';

test('ssh.proxyJump: bad and hostile values are refused at their file:line:col', async (t) => {
  const cases: Array<[value: string, message: string]> = [
    ['"root@bastion;id"', `contains ";"; ${JUMP_FORM}`],
    ['"$(id)@bastion"', `contains "$"; ${JUMP_FORM}`],
    ['"bastion`id`"', `contains a backquote; ${JUMP_FORM}`],
    ['"bastion -oProxyCommand=sh"', `contains a space; ${JUMP_FORM}`],
    ['"bastion\\nid"', 'must not contain a newline'],
    ['"bastion\\tx"', `contains a tab; ${JUMP_FORM}`],
    [
      '"a.example.com,b.example.com"',
      `"a.example.com,b.example.com" lists more than one hop; dbtls goes through one bastion (${JUMP_FORM})`,
    ],
    ['"ssh://bastion"', `"ssh://bastion": write it without "ssh://"; ${JUMP_FORM}`],
    ['"bastion:0"', `"0" is not a port (1–65535); ${JUMP_FORM}`],
    ['"bastion:70000"', `"70000" is not a port (1–65535); ${JUMP_FORM}`],
    ['"2001:db8::1"', '"2001:db8::1": put an IPv6 address in brackets, like "[2001:db8::1]:22"'],
    ['"[bastion]:22"', '"[bastion]:22" is not a bracketed IPv6 address like "[2001:db8::1]:22"'],
    ['"ops@"', `the host is missing; ${JUMP_FORM}`],
    ['"@bastion"', `"" is not a user name for the bastion (letters, digits, ".", "_", "-"; no "@"); ${JUMP_FORM}`],
    ['"-x@bastion"', `"-x" is not a user name for the bastion (letters, digits, ".", "_", "-"; no "@"); ${JUMP_FORM}`],
    ['"bast_ion"', `"bast_ion" is not a DNS name or an IP address; ${JUMP_FORM}`],
    ['""', `must not be empty; ${JUMP_FORM}`],
  ];
  for (const [value, message] of cases) {
    // At node level: the value's position on line 6.
    const yaml = `${NODE}    ssh:\n      proxyJump: ${value}\n`;
    assert.deepEqual(await problems(t, yaml), [[7, 18, 'nodes[0].ssh.proxyJump', message]], value);
  }
  // Cluster level, and a number is not a jump host.
  assert.deepEqual(
    await problems(
      t,
      `cluster: demo\nssh: { proxyJump: "b;reboot" }\nnodes:\n  - { name: db1, host: 10.0.0.11, roles: [mysql] }\n`,
    ),
    [[2, 19, 'ssh.proxyJump', `contains ";"; ${JUMP_FORM}`]],
  );
  assert.deepEqual(await problems(t, `${NODE}    ssh: { proxyJump: 22 }\n`), [
    [6, 23, 'nodes[0].ssh.proxyJump', 'expected a string, got 22 (quote it: "22")'],
  ]);
});

test('reload: a one-line shell command or none; undefined when absent', async (t) => {
  const yaml = `cluster: demo
nodes:
  - { name: db1, host: 10.0.0.11, roles: [mysql], reload: "systemctl reload mysql && mysql -e 'ALTER INSTANCE RELOAD TLS'" }
  - { name: db2, host: 10.0.0.12, roles: [proxysql], reload: none }
  - { name: db3, host: 10.0.0.13, roles: [mariadb] }
  - name: db4
    host: 10.0.0.14
    roles: [tungsten]
    reload: kill -HUP $(cat /run/tungsten.pid); echo "done" > /tmp/x
`;
  const c = await loadInventory(await write(t, yaml));
  assert.deepEqual(
    c.nodes.map((n) => n.reload),
    [
      "systemctl reload mysql && mysql -e 'ALTER INSTANCE RELOAD TLS'",
      'none',
      undefined,
      'kill -HUP $(cat /run/tungsten.pid); echo "done" > /tmp/x',
    ],
  );
  assert.equal('reload' in c.nodes[2]!, false);
});

test('reload: empty, multi-line or control characters are refused at their file:line:col', async (t) => {
  const cases: Array<[value: string, line: number, col: number, message: string]> = [
    ['""', 6, 13, 'must not be empty; write a command, or "none" for no reload'],
    ['"   "', 6, 13, 'must not be empty; write a command, or "none" for no reload'],
    [
      '"systemctl reload mysql\\nreboot"',
      6,
      13,
      'must be a single line (no newline); chain commands with "&&" or ";" on one line',
    ],
    [
      '|\n      systemctl reload mysql\n      reboot',
      6,
      13,
      'must be a single line (no newline); chain commands with "&&" or ";" on one line',
    ],
    ['"a\\0b"', 6, 13, 'contains the control character U+0000; a reload command is one line of printable text'],
    ['"a\\tb"', 6, 13, 'contains a tab; a reload command is one line of printable text'],
    ['"a\\eb"', 6, 13, 'contains the control character U+001B; a reload command is one line of printable text'],
    ['[systemctl, reload]', 6, 13, 'expected a string, got a list'],
  ];
  for (const [value, line, col, message] of cases) {
    assert.deepEqual(
      await problems(t, `${NODE}    reload: ${value}\n`),
      [[line, col, 'nodes[0].reload', message]],
      value,
    );
  }
  // Empty value: the key is pointed at, and it is simply absent (the role's default).
  const c = await loadInventory(await write(t, `${NODE}    reload:\n`));
  assert.equal(c.nodes[0]!.reload, undefined);
});
