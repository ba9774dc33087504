// The cluster both wizard tests build — typed at a real terminal in one, read from an answers file
// without a terminal in the other — and the checks of what `dbtls init` leaves behind for it.
import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadInventory } from '../../lib/inventory/load.js';
import { run } from '../helpers/run.js';

/** The answers of the local try-out cluster: two MySQL servers and a ProxySQL, two clients. */
export const LOCAL_ANSWERS = `# dbtls init --answers: a try-out on this machine (transport: local)
cluster: demo
roles: [mysql, proxysql]
transport: local
nodes:
  - { host: 10.0.0.11, roles: [mysql] }
  - { host: db2.example.com, roles: [mysql] }
  - { name: proxy1, host: 10.0.0.21, roles: [proxysql] }
subject: { O: Example, C: DE }
ca: { commonName: Demo Root CA }
leaf: { days: 90 }
clients:
  - { name: app, keystore: pkcs12 }
  - { name: monitor }
inventory: demo.yml
push: true
`;

const SERVERS = {
  db1: ['DNS:db1', 'IP Address:10.0.0.11'],
  db2: ['DNS:db2', 'DNS:db2.example.com'],
  proxy1: ['DNS:proxy1', 'IP Address:10.0.0.21'],
};

/** Checks DIR after `dbtls init` built the local cluster: the inventory, the certificates (by OpenSSL), the push. */
export async function checkLocalCluster(dir: string): Promise<void> {
  const inv = join(dir, 'demo.yml');
  const c = await loadInventory(inv);
  assert.equal(c.cluster, 'demo');
  assert.equal(c.pki, join(dir, 'pki', 'demo'));
  assert.deepEqual(
    c.nodes.map((n) => [n.name, n.host, n.roles.join(','), n.transport]),
    [
      ['db1', '10.0.0.11', 'mysql', 'local'],
      ['db2', 'db2.example.com', 'mysql', 'local'],
      ['proxy1', '10.0.0.21', 'proxysql', 'local'],
    ],
  );
  assert.deepEqual(c.subject, { O: 'Example', C: 'DE' });
  assert.deepEqual(c.ca, { commonName: 'Demo Root CA', days: 3650, keyType: 'rsa2048' });
  assert.equal(c.leaf.days, 90);
  assert.deepEqual(c.clients, [
    { name: 'app', commonName: 'app', keystore: 'pkcs12' },
    { name: 'monitor', commonName: 'monitor' },
  ]);

  const pki = join(dir, 'pki', 'demo');
  const certs = [
    ...Object.keys(SERVERS).flatMap((n) => [`nodes/${n}/server-cert.pem`, `nodes/${n}/client-cert.pem`]),
    'clients/app/client-cert.pem',
    'clients/monitor/client-cert.pem',
  ];
  const verify = await run('openssl', ['verify', '-CAfile', join(pki, 'ca.pem'), ...certs.map((p) => join(pki, p))]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.equal(
    verify.stdout
      .trim()
      .split('\n')
      .filter((l) => l.endsWith(': OK')).length,
    certs.length,
    verify.stdout,
  );
  const ca = await run('openssl', ['x509', '-in', join(pki, 'ca.pem'), '-noout', '-subject']);
  assert.match(ca.stdout, /C = DE, O = Example, CN = Demo Root CA/);
  for (const [node, sans] of Object.entries(SERVERS)) {
    const x = await run('openssl', [
      'x509',
      '-in',
      join(pki, 'nodes', node, 'server-cert.pem'),
      '-noout',
      '-ext',
      'subjectAltName',
      '-enddate',
    ]);
    for (const san of sans) assert.ok(x.stdout.includes(san), `${node} has ${san}: ${x.stdout}`);
  }
  assert.equal((await stat(join(pki, 'ca-key.pem'))).mode & 0o777, 0o600);
  assert.ok((await readdir(join(pki, 'clients', 'app'))).includes('keystore.p12'));
  assert.ok((await readdir(join(pki, 'rendered', 'db1'))).includes('my.cnf'));

  // Pushed: each local node got its files under out/nodes/<node>/<dest>.
  for (const node of ['db1', 'db2']) {
    const there = join(dir, 'out', 'nodes', node, 'etc', 'mysql', 'ssl');
    assert.equal(
      await readFile(join(there, 'server-cert.pem'), 'utf8'),
      await readFile(join(pki, 'nodes', node, 'server-cert.pem'), 'utf8'),
    );
    assert.equal((await stat(join(there, 'server-key.pem'))).mode & 0o777, 0o600);
  }
  assert.equal(
    await readFile(join(dir, 'out', 'nodes', 'proxy1', 'var', 'lib', 'proxysql', 'proxysql-cert.pem'), 'utf8'),
    await readFile(join(pki, 'nodes', 'proxy1', 'server-cert.pem'), 'utf8'),
  );
}
