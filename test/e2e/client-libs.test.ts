// Every rendered client file, used by the real library it is for, against a real MariaDB (issue 12,
// finding 15): the mariadb CLI, Python mysqlclient and PyMySQL, Perl DBD::MariaDB and Ruby mysql2
// read clients/<c>/client.cnf; Node mysql2 imports mysql2-ssl.js; PHP mysqli and PDO (mysqlnd reads
// no option file) require php-mysql.php; the Go driver runs the code of go-dsn.md. Each must accept
// the server dialled by a name and by an address its certificate lists, and refuse (a) a name and
// (b) an address the certificate does not list, and (c) a certificate with the same names from a CA
// with the same subject but another key. The node's own client.cnf (MariaDB and MySQL templates)
// goes through the Connector/C readers the same way.
//
// One server, listening on 127.0.0.1 and 127.0.0.2, serves node dbn's certificate (SANs DNS:dbn,
// IP:127.0.0.1). Names resolve through a private /etc/hosts (a mount namespace; the machine's file is
// never touched): dbn and other → 127.0.0.1. Clients: c-dbn dials dbn, c-ip 127.0.0.1 (accepted);
// c-other dials other (not in the SANs), c-ip2 127.0.0.2 (not in the SANs). The accounts come from the
// rendered users.sql, with REQUIRE SUBJECT … AND ISSUER … on a subject with a backslash and quotes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { findMariadb, freePort, startMariadb, type MariadbServer } from '../helpers/mariadb.js';
import { repoRoot } from '../helpers/paths.js';
import { dbtls, run } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { tempDir } from '../helpers/tmp.js';

const scope = fileScope();
const PY = '/usr/bin/python3'; // Debian's, with python3-pymysql and python3-mysqldb (a pyenv python3 on PATH has neither)

interface Outcome {
  ok: boolean;
  /** CURRENT_USER() when ok, else the library's error. */
  text: string;
}

interface Fixture {
  dir: string;
  pki: string;
  out: string;
  db: MariadbServer;
  port: number;
  hosts: string;
  srv: { cert: string; key: string };
  env: NodeJS.ProcessEnv;
}

const CLIENTS = { 'c-dbn': 'dbn', 'c-other': 'other', 'c-ip': 'ipn', 'c-ip2': 'ip2', 'c-plain': 'plain' } as const;
type ClientName = keyof typeof CLIENTS;

function inventoryDoc(port: number, dest: (n: string) => string): string {
  const node = (name: string, host: string, extra: object = {}) => ({
    name,
    host,
    roles: ['mariadb'],
    port,
    transport: 'local',
    dest: dest(name),
    ...extra,
  });
  return stringify({
    cluster: 'libs',
    pki: './pki',
    subject: { O: 'Libs "Q"; back\\slash' },
    ca: { commonName: 'Libs CA' },
    nodes: [
      node('dbn', 'dbn', { sans: ['127.0.0.1'] }),
      node('other', 'other'),
      node('ipn', '127.0.0.1'),
      node('ip2', '127.0.0.2'),
      node('plain', '127.0.0.3'),
      { ...node('my1', 'my1'), roles: ['mysql'] },
    ],
    clients: Object.entries(CLIENTS).map(([name, connectTo]) => ({ name, connectTo })),
  });
}

const fixture = once(async (): Promise<Fixture> => {
  const dir = await tempDir(scope, 'dbtls-client-libs-');
  const port = await freePort();
  const dest = (n: string) => join(dir, 'dest', n);
  await writeFile(join(dir, 'inventory.yml'), inventoryDoc(port, dest));
  const issued = await dbtls(['issue', '-i', join(dir, 'inventory.yml')]);
  assert.equal(issued.code, 0, issued.stderr);
  const rendered = await dbtls(['render', '-i', join(dir, 'inventory.yml')]);
  assert.equal(rendered.code, 0, rendered.stderr);
  const pki = join(dir, 'pki');
  // The nodes' files where their own client.cnf says they are (as after a push).
  for (const n of ['dbn', 'my1']) {
    await mkdir(dest(n), { recursive: true, mode: 0o700 });
    for (const f of await readdir(join(pki, 'nodes', n))) await copyFile(join(pki, 'nodes', n, f), join(dest(n), f));
    await copyFile(join(pki, 'ca.pem'), join(dest(n), 'ca.pem'));
  }
  // The impostor: the same inventory issued into another PKI: a CA named like ours with another key,
  // and a dbn certificate with the same SANs.
  await mkdir(join(dir, 'impostor'));
  await writeFile(join(dir, 'impostor/inventory.yml'), inventoryDoc(port, dest));
  const imp = await dbtls(['issue', '-i', join(dir, 'impostor/inventory.yml')]);
  assert.equal(imp.code, 0, imp.stderr);

  // The server's certificate files are copies, so that a test can swap them and FLUSH SSL.
  const srv = { cert: join(dir, 'srv-cert.pem'), key: join(dir, 'srv-key.pem') };
  await copyFile(join(pki, 'nodes/dbn/server-cert.pem'), srv.cert);
  await copyFile(join(pki, 'nodes/dbn/server-key.pem'), srv.key);
  const db = await startMariadb(scope, {
    port,
    ssl: { ca: join(pki, 'ca.pem'), cert: srv.cert, key: srv.key },
    serverArgs: ['--bind-address=127.0.0.1,127.0.0.2', '--require-secure-transport=ON'],
  });
  const bins = await findMariadb();
  assert.ok(bins);
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MYSQL_') && !k.startsWith('MARIADB_')),
  );
  const users = await run(bins.client, ['--no-defaults', `--socket=${db.socket}`, '-uroot'], {
    input: await readFile(join(pki, 'rendered/dbn/users.sql'), 'utf8'),
    env,
  });
  assert.equal(users.code, 0, users.stderr);
  // For the nodes' own client.cnf (their client identity is not an account of users.sql).
  await db.sql("CREATE USER 'node-probe'@'%' REQUIRE X509");
  const hosts = join(dir, 'hosts');
  await writeFile(hosts, '127.0.0.1 localhost\n127.0.0.1 dbn other\n');
  await writeScripts(dir);
  return {
    dir,
    pki,
    out: join(pki, 'rendered'),
    db,
    port,
    hosts,
    srv,
    env: {
      ...env,
      GOCACHE: join(dir, 'gocache'),
      GOPATH: '/usr/share/gocode',
      GO111MODULE: 'off',
      GOFLAGS: '',
      GOPROXY: 'off',
    },
  };
});

// ── The small programs, one per library: each prints "OK <CURRENT_USER()>" or "ERR <message>". ────
// argv: the settings file, then optionally host, port, user that override it (for the nodes' files).

async function writeScripts(dir: string): Promise<void> {
  await writeFile(
    join(dir, 'mysqlclient_client.py'),
    `import sys, MySQLdb
kw = {"read_default_file": sys.argv[1]}
if len(sys.argv) > 2: kw.update(host=sys.argv[2], port=int(sys.argv[3]), user=sys.argv[4])
try:
    c = MySQLdb.connect(**kw); cur = c.cursor(); cur.execute("SELECT CURRENT_USER()"); print("OK", cur.fetchone()[0])
except Exception as e:
    print("ERR", e)
`,
  );
  await writeFile(
    join(dir, 'pymysql_client.py'),
    `import sys, pymysql
kw = {"read_default_file": sys.argv[1]}
if len(sys.argv) > 2: kw.update(host=sys.argv[2], port=int(sys.argv[3]), user=sys.argv[4])
try:
    c = pymysql.connect(**kw); cur = c.cursor(); cur.execute("SELECT CURRENT_USER()"); print("OK", cur.fetchone()[0])
except Exception as e:
    print("ERR", e)
`,
  );
  await writeFile(
    join(dir, 'dbd.pl'),
    `use strict; use DBI;
my ($file, $host, $port, $user) = @ARGV;
my $dsn = "DBI:MariaDB:mariadb_read_default_file=$file" . (defined $host ? ";host=$host;port=$port" : "");
my $dbh = DBI->connect($dsn, $user, undef, { RaiseError => 0, PrintError => 0 });
if ($dbh) { print "OK ", $dbh->selectrow_array("SELECT CURRENT_USER()"), "\\n" } else { print "ERR $DBI::errstr\\n" }
`,
  );
  await writeFile(
    join(dir, 'mysql2.rb'),
    `require 'mysql2'
opts = { default_file: ARGV[0] }
opts.merge!(host: ARGV[1], port: ARGV[2].to_i, username: ARGV[3]) if ARGV.length > 1
begin
  puts "OK " + Mysql2::Client.new(**opts).query("SELECT CURRENT_USER() AS u").first["u"]
rescue => e
  puts "ERR #{e}"
end
`,
  );
  await writeFile(
    join(dir, 'mysql2.mjs'),
    `import mysql from ${JSON.stringify(join(repoRoot, 'node_modules/mysql2/promise.js'))};
const { connectionOptions } = await import(process.argv[2]);
try {
  const c = await mysql.createConnection({ ...connectionOptions, connectTimeout: 10000 });
  const [rows] = await c.query('SELECT CURRENT_USER() AS u');
  console.log('OK', rows[0].u);
  await c.end();
} catch (e) { console.log('ERR', e.message); }
`,
  );
  for (const api of ['mysqli', 'pdo']) {
    const query =
      api === 'mysqli'
        ? `$c = $connect['mysqli'](); echo 'OK ', $c->query('SELECT CURRENT_USER()')->fetch_row()[0], "\\n";`
        : `$c = $connect['pdo'](); echo 'OK ', $c->query('SELECT CURRENT_USER()')->fetchColumn(), "\\n";`;
    await writeFile(
      join(dir, `${api}.php`),
      `<?php
mysqli_report(MYSQLI_REPORT_OFF);
$connect = require $argv[1];
try { ${query} } catch (Throwable $e) { echo 'ERR ', $e->getMessage(), "\\n"; }
`,
    );
  }
}

/** ARGV run with /etc/hosts replaced by the fixture's hosts file, in a private mount namespace. */
async function inNamespace(fx: Fixture, argv: string[], cwd?: string): Promise<Outcome> {
  const script = 'mount --bind "$0" /etc/hosts && exec "$@"';
  const r = await run('unshare', ['--mount', '--', '/bin/sh', '-c', script, fx.hosts, ...argv], {
    env: fx.env,
    timeoutMs: 60_000,
    ...(cwd ? { cwd } : {}),
  });
  const line = r.stdout
    .trim()
    .split('\n')
    .filter((l) => /^(OK|ERR) /.test(l))
    .pop();
  if (line) return { ok: line.startsWith('OK '), text: line.slice(line.indexOf(' ') + 1) };
  return { ok: false, text: `no verdict (exit ${r.code}): ${r.stdout}${r.stderr}`.trim() };
}

type Driver = (fx: Fixture, client: ClientName) => Promise<Outcome>;

// The mariadb CLI's verdict: its last line of output, or all it said (warnings included) on one line.
// It warns about loose-ssl-mode on every run ("unknown variable"), as the file's comment says.
const CLI_VERDICT =
  'if out=$("$@" 2>&1); then echo "OK $(printf "%s\\n" "$out" | tail -n 1)"; else echo "ERR $(printf "%s" "$out" | tr "\\n" " ")"; fi';

const goBuilt = new Map<string, Promise<string>>();
/** The Go code of go-dsn.md with a main that queries once, built offline against Debian's driver source. */
function goProgram(fx: Fixture, client: ClientName): Promise<string> {
  let p = goBuilt.get(client);
  if (!p) {
    p = (async () => {
      const md = await readFile(join(fx.out, 'clients', client, 'go-dsn.md'), 'utf8');
      const code = /```go\n([\s\S]*?)\n```/.exec(md)?.[1];
      assert.ok(code, `${client}/go-dsn.md has no Go code block`);
      const dir = join(fx.dir, 'go', client);
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, 'main.go'),
        `${code}

func main() {
	db, err := openCluster()
	if err != nil {
		fmt.Println("ERR", err)
		return
	}
	var u string
	if err := db.QueryRow("SELECT CURRENT_USER()").Scan(&u); err != nil {
		fmt.Println("ERR", err)
		return
	}
	fmt.Println("OK", u)
}
`,
      );
      const r = await run('go', ['build', '-o', 'client', 'main.go'], { cwd: dir, env: fx.env, timeoutMs: 120_000 });
      assert.equal(r.code, 0, `go build of ${client}/go-dsn.md failed:\n${r.stderr}`);
      return join(dir, 'client');
    })();
    goBuilt.set(client, p);
  }
  return p;
}

const cnf = (fx: Fixture, c: ClientName) => join(fx.out, 'clients', c, 'client.cnf');

const DRIVERS: Record<string, Driver> = {
  'mariadb CLI (client.cnf)': async (fx, c) => {
    const bins = await findMariadb();
    const r = await inNamespace(fx, [
      '/bin/sh',
      '-c',
      CLI_VERDICT,
      'sh',
      bins!.client,
      `--defaults-file=${cnf(fx, c)}`,
      '--connect-timeout=10',
      '-N',
      '-B',
      '-e',
      'SELECT CURRENT_USER()',
    ]);
    return r;
  },
  'Python mysqlclient (client.cnf)': (fx, c) =>
    inNamespace(fx, [PY, join(fx.dir, 'mysqlclient_client.py'), cnf(fx, c)]),
  'Python PyMySQL (client.cnf)': (fx, c) => inNamespace(fx, [PY, join(fx.dir, 'pymysql_client.py'), cnf(fx, c)]),
  'Perl DBD::MariaDB (client.cnf)': (fx, c) => inNamespace(fx, ['perl', join(fx.dir, 'dbd.pl'), cnf(fx, c)]),
  'Ruby mysql2 (client.cnf)': (fx, c) => inNamespace(fx, ['ruby', join(fx.dir, 'mysql2.rb'), cnf(fx, c)]),
  'Node mysql2 (mysql2-ssl.js)': (fx, c) =>
    inNamespace(fx, [process.execPath, join(fx.dir, 'mysql2.mjs'), join(fx.out, 'clients', c, 'mysql2-ssl.js')]),
  'PHP mysqli (php-mysql.php)': (fx, c) =>
    inNamespace(fx, ['php', join(fx.dir, 'mysqli.php'), join(fx.out, 'clients', c, 'php-mysql.php')]),
  'PHP PDO (php-mysql.php)': (fx, c) =>
    inNamespace(fx, ['php', join(fx.dir, 'pdo.php'), join(fx.out, 'clients', c, 'php-mysql.php')]),
  'Go go-sql-driver/mysql (go-dsn.md)': async (fx, c) => inNamespace(fx, [await goProgram(fx, c)]),
};

/** A refusal by TLS verification, not by something else (a login, a timeout, a missing module). */
const TLS_REFUSAL = /certificate|SSL|TLS|x509|altnames/i;

function assertRefused(o: Outcome, what: string): void {
  assert.equal(o.ok, false, `${what}: connected (${o.text})`);
  assert.match(o.text, TLS_REFUSAL, `${what}: refused, but not by certificate verification: ${o.text}`);
  assert.doesNotMatch(o.text, /Access denied|No module|Can't locate|cannot load|no verdict/i, `${what}: ${o.text}`);
}

test('each library with its rendered file: accepts the name and the address the certificate lists, refuses a name and an address it does not', async () => {
  const fx = await fixture();
  for (const [lib, drive] of Object.entries(DRIVERS)) {
    const [byName, byIp, otherName, otherIp] = await Promise.all(
      (['c-dbn', 'c-ip', 'c-other', 'c-ip2'] as const).map((c) => drive(fx, c)),
    );
    assert.deepEqual(byName, { ok: true, text: 'c-dbn@%' }, `${lib}, dialling dbn (DNS:dbn)`);
    assert.deepEqual(byIp, { ok: true, text: 'c-ip@%' }, `${lib}, dialling 127.0.0.1 (IP:127.0.0.1)`);
    assertRefused(otherName!, `${lib}, dialling "other" (a name the certificate does not list)`);
    assertRefused(otherIp!, `${lib}, dialling 127.0.0.2 (an address the certificate does not list)`);
  }
});

test("the nodes' own client.cnf (MariaDB and MySQL templates) turns verification on for the Connector/C readers too", async () => {
  const fx = await fixture();
  const files = { mariadb: join(fx.out, 'dbn/client.cnf'), mysql: join(fx.out, 'my1/client.cnf') };
  const readers: Record<string, (file: string, host: string) => string[]> = {
    'Python mysqlclient': (f, h) => [PY, join(fx.dir, 'mysqlclient_client.py'), f, h, String(fx.port), 'node-probe'],
    'Perl DBD::MariaDB': (f, h) => ['perl', join(fx.dir, 'dbd.pl'), f, h, String(fx.port), 'node-probe'],
    'Ruby mysql2': (f, h) => ['ruby', join(fx.dir, 'mysql2.rb'), f, h, String(fx.port), 'node-probe'],
    'Python PyMySQL': (f, h) => [PY, join(fx.dir, 'pymysql_client.py'), f, h, String(fx.port), 'node-probe'],
  };
  for (const [flavor, file] of Object.entries(files)) {
    for (const [lib, argv] of Object.entries(readers)) {
      const [name, ip, otherName, otherIp] = await Promise.all(
        ['dbn', '127.0.0.1', 'other', '127.0.0.2'].map((h) => inNamespace(fx, argv(file, h))),
      );
      assert.deepEqual(name, { ok: true, text: 'node-probe@%' }, `${flavor} client.cnf, ${lib}, dbn`);
      assert.deepEqual(ip, { ok: true, text: 'node-probe@%' }, `${flavor} client.cnf, ${lib}, 127.0.0.1`);
      assertRefused(otherName!, `${flavor} client.cnf, ${lib}, "other"`);
      assertRefused(otherIp!, `${flavor} client.cnf, ${lib}, 127.0.0.2`);
    }
  }
  // The mariadb CLI reads the MariaDB node's file (the MySQL one has ssl-mode, an option it does not know).
  const bins = await findMariadb();
  const cli = (host: string) =>
    inNamespace(fx, [
      '/bin/sh',
      '-c',
      CLI_VERDICT,
      'sh',
      bins!.client,
      `--defaults-file=${files.mariadb}`,
      '--protocol=TCP',
      `--host=${host}`,
      `--port=${fx.port}`,
      '--user=node-probe',
      '-N',
      '-B',
      '-e',
      'SELECT CURRENT_USER()',
    ]);
  assert.deepEqual(await cli('dbn'), { ok: true, text: 'node-probe@%' });
  assertRefused(await cli('other'), 'mariadb CLI with the MariaDB node client.cnf, "other"');
});

test('a server certificate with the same names from a CA with the same subject but another key is refused by every library', async () => {
  const fx = await fixture();
  const imp = join(fx.dir, 'impostor/pki/nodes/dbn');
  await copyFile(join(imp, 'server-cert.pem'), fx.srv.cert);
  await copyFile(join(imp, 'server-key.pem'), fx.srv.key);
  await fx.db.sql('FLUSH SSL');
  try {
    for (const [lib, drive] of Object.entries(DRIVERS)) {
      const [byName, byIp] = await Promise.all((['c-dbn', 'c-ip'] as const).map((c) => drive(fx, c)));
      assertRefused(byName!, `${lib}, dbn, impostor certificate`);
      assertRefused(byIp!, `${lib}, 127.0.0.1, impostor certificate`);
    }
  } finally {
    await copyFile(join(fx.pki, 'nodes/dbn/server-cert.pem'), fx.srv.cert);
    await copyFile(join(fx.pki, 'nodes/dbn/server-key.pem'), fx.srv.key);
    await fx.db.sql('FLUSH SSL');
  }
  // And with the real certificate back, the same files connect again (the refusals were the certificate's).
  assert.deepEqual(await DRIVERS['Python mysqlclient (client.cnf)']!(fx, 'c-dbn'), { ok: true, text: 'c-dbn@%' });
});

test('a server that offers no TLS (a downgrade) is refused by every library but PyMySQL, as client.cnf says', async () => {
  const fx = await fixture();
  // Same port, 127.0.0.3 (node "plain"), no TLS at all; c-plain may log in there without a certificate.
  const plain = await startMariadb(scope, { port: fx.port, serverArgs: ['--bind-address=127.0.0.3', '--skip-ssl'] });
  await plain.sql("CREATE USER 'c-plain'@'%'");
  const control = await plain.client(['--user=c-plain', '--skip-ssl', '-N', '-B', '-e', 'SELECT CURRENT_USER()'], {
    host: '127.0.0.3',
  });
  assert.equal(control.code, 0, `the plaintext server does not let c-plain in at all: ${control.stderr}`);
  for (const [lib, drive] of Object.entries(DRIVERS)) {
    const o = await drive(fx, 'c-plain');
    if (lib.startsWith('Python PyMySQL')) {
      // PyMySQL 1.0 uses TLS only when the server offers it; the rendered file warns about it.
      assert.deepEqual(
        o,
        { ok: true, text: 'c-plain@%' },
        'PyMySQL now refuses a server without TLS: drop the warning in client.cnf',
      );
      continue;
    }
    assert.equal(o.ok, false, `${lib} talked to a server without TLS: ${o.text}`);
    assert.match(o.text, /SSL|TLS|secure connection|gone away/i, `${lib}: ${o.text}`);
    assert.doesNotMatch(o.text, /Access denied|No module|Can't locate|cannot load|no verdict/i, `${lib}: ${o.text}`);
  }
  assert.match(
    await readFile(join(fx.out, 'clients/c-plain/client.cnf'), 'utf8'),
    /PyMySQL .* carries on without TLS/s,
  );
});
