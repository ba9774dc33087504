// A real MariaDB serving a node certificate from `dbtls issue`: clients verify it by the node's name
// (mapped to 127.0.0.1 in a private /etc/hosts) and by its IP, and a name not in its SANs is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startMariadb } from '../helpers/mariadb.js';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';

test('MariaDB with a node certificate: --ssl-verify-server-cert by node name and by IP, mutual TLS with a client identity', async (t) => {
  const dir = await tempDir(t);
  const inv = await writeInventory(dir, {
    nodes: [
      { name: 'db1', host: '127.0.0.1', roles: ['mariadb'], sans: ['db1.example.com'] },
      { name: 'db2', host: '10.0.0.12', roles: ['mariadb'] },
    ],
    clients: ['app'],
  });
  const issued = await dbtls(['issue', '-i', inv]);
  assert.equal(issued.code, 0, issued.stderr);
  const pki = join(dir, 'pki');
  const node = join(pki, 'nodes/db1');
  const db = await startMariadb(t, {
    ssl: { ca: join(pki, 'ca.pem'), cert: join(node, 'server-cert.pem'), key: join(node, 'server-key.pem') },
  });
  await db.sql(
    "CREATE USER 'app'@'%' REQUIRE SUBJECT '/CN=app' AND ISSUER '/CN=Test Cluster CA'; GRANT USAGE ON *.* TO 'app'@'%'",
  );

  const hosts = join(dir, 'hosts');
  await writeFile(hosts, '127.0.0.1 localhost\n127.0.0.1 db1 db1.example.com\n127.0.0.1 db2\n');
  const app = [
    '--user=app',
    `--ssl-ca=${join(pki, 'ca.pem')}`,
    `--ssl-cert=${join(pki, 'clients/app/client-cert.pem')}`,
    `--ssl-key=${join(pki, 'clients/app/client-key.pem')}`,
    '--ssl-verify-server-cert',
    '-N',
    '-B',
    '-e',
    "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME='Ssl_cipher'",
  ];

  for (const host of ['db1', 'db1.example.com']) {
    const r = await db.client(app, { host, hostsFile: hosts });
    assert.equal(r.code, 0, `${host}: ${r.stderr}`);
    assert.match(r.stdout.trim(), /^TLS_|^[A-Z0-9-]+$/, `${host}: cipher`);
  }
  const byIp = await db.client(app, { host: '127.0.0.1' });
  assert.equal(byIp.code, 0, byIp.stderr);
  assert.notEqual(byIp.stdout.trim(), '');

  // db2 resolves to the same server, but db1's certificate does not name db2: refused.
  const wrongName = await db.client(app, { host: 'db2', hostsFile: hosts });
  assert.notEqual(wrongName.code, 0);
  assert.match(wrongName.stderr, /certificate|SSL/i);
  // Without localhost in the SANs (not asked for), dialling localhost is refused too.
  const localhost = await db.client(app, { host: 'localhost' });
  assert.notEqual(localhost.code, 0);

  // REQUIRE SUBJECT '/CN=app': another client identity of the same CA is refused.
  const asNode = await db.client([
    '--user=app',
    `--ssl-ca=${join(pki, 'ca.pem')}`,
    `--ssl-cert=${join(node, 'client-cert.pem')}`,
    `--ssl-key=${join(node, 'client-key.pem')}`,
    '-e',
    'SELECT 1',
  ]);
  assert.notEqual(asNode.code, 0);
  assert.match(asNode.stderr, /Access denied/);
});
