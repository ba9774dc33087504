// The Galera/PXC role without a cluster: galera.cnf read back by the real option-file reader
// (my_print_defaults: the mysys code mariadbd and the SST scripts use), the one merged
// wsrep_provider_options line, [sst] per flavour, the inventory's Galera rules (one-line errors with
// line and field). The reload each flavour gets is in test/reload/commands.test.ts. The real cluster is test/e2e/galera-rotate.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { issuedPki } from '../helpers/issued-pki.js';
import { fileScope } from '../helpers/scope.js';
import { tempDir } from '../helpers/tmp.js';
import { which } from '../helpers/which.js';
import { loadInventory } from '../../lib/inventory/load.js';

const scope = fileScope();

const nodes = (dir: string) => [
  {
    name: 'g1',
    host: '10.0.0.1',
    roles: ['mariadb', 'galera'],
    dest: join(dir, 'g1'),
    galera: { providerOptions: 'gmcast.listen_addr=tcp://10.0.0.1:4567; gcache.size=1G;evs.keepalive_period=PT1S' },
  },
  { name: 'g2', host: '10.0.0.2', roles: ['mariadb', 'galera'], dest: join(dir, 'g2'), galera: { sst: 'mariabackup' } },
  { name: 'p1', host: '10.0.0.3', roles: ['percona', 'pxc'], dest: join(dir, 'p1') },
  { name: 'w1', host: '10.0.0.4', roles: ['mysql', 'galera'], dest: join(dir, 'w1') },
];
const issued = issuedPki(scope, (dir) => ({ cluster: 'gal', nodes: nodes(dir) }));

async function groups(file: string, ...names: string[]): Promise<string[]> {
  const tool = await which('my_print_defaults', ['/usr/bin', '/usr/local/bin']);
  assert.ok(tool, 'my_print_defaults not found');
  const r = await run(tool, [`--defaults-file=${file}`, ...names]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean);
}

test('galera.cnf: one wsrep_provider_options line, the inventory options first, then the node files; [sst] per flavour', async (t) => {
  const c = await issued(t);
  const r = await dbtls(['render', '-i', c.inv]);
  assert.equal(r.code, 0, r.stderr);
  const out = join(c.pki, 'rendered');
  const d = (n: string, f: string) => join(c.dir, n, f);

  // MariaDB reads [galera] among the server's groups (what --mysqld prints is what mariadbd reads).
  const g1 = await groups(join(out, 'g1', 'galera.cnf'), '--mysqld');
  assert.deepEqual(g1, [
    `--wsrep_provider_options=gmcast.listen_addr=tcp://10.0.0.1:4567;gcache.size=1G;evs.keepalive_period=PT1S;socket.ssl_cert=${d('g1', 'server-cert.pem')};socket.ssl_key=${d('g1', 'server-key.pem')};socket.ssl_ca=${d('g1', 'ca.pem')}`,
  ]);
  const sst = [
    '--ssl-mode=VERIFY_CA',
    `--ssl-ca=${d('g1', 'ca.pem')}`,
    `--ssl-cert=${d('g1', 'server-cert.pem')}`,
    `--ssl-key=${d('g1', 'server-key.pem')}`,
  ];
  assert.deepEqual(await groups(join(out, 'g1', 'galera.cnf'), 'sst'), sst);
  const g1Text = await run('cat', [join(out, 'g1', 'galera.cnf')]);
  assert.match(g1Text.stdout, /stunnel/, 'rsync SST: the header says stunnel is needed');
  assert.match((await run('cat', [join(out, 'g2', 'galera.cnf')])).stdout, /socat/, 'mariabackup: socat');
  assert.equal((await groups(join(out, 'g2', 'galera.cnf'), '--mysqld')).length, 1);

  // PXC: the switch and encrypt=4 with the files; MySQL-wsrep: the provider line and no [sst] TLS.
  assert.deepEqual(await groups(join(out, 'p1', 'galera.cnf'), 'mysqld'), [
    '--pxc-encrypt-cluster-traffic=ON',
    `--wsrep_provider_options=socket.ssl_cert=${d('p1', 'server-cert.pem')};socket.ssl_key=${d('p1', 'server-key.pem')};socket.ssl_ca=${d('p1', 'ca.pem')}`,
  ]);
  assert.deepEqual(await groups(join(out, 'p1', 'galera.cnf'), 'sst'), [
    '--encrypt=4',
    `--ssl-ca=${d('p1', 'ca.pem')}`,
    `--ssl-cert=${d('p1', 'server-cert.pem')}`,
    `--ssl-key=${d('p1', 'server-key.pem')}`,
  ]);
  assert.equal((await groups(join(out, 'w1', 'galera.cnf'), 'mysqld')).length, 1);
  assert.deepEqual(await groups(join(out, 'w1', 'galera.cnf'), 'sst'), []);

  const again = await dbtls(['render', '-i', c.inv, '--check']);
  assert.equal(again.code, 0, 'a re-render changes nothing');
});

test('inventory: Galera roles and settings that do not fit are refused with line, field and why', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string, RegExp]> = [
    ['roles: [galera]', /nodes\[0\]\.roles: galera needs the server it runs in too/],
    ['roles: [mariadb, galera, pxc]', /nodes\[0\]\.roles: a node is galera or pxc, not both/],
    ['roles: [pxc]', /nodes\[0\]\.roles: pxc needs the percona role too/],
    [
      'roles: [percona, pxc], groupReplication: {}',
      /nodes\[0\]\.groupReplication: a node is in a Galera cluster or a Group Replication group, not both/,
    ],
    ['roles: [mariadb], galera: { sst: rsync }', /nodes\[0\]\.galera: galera settings need the galera or pxc role/],
    ['roles: [percona, pxc], galera: { sst: rsync }', /nodes\[0\]\.galera\.sst: .*xtrabackup-v2 only/],
    [
      'roles: [mariadb, galera], galera: { providerOptions: "socket.ssl_cert=/x.pem" }',
      /nodes\[0\]\.galera\.providerOptions: socket\.ssl_cert is set by dbtls/,
    ],
    [
      'roles: [mariadb, galera], galera: { providerOptions: "gcache.size=1G;gcache.size=2G" }',
      /nodes\[0\]\.galera\.providerOptions: gcache\.size is given twice/,
    ],
    [
      `roles: [mariadb, galera], galera: { providerOptions: 'gcache.dir="/x"' }`,
      /nodes\[0\]\.galera\.providerOptions: the value of gcache\.dir holds "\\""/,
    ],
    [
      'roles: [mariadb, galera], galera: { port: 5000, providerOptions: "gmcast.listen_addr=tcp://0.0.0.0:4567" }',
      /nodes\[0\]\.galera\.port: 5000 differs from the port in providerOptions \(4567\)/,
    ],
  ];
  for (const [i, [node, want]] of cases.entries()) {
    const file = join(dir, `inv${i}.yml`);
    await writeFile(file, `cluster: gal\nnodes:\n  - { name: g1, host: 10.0.0.1, transport: local, ${node} }\n`);
    const r = await dbtls(['check', '-i', file]);
    assert.equal(r.code, 2, node);
    assert.match(r.stderr, new RegExp(`inv${i}\\.yml:3:\\d+: ${want.source}`), `${node}: ${r.stderr}`);
  }
});

test('the port probed on gcomm comes from the inventory, else gmcast.listen_addr, else 4567; sst defaults by flavour', async (t) => {
  const c = await issued(t);
  const cluster = await loadInventory(c.inv);
  const g = (name: string) => cluster.nodes.find((n) => n.name === name)!.galera!;
  assert.equal(g('g1').port, 4567);
  assert.equal(g('g1').sst, 'rsync');
  assert.equal(g('g2').sst, 'mariabackup');
  assert.equal(g('p1').sst, 'xtrabackup-v2');
  const dir = await tempDir(t);
  const file = join(dir, 'inv.yml');
  await writeFile(
    file,
    'cluster: gal\nnodes:\n  - { name: g1, host: 10.0.0.1, roles: [mariadb, galera], galera: { providerOptions: "gmcast.listen_addr=tcp://0.0.0.0:14567" } }\n',
  );
  assert.equal((await loadInventory(file)).nodes[0]!.galera!.port, 14567);
});
