// `dbtls render` for MySQL, Percona and MariaDB nodes, checked by the real programs: a mariadbd started
// from the rendered my.cnf, the mariadb client reading the rendered client.cnf, users.sql run on that
// server, replication.sql making a second mariadbd a replica over verified TLS. The MySQL-only
// files (no MySQL server here) go through my_print_defaults: the option-file reader (mysys) that
// MySQL and MariaDB share, in MariaDB's build; it does not judge option names, so the test does.
//
// The nodes' `dest` folders stand in for the nodes after a push: each holds the node's files from
// the PKI directory (pki/nodes/<name>/*) plus the CA certificate (pki/ca.pem), so the paths the
// templates write are valid on this machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findMariadb, freePort, startMariadb, type MariadbServer } from '../helpers/mariadb.js';
import { writeInventory } from '../helpers/inventory.js';
import { dbtls, run, type RunResult } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { tempDir } from '../helpers/tmp.js';
import { which } from '../helpers/which.js';

const scope = fileScope();
// An apostrophe in the CA's name: every REQUIRE ... ISSUER literal has to be escaped for the server to match.
const CA_CN = "Test O'Neil CA";
const MARIADB_NODES = ['db1', 'db2'];
const MYSQL_NODES = ['my1', 'my2', 'my3'];

interface Cluster {
  dir: string;
  pki: string;
  inventory: string;
  out: string;
  dest: (node: string) => string;
  ports: { db1: number; db2: number };
}

async function distinctPorts(): Promise<[number, number]> {
  for (;;) {
    const [a, b] = [await freePort(), await freePort()];
    if (a !== b) return [a, b];
  }
}

function render(c: Cluster, out: string, extra: string[] = []): Promise<RunResult> {
  return dbtls([
    'render',
    '-i',
    c.inventory,
    '--out',
    out,
    ...[...MARIADB_NODES, ...MYSQL_NODES].flatMap((n) => ['--node', n]),
    ...extra,
  ]);
}

/** Issues the certificates, lays out each node's dest folder, renders once. */
const cluster = once(async (): Promise<Cluster> => {
  const dir = await tempDir(scope, 'dbtls-render-mysql-');
  const pki = join(dir, 'pki');
  const dest = (node: string) => join(dir, 'nodes', node);
  const [db1, db2] = await distinctPorts();
  const inventory = await writeInventory(dir, {
    caCommonName: CA_CN,
    nodes: [
      { name: 'db1', host: '127.0.0.1', roles: ['mariadb'], port: db1, dest: dest('db1') },
      { name: 'db2', host: '127.0.0.1', roles: ['mariadb'], port: db2, replicaOf: 'db1', dest: dest('db2') },
      { name: 'my1', host: '10.0.0.21', roles: ['mysql'], version: '8.0.36' },
      { name: 'my2', host: '10.0.0.22', roles: ['percona'], version: '8.0.36', replicaOf: 'my1' },
      { name: 'my3', host: '10.0.0.23', roles: ['mysql'], version: '8.0.22', replicaOf: 'my1' },
    ],
    clients: ['app'],
  });
  const issued = await dbtls(['issue', '-i', inventory]);
  assert.equal(issued.code, 0, issued.stderr);
  for (const node of MARIADB_NODES) {
    await mkdir(dest(node), { recursive: true, mode: 0o700 });
    for (const f of await readdir(join(pki, 'nodes', node)))
      await copyFile(join(pki, 'nodes', node, f), join(dest(node), f));
    await copyFile(join(pki, 'ca.pem'), join(dest(node), 'ca.pem'));
  }
  const c: Cluster = { dir, pki, inventory, out: join(dir, 'rendered'), dest, ports: { db1, db2 } };
  const r = await render(c, c.out);
  assert.equal(r.code, 0, r.stderr);
  return c;
});

const rendered = async (node: string, file: string) => readFile(join((await cluster()).out, node, file), 'utf8');

// The client must not pick up a developer's MYSQL_HOST / MYSQL_PWD etc. (as in the harness).
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('MYSQL_') || k.startsWith('MARIADB_')) delete env[k];
  return env;
}

/** The mariadb client as root over the server's socket, SQL on its standard input. */
async function rootClient(db: MariadbServer, args: string[], input: string): Promise<RunResult> {
  const bins = await findMariadb();
  assert.ok(bins, 'MariaDB not found');
  return run(bins.client, ['--no-defaults', `--socket=${db.socket}`, '-uroot', ...args], {
    input,
    env: cleanEnv(),
    timeoutMs: 30_000,
  });
}

/** `mariadb < FILE`, as the files' headers say to apply them. */
async function applySql(db: MariadbServer, file: string): Promise<void> {
  const r = await rootClient(db, [], await readFile(file, 'utf8'));
  assert.equal(r.code, 0, `${file}: ${r.stderr}`);
}

/** SHOW SLAVE STATUS as field → value (empty when the server is no replica). */
async function slaveStatus(db: MariadbServer): Promise<Record<string, string>> {
  const r = await rootClient(db, ['-B'], 'SHOW SLAVE STATUS');
  assert.equal(r.code, 0, r.stderr);
  const [names, values] = r.stdout.split('\n');
  if (!names || !values) return {};
  const v = values.split('\t');
  return Object.fromEntries(names.split('\t').map((n, i) => [n, v[i] ?? '']));
}

/** A mariadbd reading the node's rendered my.cnf through `!include`, the way the header says to apply it. */
async function startNode(c: Cluster, node: 'db1' | 'db2', serverArgs: string[]): Promise<MariadbServer> {
  const cnf = join(c.dir, `${node}-server.cnf`);
  await writeFile(cnf, `!include ${join(c.out, node, 'my.cnf')}\n`);
  return startMariadb(scope, { defaultsFile: cnf, port: c.ports[node], serverArgs });
}

// The source: binary log on (the harness turns it off) so that db2 can replicate from it.
const db1 = once(async () => startNode(await cluster(), 'db1', ['--log-bin=db1-bin', '--server-id=1']));

/** users.sql applied on db1 twice (idempotent), over an 'app' account created earlier with a weaker requirement. */
const usersOnDb1 = once(async () => {
  const db = await db1();
  await db.sql("CREATE USER 'app'@'%' REQUIRE SSL");
  const file = join((await cluster()).out, 'db1', 'users.sql');
  await applySql(db, file);
  await applySql(db, file);
  return db;
});

/** The options an option file gives GROUP, as the servers' and clients' option-file reader sees them (`--name=value` lines). */
async function optionsOf(file: string, group: string): Promise<string[]> {
  const tool = await which('my_print_defaults', ['/usr/bin', '/usr/local/bin']);
  assert.ok(tool, 'my_print_defaults not found');
  const r = await run(tool, [`--defaults-file=${file}`, group]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

/** The first statement of each rendered SQL file: the '\\' escapes after it mean one backslash in any sql_mode. */
const SQL_MODE =
  "SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','))";

/** The statements of a SQL file, comments and blank lines dropped, whitespace folded. */
function statements(sql: string): string[] {
  const code = sql
    .split('\n')
    .filter((l) => !l.startsWith('--'))
    .join('\n');
  return code
    .split(';')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

test('render writes each MySQL-family node its files, each opening with where it came from and how to apply it', async () => {
  const c = await cluster();
  const expected: Record<string, string[]> = {
    db1: ['client.cnf', 'my.cnf', 'users.sql'],
    db2: ['client.cnf', 'my.cnf', 'replication.sql', 'users.sql'],
    my1: ['client.cnf', 'my.cnf', 'users.sql'],
    my2: ['client.cnf', 'my.cnf', 'replication.sql', 'users.sql'],
    my3: ['client.cnf', 'my.cnf', 'replication.sql', 'users.sql'],
  };
  for (const [node, files] of Object.entries(expected)) {
    assert.deepEqual((await readdir(join(c.out, node))).sort(), files, node);
    for (const f of files) {
      const text = await rendered(node, f);
      const comment = f.endsWith('.sql') ? '--' : '#';
      assert.match(
        text,
        new RegExp(
          `^${comment} Generated by dbtls \\S+ from inventory\\.yml for node ${node}\\.\\n${comment} Do not edit by hand`,
        ),
        `${node}/${f}`,
      );
      assert.match(text, /How to apply/, `${node}/${f}`);
      assert.doesNotMatch(text, /[ \t]$/m, `${node}/${f}: trailing whitespace`);
      assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'), `${node}/${f}: ends with exactly one newline`);
    }
  }
  // How to reload, per product (REFERENCE §2).
  assert.match(await rendered('db1', 'my.cnf'), /FLUSH SSL/);
  assert.match(await rendered('my1', 'my.cnf'), /ALTER INSTANCE RELOAD TLS/);
  assert.match(await rendered('db1', 'users.sql'), /application privileges are the DBA's to grant/i);
});

test('render is deterministic: a second run writes nothing, --check agrees, a fresh folder gets the same bytes', async () => {
  const c = await cluster();
  const again = await render(c, c.out);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^nothing to do: all 18 files up to date/m);
  assert.doesNotMatch(again.stdout, /^(wrote|updated) /m);
  const check = await render(c, c.out, ['--check']);
  assert.equal(check.code, 0, check.stdout + check.stderr);

  const fresh = join(c.dir, 'rendered-again');
  const second = await render(c, fresh);
  assert.equal(second.code, 0, second.stderr);
  for (const node of [...MARIADB_NODES, ...MYSQL_NODES]) {
    for (const f of await readdir(join(c.out, node))) {
      assert.ok(
        (await readFile(join(c.out, node, f))).equals(await readFile(join(fresh, node, f))),
        `${node}/${f} differs between runs`,
      );
    }
  }
});

test('mysql/my.cnf and client.cnf, read by my_print_defaults: the REFERENCE §2 option names with the node paths', async () => {
  const c = await cluster();
  const at = (f: string) => `/etc/mysql/ssl/${f}`; // the default dest of mysql and percona nodes
  for (const node of MYSQL_NODES) {
    const server = await optionsOf(join(c.out, node, 'my.cnf'), 'mysqld');
    assert.deepEqual(
      server,
      [
        `--ssl_ca=${at('ca.pem')}`,
        `--ssl_cert=${at('server-cert.pem')}`,
        `--ssl_key=${at('server-key.pem')}`,
        '--require_secure_transport=ON',
        '--tls_version=TLSv1.2,TLSv1.3',
        `--caching_sha2_password_private_key_path=${at('private_key.pem')}`,
        `--caching_sha2_password_public_key_path=${at('public_key.pem')}`,
        `--sha256_password_private_key_path=${at('private_key.pem')}`,
        `--sha256_password_public_key_path=${at('public_key.pem')}`,
      ],
      node,
    );
    const client = await optionsOf(join(c.out, node, 'client.cnf'), 'client');
    assert.deepEqual(
      client,
      [
        `--ssl-ca=${at('ca.pem')}`,
        `--ssl-cert=${at('client-cert.pem')}`,
        `--ssl-key=${at('client-key.pem')}`,
        '--ssl-mode=VERIFY_IDENTITY',
      ],
      node,
    );
    // Connector/C programs on the node (no ssl-mode there) verify through [client-mariadb], which MySQL clients ignore.
    assert.deepEqual(
      await optionsOf(join(c.out, node, 'client.cnf'), 'client-mariadb'),
      ['--ssl-verify-server-cert=1'],
      node,
    );
  }
  // MariaDB's spellings: no RSA paths on the server, no ssl-mode on the client.
  assert.deepEqual(await optionsOf(join(c.out, 'db1', 'my.cnf'), 'mariadb'), [
    `--ssl_ca=${join(c.dest('db1'), 'ca.pem')}`,
    `--ssl_cert=${join(c.dest('db1'), 'server-cert.pem')}`,
    `--ssl_key=${join(c.dest('db1'), 'server-key.pem')}`,
    '--require_secure_transport=ON',
    '--tls_version=TLSv1.2,TLSv1.3',
  ]);
  assert.deepEqual(await optionsOf(join(c.out, 'db1', 'client.cnf'), 'client'), [
    `--ssl-ca=${join(c.dest('db1'), 'ca.pem')}`,
    `--ssl-cert=${join(c.dest('db1'), 'client-cert.pem')}`,
    `--ssl-key=${join(c.dest('db1'), 'client-key.pem')}`,
  ]);
  // "=1", in the group MariaDB clients and Connector/C read: Connector/C takes a bare boolean as off.
  assert.deepEqual(await optionsOf(join(c.out, 'db1', 'client.cnf'), 'client-mariadb'), ['--ssl-verify-server-cert=1']);
});

test('mysql/replication.sql: CHANGE REPLICATION SOURCE TO for 8.0.36, CHANGE MASTER TO for 8.0.22, certificate login, verified TLS', async () => {
  const my2 = statements(await rendered('my2', 'replication.sql'));
  assert.deepEqual(my2, [
    SQL_MODE,
    'STOP REPLICA',
    "CHANGE REPLICATION SOURCE TO SOURCE_HOST = '10.0.0.21', SOURCE_PORT = 3306, SOURCE_USER = 'my2-client', SOURCE_PASSWORD = '', SOURCE_SSL = 1, " +
      "SOURCE_SSL_CA = '/etc/mysql/ssl/ca.pem', SOURCE_SSL_CERT = '/etc/mysql/ssl/client-cert.pem', SOURCE_SSL_KEY = '/etc/mysql/ssl/client-key.pem', " +
      'SOURCE_SSL_VERIFY_SERVER_CERT = 1',
    'START REPLICA',
  ]);
  const my3 = statements(await rendered('my3', 'replication.sql'));
  assert.deepEqual(my3, [
    SQL_MODE,
    'STOP SLAVE',
    "CHANGE MASTER TO MASTER_HOST = '10.0.0.21', MASTER_PORT = 3306, MASTER_USER = 'my3-client', MASTER_PASSWORD = '', MASTER_SSL = 1, " +
      "MASTER_SSL_CA = '/etc/mysql/ssl/ca.pem', MASTER_SSL_CERT = '/etc/mysql/ssl/client-cert.pem', MASTER_SSL_KEY = '/etc/mysql/ssl/client-key.pem', " +
      'MASTER_SSL_VERIFY_SERVER_CERT = 1',
    'START SLAVE',
  ]);
  // The hints name the spelling's own way to position the replica.
  assert.match(await rendered('my2', 'replication.sql'), /SOURCE_AUTO_POSITION = 1/);
  assert.match(await rendered('my3', 'replication.sql'), /MASTER_AUTO_POSITION = 1/);
});

test('mysql/users.sql: certificate accounts for the clients and the replicas, run through a real SQL parser', async () => {
  const sql = statements(await rendered('my1', 'users.sql'));
  const issuer = "'/CN=Test O''Neil CA'";
  const account = (user: string) => [
    `CREATE USER IF NOT EXISTS '${user}'@'%' REQUIRE SUBJECT '/CN=${user}' AND ISSUER ${issuer}`,
    `ALTER USER '${user}'@'%' REQUIRE SUBJECT '/CN=${user}' AND ISSUER ${issuer}`,
  ];
  assert.deepEqual(sql, [
    SQL_MODE,
    ...account('app'),
    ...account('my2-client'),
    `GRANT REPLICATION SLAVE ON *.* TO 'my2-client'@'%'`,
    ...account('my3-client'),
    `GRANT REPLICATION SLAVE ON *.* TO 'my3-client'@'%'`,
  ]);
  // No MySQL server here; these statements are the same in MariaDB, whose parser takes them as they are.
  const db = await usersOnDb1();
  await applySql(db, join((await cluster()).out, 'my1', 'users.sql'));
  const grants = await db.sql("SHOW GRANTS FOR 'my3-client'@'%'");
  assert.match(grants, /GRANT REPLICATION SLAVE ON \*\.\* TO `my3-client`@`%`/);
  // MariaDB lists the requirements as ISSUER ... SUBJECT ...; the apostrophe came through the escaping intact.
  assert.match(grants, / REQUIRE ISSUER '\/CN=Test O''Neil CA' SUBJECT '\/CN=my3-client'$/m);
});

test('mariadb/my.cnf + client.cnf: mariadbd runs on the rendered settings, the rendered client gets verified TLS', async () => {
  const c = await cluster();
  const db = await db1();
  const vars = (
    await db.sql('SELECT @@have_ssl, @@require_secure_transport, @@tls_version, @@ssl_ca, @@ssl_cert, @@ssl_key')
  )
    .trim()
    .split('\t');
  assert.deepEqual(vars, [
    'YES',
    '1',
    'TLSv1.2,TLSv1.3',
    join(c.dest('db1'), 'ca.pem'),
    join(c.dest('db1'), 'server-cert.pem'),
    join(c.dest('db1'), 'server-key.pem'),
  ]);
  await db.sql("CREATE USER 'probe'@'%' REQUIRE X509; CREATE USER 'plain'@'%'");

  const clientCnf = join(c.out, 'db1', 'client.cnf');
  const query = [
    '--user=probe',
    '-N',
    '-B',
    '-e',
    "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME IN ('Ssl_version', 'Ssl_cipher') ORDER BY VARIABLE_NAME",
  ];
  const byIp = await db.client(query, { defaultsFile: clientCnf, host: '127.0.0.1' });
  assert.equal(byIp.code, 0, byIp.stderr);
  const [cipher, version] = byIp.stdout.trim().split('\n');
  assert.ok(cipher, 'Ssl_cipher is set');
  assert.match(version ?? '', /^TLSv1\.[23]$/);

  // ssl-verify-server-cert from the file: the server's name is checked against its SANs.
  const hosts = join(c.dir, 'hosts');
  await writeFile(hosts, '127.0.0.1 localhost\n127.0.0.1 db1 db2\n');
  const byName = await db.client(query, { defaultsFile: clientCnf, host: 'db1', hostsFile: hosts });
  assert.equal(byName.code, 0, byName.stderr);
  const wrongName = await db.client(query, { defaultsFile: clientCnf, host: 'db2', hostsFile: hosts });
  assert.notEqual(wrongName.code, 0, 'db1 certificate accepted for the name db2');
  assert.match(wrongName.stderr, /certificate|SSL/i);

  // require_secure_transport from the file: an account without requirements gets in over TLS, and
  // is refused without it (MariaDB answers "Access denied", where MySQL says "insecure transport").
  const plain = await db.client(['--user=plain', '-e', 'SELECT 1']);
  assert.equal(plain.code, 0, plain.stderr);
  const insecure = await db.client(['--user=plain', '--skip-ssl', '-e', 'SELECT 1']);
  assert.notEqual(insecure.code, 0, 'a TCP session without TLS was let in');
  assert.match(insecure.stderr, /Access denied/);
});

test('mariadb/users.sql: idempotent; the client certificate logs in without a password, another subject of the same CA does not', async () => {
  const c = await cluster();
  const db = await usersOnDb1();
  assert.equal((await db.sql("SELECT COUNT(*) FROM mysql.user WHERE User IN ('app', 'db2-client')")).trim(), '2');
  // The ALTER USER replaced the weaker REQUIRE SSL of the account that existed before.
  assert.match(
    await db.sql("SHOW CREATE USER 'app'@'%'"),
    / REQUIRE ISSUER '\/CN=Test O''Neil CA' SUBJECT '\/CN=app'$/m,
  );
  assert.match(
    await db.sql("SHOW GRANTS FOR 'db2-client'@'%'"),
    /GRANT REPLICATION SLAVE ON \*\.\* TO `db2-client`@`%`/,
  );

  const tls = (cert: string, key: string) => [
    '--user=app',
    `--ssl-ca=${join(c.pki, 'ca.pem')}`,
    `--ssl-cert=${cert}`,
    `--ssl-key=${key}`,
    '--ssl-verify-server-cert',
  ];
  const app = await db.client([
    ...tls(join(c.pki, 'clients/app/client-cert.pem'), join(c.pki, 'clients/app/client-key.pem')),
    '-N',
    '-B',
    '-e',
    'SELECT CURRENT_USER()',
  ]);
  assert.equal(app.code, 0, app.stderr);
  assert.equal(app.stdout.trim(), 'app@%');
  const other = await db.client([
    ...tls(join(c.dest('db1'), 'client-cert.pem'), join(c.dest('db1'), 'client-key.pem')),
    '-e',
    'SELECT 1',
  ]);
  assert.notEqual(other.code, 0, "db1's own client certificate got in as app");
  assert.match(other.stderr, /Access denied/);
});

test('mariadb/replication.sql: db2 replicates from db1 over verified TLS with its certificate, and rows arrive', async () => {
  const c = await cluster();
  const source = await usersOnDb1();
  const replica = await startNode(c, 'db2', ['--server-id=2']);
  const file = join(c.out, 'db2', 'replication.sql');
  await applySql(replica, file);
  await applySql(replica, file); // safe to run again: stops, reconfigures, starts

  let last: Record<string, string> = {};
  await poll('Slave_IO_Running and Slave_SQL_Running', async () => {
    last = await slaveStatus(replica);
    return last.Slave_IO_Running === 'Yes' && last.Slave_SQL_Running === 'Yes' ? true : undefined;
  }).catch((e: Error) => {
    throw new Error(`${e.message}; last status: ${JSON.stringify(last, null, 1)}`);
  });
  assert.equal(last.Master_Host, '127.0.0.1');
  assert.equal(last.Master_Port, String(c.ports.db1));
  assert.equal(last.Master_User, 'db2-client');
  assert.equal(last.Master_SSL_Allowed, 'Yes');
  assert.equal(last.Master_SSL_Verify_Server_Cert, 'Yes');
  // No MASTER_USE_GTID in the file: MariaDB's default (slave_pos) started the fresh replica at the source's first binary log.
  assert.equal(last.Using_Gtid, 'Slave_Pos');
  assert.equal(last.Master_SSL_CA_File, join(c.dest('db2'), 'ca.pem'));
  assert.equal(last.Master_SSL_Cert, join(c.dest('db2'), 'client-cert.pem'));
  assert.equal(last.Master_SSL_Key, join(c.dest('db2'), 'client-key.pem'));

  await source.sql(
    "CREATE DATABASE rt; CREATE TABLE rt.t (id INT PRIMARY KEY, v VARCHAR(32)); INSERT INTO rt.t VALUES (1, 'over verified TLS')",
  );
  const row = await poll('the row on db2', async () => {
    const v = (await replica.sql('SELECT v FROM rt.t WHERE id = 1').catch(() => '')).trim();
    return v || undefined;
  });
  assert.equal(row, 'over verified TLS');
});
