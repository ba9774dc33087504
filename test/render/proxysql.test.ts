// `dbtls render` for a ProxySQL node: proxysql.cnf read back by libconfig itself (the parser
// ProxySQL uses; Debian's libconfig-dev, through the small C program test/c/libconfig-dump.c),
// proxysql-admin.sql checked statement by statement (and, where sqlite3 is installed, run against
// ProxySQL's own mysql_servers table definition: the admin interface is SQLite), escaping of
// tricky values through the engine, and byte-identical re-renders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { dbtls, run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { repoRoot } from '../helpers/paths.js';
import { fileScope, once } from '../helpers/scope.js';
import { which } from '../helpers/which.js';
import { assertCleanText } from '../helpers/rendered-text.js';

const scope = fileScope();

const PROXY_DEST = '/etc/proxysql/tls';
const ADMIN_PORT = 7032;

/** Three MySQL-family servers behind one ProxySQL; db2 replicates from db1 on a non-default port. */
const NODES = [
  { name: 'proxy1', host: 'proxy1.example.com', roles: ['proxysql'], dest: PROXY_DEST, adminPort: ADMIN_PORT },
  { name: 'db1', host: '10.0.0.11', roles: ['mysql'] },
  { name: 'db2', host: 'db2.example.com', roles: ['mariadb'], port: 3307, replicaOf: 'db1' },
  { name: 'db3', host: '10.0.0.13', roles: ['mariadb'] },
];

/** What proxy1's files must say about each backend: the inventory's order, writers 10, replicas 20. */
const BACKENDS = [
  { name: 'db1', host: '10.0.0.11', port: 3306, hostgroup: 10 },
  { name: 'db2', host: 'db2.example.com', port: 3307, hostgroup: 20 },
  { name: 'db3', host: '10.0.0.13', port: 3306, hostgroup: 10 },
];

async function writeInventory(dir: string, nodes: object[]): Promise<string> {
  const file = join(dir, 'inventory.yml');
  await writeFile(
    file,
    stringify({
      cluster: 'test',
      pki: './pki',
      ca: { commonName: 'Test Cluster CA' },
      nodes: nodes.map((n) => ({ ...n, transport: 'local' })),
    }),
  );
  return file;
}

async function issued(nodes: object[]): Promise<{ dir: string; inventory: string }> {
  const dir = await tempDir(scope, 'dbtls-proxysql-');
  const inventory = await writeInventory(dir, nodes);
  const r = await dbtls(['issue', '-i', inventory]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return { dir, inventory };
}

const cluster = once(() => issued(NODES));

async function render(inventory: string, out: string, extra: string[] = []): Promise<void> {
  // --node: only the ProxySQL's files (the other roles' templates are not this test's subject).
  const r = await dbtls(['render', '-i', inventory, '--out', out, '--node', 'proxy1', ...extra]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

/** The C program, compiled once per test file against Debian's libconfig. */
const dumper = once(async () => {
  const cc = await which('cc');
  assert.ok(cc, 'no C compiler (cc); run `make system-deps` (gcc, libconfig-dev)');
  const dir = await tempDir(scope, 'dbtls-libconfig-');
  const exe = join(dir, 'libconfig-dump');
  const r = await run(cc, [
    '-std=c99',
    '-O0',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-o',
    exe,
    join(repoRoot, 'test/c/libconfig-dump.c'),
    '-lconfig',
  ]);
  assert.equal(
    r.code,
    0,
    `compiling test/c/libconfig-dump.c failed (is libconfig-dev installed? run \`make system-deps\`):\n${r.stderr}`,
  );
  return exe;
});

interface Setting {
  type: string;
  value: unknown;
}

/** Every setting libconfig read from FILE, by path (mysql_servers[0].port → {type: 'int', value: 3306}). */
async function libconfig(file: string): Promise<Map<string, Setting>> {
  const r = await run(await dumper(), [file]);
  assert.equal(r.code, 0, `libconfig rejected ${file}: ${r.stderr}`);
  const settings = new Map<string, Setting>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const m = /^(\S+) (\S+) (.*)$/.exec(line);
    assert.ok(m, `unexpected dumper line ${JSON.stringify(line)}`);
    settings.set(m[1]!, { type: m[2]!, value: JSON.parse(m[3]!) });
  }
  return settings;
}

/** The statements of a SQL file, comments and blank lines left out (each statement is one line). */
function statements(sql: string): string[] {
  return sql.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--'));
}

/** A MySQL single-quoted literal read back (doubled quotes, backslash escapes); undefined if malformed. */
function readSqlLiteral(text: string): string | undefined {
  const m = /^'((?:[^'\\]|''|\\.)*)'$/s.exec(text);
  if (!m) return undefined;
  const esc: Record<string, string> = { n: '\n', r: '\r', t: '\t', '0': '\0', Z: '\x1a', b: '\b' };
  return m[1]!.replace(/''|\\(.)/gs, (all, c: string | undefined) => (all === "''" ? "'" : (esc[c!] ?? c!)));
}

test('proxysql.cnf: libconfig reads have_ssl, the ssl_p2s_* paths on the node and one TLS mysql_servers entry per backend', async () => {
  const { dir, inventory } = await cluster();
  const out = join(dir, 'rendered');
  await render(inventory, out);
  const file = join(out, 'proxy1/proxysql.cnf');
  const text = await readFile(file, 'utf8');
  assertCleanText(text, 'proxysql.cnf');

  const lines = text.split('\n');
  assert.match(lines[0]!, /^# Generated by dbtls \S+ from inventory\.yml for node proxy1\. Do not edit by hand/);
  assert.match(text, /only when its datadir has no proxysql\.db yet, or when\n# it is started with --initial/);
  assert.match(text, new RegExp(`run proxysql-admin\\.sql on its admin\\n# interface \\(port ${ADMIN_PORT}\\)`));
  for (const f of ['proxysql-ca.pem', 'proxysql-cert.pem', 'proxysql-key.pem'])
    assert.ok(text.includes(`#   /var/lib/proxysql/${f}\n`), f);
  assert.match(text, /All three or none/);
  assert.match(text, /PROXYSQL RELOAD TLS` \(ProxySQL >= 2\.3\.0\)/);
  assert.match(
    text,
    /Admin\n# credentials, mysql_users, query rules, monitor settings and the rest of the file stay yours/,
  );

  const s = await libconfig(file);
  const roots = [...s.keys()].filter((k) => !/[.[]/.test(k));
  assert.deepEqual(roots, ['mysql_variables', 'mysql_servers'], 'only the TLS-relevant settings');
  assert.deepEqual(s.get('mysql_variables'), { type: 'group', value: 4 });
  assert.deepEqual(s.get('mysql_variables.have_ssl'), { type: 'bool', value: true });
  // Backend TLS uses the node's own client identity, at the paths the push puts it (its dest).
  assert.deepEqual(s.get('mysql_variables.ssl_p2s_ca'), { type: 'string', value: `${PROXY_DEST}/ca.pem` });
  assert.deepEqual(s.get('mysql_variables.ssl_p2s_cert'), { type: 'string', value: `${PROXY_DEST}/client-cert.pem` });
  assert.deepEqual(s.get('mysql_variables.ssl_p2s_key'), { type: 'string', value: `${PROXY_DEST}/client-key.pem` });
  assert.ok(
    ![...s.keys()].some((k) => /^mysql_variables\.mysql-/.test(k)),
    'names inside mysql_variables drop the mysql- prefix',
  );

  assert.deepEqual(s.get('mysql_servers'), { type: 'list', value: BACKENDS.length });
  BACKENDS.forEach((b, i) => {
    const at = (k: string) => s.get(`mysql_servers[${i}].${k}`);
    assert.deepEqual(s.get(`mysql_servers[${i}]`), { type: 'group', value: 4 }, b.name);
    assert.deepEqual(at('address'), { type: 'string', value: b.host }, b.name);
    assert.deepEqual(at('port'), { type: 'int', value: b.port }, b.name);
    assert.deepEqual(at('hostgroup'), { type: 'int', value: b.hostgroup }, b.name);
    assert.deepEqual(at('use_ssl'), { type: 'int', value: 1 }, b.name);
  });
});

test('libconfig is the real parser: a trailing comma in mysql_servers and a missing brace are refused with their line', async () => {
  const { dir, inventory } = await cluster();
  const out = join(dir, 'rendered-broken');
  await render(inventory, out);
  const good = await readFile(join(out, 'proxy1/proxysql.cnf'), 'utf8');
  const lines = good.split('\n');

  // What a careless template loop would write: "use_ssl = 1 }," before the list's ")".
  const close = lines.lastIndexOf(')');
  assert.ok(close > 0 && lines[close - 1]!.endsWith('use_ssl = 1 }'), 'the last entry has no comma');
  const comma = [...lines];
  comma[close - 1] += ',';
  await writeFile(join(dir, 'comma.cnf'), comma.join('\n'));
  let r = await run(await dumper(), [join(dir, 'comma.cnf')]);
  assert.equal(r.code, 1, r.stdout);
  assert.equal(r.stderr.trim(), `${join(dir, 'comma.cnf')}:${close + 1}: syntax error`);

  const unclosed = lines.filter((l) => l !== '}');
  await writeFile(join(dir, 'unclosed.cnf'), unclosed.join('\n'));
  r = await run(await dumper(), [join(dir, 'unclosed.cnf')]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /unclosed\.cnf:\d+: syntax error/);
});

test('proxysql-admin.sql: SET, server rows, LOAD/SAVE and RELOAD TLS in order, every value a quoted SQL literal', async () => {
  const { dir, inventory } = await cluster();
  const out = join(dir, 'rendered');
  await render(inventory, out);
  const text = await readFile(join(out, 'proxy1/proxysql-admin.sql'), 'utf8');
  assertCleanText(text, 'proxysql-admin.sql');
  assert.match(
    text.split('\n')[0]!,
    /^-- Generated by dbtls \S+ from inventory\.yml for node proxy1\. Do not edit by hand/,
  );
  assert.match(text, new RegExp(`admin interface \\(port ${ADMIN_PORT}\\)`));
  assert.match(text, new RegExp(`mysql -h 127\\.0\\.0\\.1 -P ${ADMIN_PORT} -u admin -p < proxysql-admin\\.sql`));
  for (const f of ['proxysql-ca.pem', 'proxysql-cert.pem', 'proxysql-key.pem'])
    assert.ok(text.includes(`--   /var/lib/proxysql/${f}\n`), f);

  const sql = (v: string) => `'${v}'`; // the values here hold no quote or backslash
  const expected = [
    `SET mysql-ssl_p2s_ca=${sql(`${PROXY_DEST}/ca.pem`)};`,
    `SET mysql-ssl_p2s_cert=${sql(`${PROXY_DEST}/client-cert.pem`)};`,
    `SET mysql-ssl_p2s_key=${sql(`${PROXY_DEST}/client-key.pem`)};`,
    `SET mysql-have_ssl='true';`,
    ...BACKENDS.flatMap((b) => [
      `INSERT INTO mysql_servers (hostgroup_id, hostname, port, use_ssl) SELECT ${b.hostgroup}, ${sql(b.host)}, ${b.port}, 1 WHERE NOT EXISTS (SELECT 1 FROM mysql_servers WHERE hostname=${sql(b.host)} AND port=${b.port});`,
      `UPDATE mysql_servers SET use_ssl=1 WHERE hostname=${sql(b.host)} AND port=${b.port};`,
    ]),
    'LOAD MYSQL VARIABLES TO RUNTIME;',
    'SAVE MYSQL VARIABLES TO DISK;',
    'LOAD MYSQL SERVERS TO RUNTIME;',
    'SAVE MYSQL SERVERS TO DISK;',
    'PROXYSQL RELOAD TLS;',
  ];
  const got = statements(text);
  assert.deepEqual(got, expected);

  // Every quoted value is a well-formed literal that reads back as the value meant.
  for (const st of got) {
    for (const lit of st.match(/'(?:[^'\\]|''|\\.)*'/g) ?? []) assert.notEqual(readSqlLiteral(lit), undefined, lit);
    assert.equal((st.replace(/'(?:[^'\\]|''|\\.)*'/g, '').match(/'/g) ?? []).length, 0, `no stray quote in ${st}`);
  }
  const set = new Map(
    got
      .filter((l) => l.startsWith('SET '))
      .map((l) => {
        const m = /^SET (mysql-[a-z0-9_]+)=('.*');$/.exec(l)!;
        return [m[1]!, readSqlLiteral(m[2]!)] as const;
      }),
  );
  assert.deepEqual(Object.fromEntries(set), {
    'mysql-ssl_p2s_ca': `${PROXY_DEST}/ca.pem`,
    'mysql-ssl_p2s_cert': `${PROXY_DEST}/client-cert.pem`,
    'mysql-ssl_p2s_key': `${PROXY_DEST}/client-key.pem`,
    'mysql-have_ssl': 'true',
  });
});

// ProxySQL's admin interface runs these statements on SQLite; this is its mysql_servers table (2.0.11+).
const MYSQL_SERVERS_TABLE =
  "CREATE TABLE mysql_servers (hostgroup_id INT CHECK (hostgroup_id>=0) NOT NULL DEFAULT 0 , hostname VARCHAR NOT NULL , port INT CHECK (port >= 0 AND port <= 65535) NOT NULL DEFAULT 3306 , gtid_port INT CHECK ((gtid_port <> port OR gtid_port=0) AND gtid_port >= 0 AND gtid_port <= 65535) NOT NULL DEFAULT 0 , status VARCHAR CHECK (UPPER(status) IN ('ONLINE','SHUNNED','OFFLINE_SOFT', 'OFFLINE_HARD')) NOT NULL DEFAULT 'ONLINE' , weight INT CHECK (weight >= 0 AND weight <=10000000) NOT NULL DEFAULT 1 , compression INT CHECK (compression IN(0,1)) NOT NULL DEFAULT 0 , max_connections INT CHECK (max_connections >=0) NOT NULL DEFAULT 1000 , max_replication_lag INT CHECK (max_replication_lag >= 0 AND max_replication_lag <= 126144000) NOT NULL DEFAULT 0 , use_ssl INT CHECK (use_ssl IN(0,1)) NOT NULL DEFAULT 0 , max_latency_ms INT UNSIGNED CHECK (max_latency_ms>=0) NOT NULL DEFAULT 0 , comment VARCHAR NOT NULL DEFAULT '' , PRIMARY KEY (hostgroup_id, hostname, port) );";

test('proxysql-admin.sql server statements on SQLite: missing servers added, existing rows keep their settings, a re-run changes nothing', async () => {
  const sqlite3 = await which('sqlite3');
  assert.ok(sqlite3, 'sqlite3 is missing: make test installs it (scripts/install-system-deps.sh)');
  const { dir, inventory } = await cluster();
  const out = join(dir, 'rendered');
  await render(inventory, out);
  const servers = statements(await readFile(join(out, 'proxy1/proxysql-admin.sql'), 'utf8')).filter((l) =>
    /^(INSERT|UPDATE) /.test(l),
  );
  const script = [
    MYSQL_SERVERS_TABLE,
    // The user already routes db3 through their own hostgroup 0, tuned.
    "INSERT INTO mysql_servers (hostgroup_id, hostname, port, weight, comment) VALUES (0, '10.0.0.13', 3306, 5, 'mine');",
    ...servers,
    ...servers,
    "SELECT hostgroup_id || '|' || hostname || '|' || port || '|' || use_ssl || '|' || weight || '|' || comment FROM mysql_servers ORDER BY hostname, port, hostgroup_id;",
  ].join('\n');
  const r = await run(sqlite3, ['-bail', ':memory:'], { input: script });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    '10|10.0.0.11|3306|1|1|',
    '0|10.0.0.13|3306|1|5|mine',
    '20|db2.example.com|3307|1|1|',
  ]);
});

test('tricky values through the engine: libconfig and SQL escaping read back exactly (templates overridden with --templates)', async () => {
  const { dir, inventory } = await cluster();
  const tpl = join(dir, 'my-templates');
  await mkdir(join(tpl, 'proxysql'), { recursive: true });
  const tricky = `a "quoted" \\ back\\slash, it's # not // a /* comment */\ttab\nnew line\r\fé ü €`;
  const capture = `{% capture tricky %}${tricky}{% endcapture -%}\n`;
  await writeFile(
    join(tpl, 'proxysql/proxysql.cnf'),
    `${capture}tricky = {{ tricky | libconfig }}\nname = {{ node.name | libconfig }}\n`,
  );
  await writeFile(join(tpl, 'proxysql/proxysql-admin.sql'), `${capture}SELECT {{ tricky | sql }};\n`);
  const out = join(dir, 'rendered-tricky');
  await render(inventory, out, ['--templates', tpl]);

  const s = await libconfig(join(out, 'proxy1/proxysql.cnf'));
  assert.deepEqual(s.get('tricky'), { type: 'string', value: tricky });
  assert.deepEqual(s.get('name'), { type: 'string', value: 'proxy1' });

  const sqlText = await readFile(join(out, 'proxy1/proxysql-admin.sql'), 'utf8');
  const m = /^SELECT ('.*');\n$/s.exec(sqlText);
  assert.ok(m, sqlText);
  assert.equal(m[1], `'a "quoted" \\\\ back\\\\slash, it''s # not // a /* comment */\ttab\\nnew line\\r\fé ü €'`);
  assert.equal(readSqlLiteral(m[1]!), tricky);
});

test('a ProxySQL without MySQL-family servers: no mysql_servers setting, no server statements, still valid', async () => {
  const { dir, inventory } = await issued([{ name: 'proxy1', host: '10.0.0.21', roles: ['proxysql'] }]);
  const out = join(dir, 'rendered');
  await render(inventory, out);
  const cnf = await readFile(join(out, 'proxy1/proxysql.cnf'), 'utf8');
  assertCleanText(cnf, 'proxysql.cnf');
  const s = await libconfig(join(out, 'proxy1/proxysql.cnf'));
  assert.equal(s.has('mysql_servers'), false);
  assert.deepEqual(s.get('mysql_variables.ssl_p2s_cert'), {
    type: 'string',
    value: '/var/lib/proxysql/client-cert.pem',
  });
  assert.match(cnf, /no MySQL-family server behind this ProxySQL/);
  const sql = await readFile(join(out, 'proxy1/proxysql-admin.sql'), 'utf8');
  assertCleanText(sql, 'proxysql-admin.sql');
  assert.deepEqual(statements(sql).slice(3), [
    `SET mysql-have_ssl='true';`,
    'LOAD MYSQL VARIABLES TO RUNTIME;',
    'SAVE MYSQL VARIABLES TO DISK;',
    'LOAD MYSQL SERVERS TO RUNTIME;',
    'SAVE MYSQL SERVERS TO DISK;',
    'PROXYSQL RELOAD TLS;',
  ]);
});

test('the templates put every value outside comments through its format filter (integers from the context aside)', async () => {
  const filters: Record<string, string> = { 'proxysql.cnf': 'libconfig', 'proxysql-admin.sql': 'sqlite' };
  const integers = new Set(['b.port', 'b.hostgroup']);
  for (const [file, filter] of Object.entries(filters)) {
    const source = await readFile(join(repoRoot, 'templates/proxysql', file), 'utf8');
    const comment = file.endsWith('.sql') ? '--' : '#';
    source.split('\n').forEach((line, i) => {
      if (line.trimStart().startsWith(comment)) return;
      for (const [, expr] of line.matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/g)) {
        const ok = integers.has(expr!) || new RegExp(`^[\\w.]+ \\| ${filter}$`).test(expr!);
        assert.ok(ok, `templates/proxysql/${file}:${i + 1}: {{ ${expr} }} is not escaped with | ${filter}`);
      }
    });
  }
});

test('deterministic: two renders give the same bytes, and --check finds nothing to change', async () => {
  const { dir, inventory } = await cluster();
  const a = join(dir, 'det-a');
  const b = join(dir, 'det-b');
  await render(inventory, a);
  await render(inventory, b);
  for (const f of ['proxysql.cnf', 'proxysql-admin.sql']) {
    assert.deepEqual(await readFile(join(a, 'proxy1', f)), await readFile(join(b, 'proxy1', f)), f);
  }
  const r = await dbtls(['render', '-i', inventory, '--out', a, '--node', 'proxy1', '--check']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /all 2 files up to date/);
});
