// `dbtls render` for TiDB/PD/TiKV, Tungsten and every client, each rendered file read back by a real
// parser: TOML by smol-toml, tungsten.ini and connectorj.properties by small readers that follow the
// formats' rules, client.cnf by my_print_defaults and the mariadb client, and the MariaDB Connector/J
// URL by the real driver (Debian's libmariadb-java 2.7) against a real MariaDB serving the node's
// certificate to accounts that REQUIRE SUBJECT of the client certificates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { access, copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseToml } from 'smol-toml';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';
import { prepareJava, requireConnectorJ, runJava } from '../helpers/java.js';
import { findMariadb, startMariadb, type MariadbServer } from '../helpers/mariadb.js';
import { repoRoot } from '../helpers/paths.js';
import { dbtls, run, type RunResult } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { tempDir } from '../helpers/tmp.js';

const scope = fileScope();

// ── REFERENCE §3, §5, §6: the key names each product reads ──────────────────────────────────────
const TIDB_KEYS = [
  'ssl-ca',
  'ssl-cert',
  'ssl-key',
  'cluster-ssl-ca',
  'cluster-ssl-cert',
  'cluster-ssl-key',
  'cluster-verify-cn',
  'tls-version',
  'auto-tls',
  'session-token-signing-cert',
  'session-token-signing-key',
];
const TIDB_REQUIRED = TIDB_KEYS.slice(0, 8);
const PD_KEYS = ['cacert-path', 'cert-path', 'key-path', 'cert-allowed-cn'];
const TIKV_KEYS = ['ca-path', 'cert-path', 'key-path', 'cert-allowed-cn'];
const TUNGSTEN_KEYS = [
  'disable-security-controls',
  'enable-rmi-ssl',
  'enable-thl-ssl',
  'enable-jgroups-ssl',
  'java-keystore-path',
  'java-truststore-path',
  'java-keystore-password',
  'java-truststore-password',
  'java-tls-keystore-path',
  'java-tls-alias',
  'java-jgroups-keystore-path',
  'java-jgroups-key',
  'enable-connector-ssl',
  'connector-ssl',
  'enable-connector-client-ssl',
  'enable-connector-server-ssl',
  'java-connector-keystore-path',
  'java-connector-keystore-password',
  'java-connector-truststore-path',
  'java-connector-truststore-password',
  'datasource-enable-ssl',
  'datasource-mysql-ssl-ca',
  'datasource-mysql-ssl-cert',
  'datasource-mysql-ssl-key',
];
const CONNECTOR_J_KEYS = [
  'sslMode',
  'trustCertificateKeyStoreUrl',
  'trustCertificateKeyStoreType',
  'trustCertificateKeyStorePassword',
  'clientCertificateKeyStoreUrl',
  'clientCertificateKeyStoreType',
  'clientCertificateKeyStorePassword',
  'tlsVersions',
];

// ── The cluster: TiDB, PD, TiKV (own dest), Tungsten on MySQL, a MariaDB on 127.0.0.1 ────────────
const NODES: TestInventory['nodes'] = [
  { name: 'tidb1', host: 'tidb1.example.com', roles: ['tidb'] },
  { name: 'pd1', host: '10.0.0.2', roles: ['pd'] },
  { name: 'tikv1', host: 'tikv1.example.com', roles: ['tikv'], dest: '/data/tikv/tls' },
  { name: 'tun1', host: 'tun1.example.com', roles: ['tungsten', 'mysql'] },
  { name: 'maria1', host: '127.0.0.1', roles: ['mariadb'] },
];
// Two clients with Java stores dial the live MariaDB; "plain" has none and dials the default entry (TiDB).
const CLIENTS = [
  { name: 'app-p12', keystore: 'pkcs12' as const, connectTo: 'maria1' },
  { name: 'app-jks', keystore: 'jks' as const, connectTo: 'maria1' },
  { name: 'plain' },
];
const JAVA_CLIENTS = [
  { name: 'app-p12', type: 'PKCS12', ext: 'p12' },
  { name: 'app-jks', type: 'JKS', ext: 'jks' },
] as const;
const CLUSTER_CNS = ['tidb1', 'tidb1-client', 'pd1', 'pd1-client', 'tikv1', 'tikv1-client'];
const CLIENT_FILES = [
  'client.cnf',
  'connectorj.properties',
  'jdbc-url.txt',
  'mariadb-connector-j-url.txt',
  'go-dsn.md',
  'mysql2-ssl.js',
  'php-mysql.php',
];
const MINE = [
  'tidb1/tidb.toml',
  'pd1/pd.toml',
  'tikv1/tikv.toml',
  'tun1/tungsten.ini',
  ...CLIENTS.flatMap((c) => CLIENT_FILES.map((f) => `clients/${c.name}/${f}`)),
];

// The nodes' MySQL/MariaDB templates are written by another part of the work: while one of them is
// not in templates/ yet, a --templates folder supplies a one-line stand-in so this file can run.
const FOREIGN = [
  'mysql/my.cnf',
  'mysql/client.cnf',
  'mysql/users.sql',
  'mariadb/my.cnf',
  'mariadb/client.cnf',
  'mariadb/users.sql',
];

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** A --templates folder with FILES plus stand-ins for missing foreign templates; [] when there is nothing to add. */
async function templatesDir(dir: string, files: Record<string, string> = {}): Promise<string[]> {
  const all = { ...files };
  for (const t of FOREIGN) if (!(t in all) && !(await exists(join(repoRoot, 'templates', t)))) all[t] = '# stand-in\n';
  if (!Object.keys(all).length) return [];
  for (const [rel, text] of Object.entries(all)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
  return ['--templates', dir];
}

/** "C=DE\nCN=app" → "/C=DE/CN=app", the form REQUIRE SUBJECT compares. */
const mysqlDn = (subject: string) =>
  subject
    .split('\n')
    .filter(Boolean)
    .map((p) => '/' + p)
    .join('');

interface Fixture {
  dir: string;
  inventory: string;
  pki: string;
  out: string;
  storepass: string;
  db: MariadbServer;
  /** --templates with stand-ins, or nothing. */
  stand: string[];
}

const fixture = once(async (): Promise<Fixture> => {
  const dir = await tempDir(scope, 'dbtls-render-tt-');
  const first = await writeInventory(dir, { nodes: NODES, clients: CLIENTS });
  const [issued] = await Promise.all([dbtls(['issue', '-i', first]), prepareJava('ConnectorJ.java')]);
  assert.equal(issued.code, 0, `dbtls issue failed:\n${issued.stdout}\n${issued.stderr}`);
  const pki = join(dir, 'pki');
  const node = (f: string) => join(pki, 'nodes/maria1', f);
  const db = await startMariadb(scope, {
    ssl: { ca: join(pki, 'ca.pem'), cert: node('server-cert.pem'), key: node('server-key.pem') },
  });
  const issuer = mysqlDn(new X509Certificate(await readFile(join(pki, 'ca.pem'))).subject);
  for (const c of JAVA_CLIENTS) {
    const subject = mysqlDn(
      new X509Certificate(await readFile(join(pki, 'clients', c.name, 'client-cert.pem'))).subject,
    );
    await db.sql(
      `CREATE USER '${c.name}'@'%' REQUIRE SUBJECT '${subject}' AND ISSUER '${issuer}'; GRANT USAGE ON *.* TO '${c.name}'@'%'`,
    );
  }
  // The server got a free port: now the inventory says where maria1 listens (certificates do not change).
  const inventory = await writeInventory(dir, {
    nodes: NODES.map((n) => (n.name === 'maria1' ? { ...n, port: db.port } : n)),
    clients: CLIENTS,
  });
  const stand = await templatesDir(join(dir, 'stand-ins'));
  const out = join(dir, 'rendered');
  const r = await dbtls(['render', '-i', inventory, '--out', out, ...stand]);
  assert.equal(r.code, 0, `dbtls render failed:\n${r.stdout}\n${r.stderr}`);
  const storepass = (await readFile(join(pki, 'storepass'), 'utf8')).replace(/\r?\n$/, '');
  return { dir, inventory, pki, out, storepass, db, stand };
});

const rendered = async (rel: string) => readFile(join((await fixture()).out, rel), 'utf8');

// ── Small readers for the formats without a parser in node_modules ──────────────────────────────

/** tpm's INI: [section] headers, key=value lines, # and ; comments. Duplicates are an error. */
function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      assert.ok(!sections.has(header[1]!), `line ${i + 1}: section [${header[1]}] twice`);
      sections.set(header[1]!, (current = new Map()));
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current, `line ${i + 1}: option outside a section`);
    assert.ok(eq > 0, `line ${i + 1}: not key=value: ${line}`);
    const key = line.slice(0, eq).trim();
    assert.ok(!current.has(key), `line ${i + 1}: ${key} twice`);
    current.set(key, line.slice(eq + 1).trim());
  }
  return sections;
}

/** java.util.Properties.load: comments, continuation lines, key separators and backslash escapes. */
function parseProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  const unescape = (s: string) =>
    s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) =>
      e.length === 5
        ? String.fromCharCode(parseInt(e.slice(1), 16))
        : (({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[e] ?? e),
    );
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^[ \t\f]+/, '');
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    // A line ending in an odd number of backslashes continues on the next one.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length)
      line = line.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    let k = 0;
    while (k < line.length && !/[=: \t\f]/.test(line[k]!)) k += line[k] === '\\' ? 2 : 1;
    const key = unescape(line.slice(0, k));
    const rest = line.slice(k).replace(/^[ \t\f]*[=:]?[ \t\f]*/, '');
    assert.ok(!props.has(key), `${key} twice`);
    props.set(key, unescape(rest));
  }
  return props;
}

/** The non-comment lines of a URL file. */
const urlLines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

function urlParams(url: string): Map<string, string> {
  const q = url.slice(url.indexOf('?') + 1);
  return new Map(
    q.split('&').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]),
  );
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

// ── Tests ───────────────────────────────────────────────────────────────────────────────────────

test('the self-check of the .properties reader: escapes, separators and continuations as Java reads them', () => {
  const p = parseProperties('# c\n! c\na=file\\:/x\\ y\nb : 1\\\n   2\nc\\=d=e\n  f\tg\nh\\u0041=\\u0042\n');
  assert.deepEqual(
    [...p],
    [
      ['a', 'file:/x y'],
      ['b', '12'],
      ['c=d', 'e'],
      ['f', 'g'],
      ['hA', 'B'],
    ],
  );
});

test('every file is generated-marked, deterministic and clean: header comment, no trailing blanks, a re-render changes nothing', async () => {
  const fx = await fixture();
  for (const rel of MINE) {
    const text = await rendered(rel);
    // A PHP file opens with its "<?php" tag; its first comment follows.
    const head = text
      .replace(/^<\?php\n/, '')
      .split('\n')
      .slice(0, 2)
      .join('\n');
    assert.match(head, /^(#|\/\/|<!--)/, `${rel} does not start with a comment`);
    assert.match(head, /Generated by dbtls \S+ from inventory\.yml for (node|client) [\w.-]+/, rel);
    assert.doesNotMatch(text, /[ \t]$/m, `${rel} has trailing blanks`);
    assert.doesNotMatch(text, /\n\n\n/, `${rel} has runs of blank lines`);
    assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'), `${rel} must end with exactly one newline`);
  }
  assert.deepEqual(sorted(await readdir(join(fx.out, 'clients'))), sorted(CLIENTS.map((c) => c.name)));
  const again = await dbtls(['render', '-i', fx.inventory, '--out', fx.out, '--check', ...fx.stand]);
  assert.equal(again.code, 0, `a second render would change files:\n${again.stdout}\n${again.stderr}`);
});

test('tidb.toml, pd.toml, tikv.toml: [security] holds exactly REFERENCE §3 keys, the node paths and the cluster CNs', async () => {
  const fx = await fixture();
  const security = async (rel: string) => {
    const doc = parseToml(await rendered(rel)) as Record<string, unknown>;
    // PD also gets [dashboard] (Dashboard → TiDB) when the cluster has a TiDB: test/render/tidb-stack.test.ts.
    const tables = rel.endsWith('pd.toml') ? ['security', 'dashboard'] : ['security'];
    assert.deepEqual(Object.keys(doc), tables, `${rel}: only ${tables.join(' and ')}`);
    return doc.security as Record<string, unknown>;
  };
  const checkKeys = (rel: string, got: Record<string, unknown>, allowed: string[], required: string[]) => {
    for (const k of Object.keys(got)) assert.ok(allowed.includes(k), `${rel}: unknown key ${k}`);
    for (const k of required) assert.ok(k in got, `${rel}: ${k} missing`);
  };

  const tidb = await security('tidb1/tidb.toml');
  checkKeys('tidb.toml', tidb, TIDB_KEYS, TIDB_REQUIRED);
  const t = (f: string) => `/etc/tidb/tls/${f}`;
  assert.deepEqual(
    { ...tidb, 'cluster-verify-cn': undefined },
    {
      'ssl-ca': t('ca.pem'),
      'ssl-cert': t('server-cert.pem'),
      'ssl-key': t('server-key.pem'),
      'cluster-ssl-ca': t('ca.pem'),
      'cluster-ssl-cert': t('server-cert.pem'),
      'cluster-ssl-key': t('server-key.pem'),
      'cluster-verify-cn': undefined,
      'tls-version': 'TLSv1.2',
    },
  );
  assert.deepEqual(sorted(tidb['cluster-verify-cn'] as string[]), sorted(CLUSTER_CNS));

  const pd = await security('pd1/pd.toml');
  checkKeys('pd.toml', pd, PD_KEYS, PD_KEYS);
  assert.deepEqual(
    { ...pd, 'cert-allowed-cn': undefined },
    {
      'cacert-path': t('ca.pem'),
      'cert-path': t('server-cert.pem'),
      'key-path': t('server-key.pem'),
      'cert-allowed-cn': undefined,
    },
  );
  assert.deepEqual(sorted(pd['cert-allowed-cn'] as string[]), sorted(CLUSTER_CNS));

  const tikv = await security('tikv1/tikv.toml');
  checkKeys('tikv.toml', tikv, TIKV_KEYS, TIKV_KEYS);
  const d = (f: string) => `/data/tikv/tls/${f}`; // the node's own dest
  assert.deepEqual(
    { ...tikv, 'cert-allowed-cn': undefined },
    {
      'ca-path': d('ca.pem'),
      'cert-path': d('server-cert.pem'),
      'key-path': d('server-key.pem'),
      'cert-allowed-cn': undefined,
    },
  );
  assert.deepEqual(sorted(tikv['cert-allowed-cn'] as string[]), sorted(CLUSTER_CNS));

  // cluster-ssl-cert is the server certificate: it must be good for dialling too, with a CN PD/TiKV allow.
  for (const n of ['tidb1', 'pd1', 'tikv1']) {
    const cert = new X509Certificate(await readFile(join(fx.pki, 'nodes', n, 'server-cert.pem')));
    assert.ok(cert.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), `${n}: the server certificate lacks clientAuth`);
    assert.ok(CLUSTER_CNS.includes(/CN=([^\n]+)/.exec(cert.subject)![1]!), `${n}: CN not in the allowed list`);
  }
});

test('tungsten.ini: [defaults] holds REFERENCE §5 options, the stores under /opt/continuent/share with the store password, and is 0600', async () => {
  const fx = await fixture();
  const path = join(fx.out, 'tun1/tungsten.ini');
  assert.equal((await stat(path)).mode & 0o777, 0o600, 'tungsten.ini holds the store password');
  const ini = parseIni(await readFile(path, 'utf8'));
  assert.deepEqual([...ini.keys()], ['defaults']);
  const opts = ini.get('defaults')!;
  for (const k of opts.keys()) assert.ok(TUNGSTEN_KEYS.includes(k), `unknown option ${k}`);
  const share = (f: string) => `/opt/continuent/share/${f}`;
  // docs/keystores.md's list, plus the datasource's own TLS.
  assert.deepEqual(Object.fromEntries(opts), {
    'disable-security-controls': 'false',
    'enable-rmi-ssl': 'true',
    'enable-thl-ssl': 'true',
    'enable-jgroups-ssl': 'true',
    'java-keystore-path': share('tungsten_keystore.jks'),
    'java-truststore-path': share('tungsten_truststore.ts'),
    'java-keystore-password': fx.storepass,
    'java-truststore-password': fx.storepass,
    'java-tls-keystore-path': share('tungsten_tls_keystore.jks'),
    'java-tls-alias': 'tls',
    'java-jgroups-keystore-path': share('tungsten_jgroups_keystore.jceks'),
    'java-jgroups-key': 'jgroups',
    'enable-connector-ssl': 'true',
    'java-connector-keystore-path': share('tungsten_connector_keystore.jks'),
    'java-connector-keystore-password': fx.storepass,
    'java-connector-truststore-path': share('tungsten_connector_truststore.ts'),
    'java-connector-truststore-password': fx.storepass,
    'datasource-enable-ssl': 'true',
    'datasource-mysql-ssl-ca': '/etc/mysql/ssl/ca.pem',
    'datasource-mysql-ssl-cert': '/etc/mysql/ssl/client-cert.pem',
    'datasource-mysql-ssl-key': '/etc/mysql/ssl/client-key.pem',
  });
  // Every store the file names was made by dbtls issue for this node.
  for (const [k, v] of opts) {
    if (k.endsWith('-path') && v.startsWith('/opt/continuent/share/')) {
      assert.ok(
        await exists(join(fx.pki, 'nodes/tun1/tungsten', v.slice('/opt/continuent/share/'.length))),
        `${k}: ${v} was not issued`,
      );
    }
  }
});

test('connectorj.properties: REFERENCE §6 keys, the client stores with their type and the store password (0600); without stores, how to get them', async () => {
  const fx = await fixture();
  for (const c of JAVA_CLIENTS) {
    const path = join(fx.out, 'clients', c.name, 'connectorj.properties');
    assert.equal((await stat(path)).mode & 0o777, 0o600, `${c.name}: the file holds the store password`);
    const props = parseProperties(await readFile(path, 'utf8'));
    assert.deepEqual(sorted(props.keys()), sorted(CONNECTOR_J_KEYS));
    const store = (kind: string) => join(fx.pki, 'clients', c.name, `${kind}.${c.ext}`);
    assert.deepEqual(Object.fromEntries(props), {
      sslMode: 'VERIFY_IDENTITY',
      trustCertificateKeyStoreUrl: `file:${store('truststore')}`,
      trustCertificateKeyStoreType: c.type,
      trustCertificateKeyStorePassword: fx.storepass,
      clientCertificateKeyStoreUrl: `file:${store('keystore')}`,
      clientCertificateKeyStoreType: c.type,
      clientCertificateKeyStorePassword: fx.storepass,
      tlsVersions: 'TLSv1.2,TLSv1.3',
    });
    for (const k of ['trustCertificateKeyStoreUrl', 'clientCertificateKeyStoreUrl']) {
      assert.ok(await exists(props.get(k)!.slice('file:'.length)), `${c.name}: ${k} names a missing file`);
    }

    // The MySQL Connector/J URL carries the same settings, to the client's target.
    const [url, ...more] = urlLines(await rendered(`clients/${c.name}/jdbc-url.txt`));
    assert.equal(more.length, 0);
    assert.ok(url!.startsWith(`jdbc:mysql://127.0.0.1:${fx.db.port}/?`), url);
    const params = urlParams(url!);
    assert.equal(params.get('user'), c.name);
    params.delete('user');
    assert.deepEqual(Object.fromEntries(params), Object.fromEntries(props));
  }

  const plainPath = join(fx.out, 'clients/plain/connectorj.properties');
  const plain = await readFile(plainPath, 'utf8');
  assert.deepEqual(Object.fromEntries(parseProperties(plain)), {
    sslMode: 'VERIFY_IDENTITY',
    tlsVersions: 'TLSv1.2,TLSv1.3',
  });
  assert.match(plain, /^# .*`keystore: pkcs12`/m, 'says how to get stores');
  assert.equal((await stat(plainPath)).mode & 0o777, 0o644, 'no password, no need to hide it');
  // No connectTo: the client dials the cluster's entry, the TiDB server on its default port.
  assert.deepEqual(urlLines(await rendered('clients/plain/jdbc-url.txt')), [
    'jdbc:mysql://tidb1.example.com:4000/?user=plain&sslMode=VERIFY_IDENTITY&tlsVersions=TLSv1.2,TLSv1.3',
  ]);
});

test('MariaDB Connector/J 2.7 connects with the rendered URL as it is: verified TLS, logged in by certificate (REQUIRE SUBJECT)', async () => {
  const fx = await fixture();
  const jar = await requireConnectorJ();
  await Promise.all(
    JAVA_CLIENTS.map(async (c) => {
      const lines = urlLines(await rendered(`clients/${c.name}/mariadb-connector-j-url.txt`));
      assert.equal(lines.length, 2, 'one URL for 2.7, one for 3.x');
      const [v27, v3] = lines as [string, string];
      assert.ok(v27.startsWith(`jdbc:mariadb://127.0.0.1:${fx.db.port}/?`), v27);
      const p27 = urlParams(v27);
      assert.equal(p27.get('useSsl'), 'true');
      assert.equal(p27.get('trustStoreType'), c.type);
      assert.ok(!p27.has('disableSslHostnameVerification'));
      const p3 = urlParams(v3);
      assert.equal(p3.get('sslMode'), 'verify-full');
      assert.equal(p3.get('keyStore'), p27.get('keyStore'));

      const r: RunResult = await runJava('ConnectorJ.java', [v27], { classpath: [jar], timeoutMs: 30_000 });
      assert.equal(r.code, 0, `${c.name}: Connector/J failed:\n${r.stdout}\n${r.stderr}`);
      const out = new Map(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
      );
      assert.match(out.get('Ssl_version') ?? '', /^TLSv1\.[23]$/, `${c.name}: not encrypted`);
      assert.equal(out.get('current_user'), `${c.name}@%`);
      assert.match(out.get('driver') ?? '', /^2\.7\./);
    }),
  );
  // Without stores the URL trusts the CA by its PEM file and says what is missing.
  const plain = await rendered('clients/plain/mariadb-connector-j-url.txt');
  assert.deepEqual(urlLines(plain), [
    `jdbc:mariadb://tidb1.example.com:4000/?user=plain&useSsl=true&serverSslCert=${join(fx.pki, 'ca.pem')}`,
    `jdbc:mariadb://tidb1.example.com:4000/?user=plain&sslMode=verify-full&serverSslCert=${join(fx.pki, 'ca.pem')}`,
  ]);
  assert.match(plain, /`keystore: pkcs12`/);
});

test('client.cnf: my_print_defaults reads the [client] group, and the mariadb client logs in with it over verified TLS', async () => {
  const fx = await fixture();
  const file = join(fx.out, 'clients/app-p12/client.cnf');
  const dir = join(fx.pki, 'clients/app-p12');
  const r = await run('my_print_defaults', [`--defaults-file=${file}`, 'client']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    '--host=127.0.0.1',
    `--port=${fx.db.port}`,
    '--user=app-p12',
    `--ssl-ca=${join(fx.pki, 'ca.pem')}`,
    `--ssl-cert=${join(dir, 'client-cert.pem')}`,
    `--ssl-key=${join(dir, 'client-key.pem')}`,
    '--loose-ssl-mode=VERIFY_IDENTITY',
  ]);
  // MariaDB's clients and Connector/C read verification from [client-mariadb], spelled "=1" (MySQL's ignore the group).
  const mariadbGroup = await run('my_print_defaults', [`--defaults-file=${file}`, 'client-mariadb']);
  assert.deepEqual(mariadbGroup.stdout.trim().split('\n'), ['--ssl-verify-server-cert=1']);

  const bins = await findMariadb();
  assert.ok(bins, 'the mariadb client is missing');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MYSQL_') && !k.startsWith('MARIADB_')),
  );
  const sql =
    "SELECT CURRENT_USER(); SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_VERSION'";
  const c = await run(bins.client, [`--defaults-file=${file}`, '--connect-timeout=10', '-N', '-B', '-e', sql], {
    env,
    timeoutMs: 30_000,
  });
  assert.equal(c.code, 0, `mariadb with client.cnf failed:\n${c.stderr}`);
  assert.deepEqual(c.stdout.trim().split('\n').slice(0, 1), ['app-p12@%']);
  assert.match(c.stdout.trim().split('\n')[1] ?? '', /^TLSv1\.[23]$/);

  // The client without a connectTo gets the TiDB entry's address in its file.
  const plain = await run('my_print_defaults', [
    `--defaults-file=${join(fx.out, 'clients/plain/client.cnf')}`,
    'client',
  ]);
  assert.deepEqual(plain.stdout.trim().split('\n').slice(0, 3), [
    '--host=tidb1.example.com',
    '--port=4000',
    '--user=plain',
  ]);
});

test('the Go note and the mysql2 snippet: the client PEM files, the target, verification on', async () => {
  const fx = await fixture();
  const dir = join(fx.pki, 'clients/app-p12');
  const go = await rendered('clients/app-p12/go-dsn.md');
  assert.ok(go.includes(`mysql.RegisterTLSConfig("dbtls", &tls.Config{`));
  assert.ok(go.includes(`ServerName:   "127.0.0.1",`));
  assert.ok(
    go.includes(
      `tls.LoadX509KeyPair(${JSON.stringify(join(dir, 'client-cert.pem'))}, ${JSON.stringify(join(dir, 'client-key.pem'))})`,
    ),
  );
  assert.ok(go.includes(`sql.Open("mysql", "app-p12@tcp(127.0.0.1:${fx.db.port})/?tls=dbtls")`));
  assert.doesNotMatch(go, /InsecureSkipVerify/);

  // The snippet is an ES module: load it (as .mjs) and look at what it hands to mysql2.
  const mjs = join(fx.dir, 'mysql2-ssl.mjs');
  await copyFile(join(fx.out, 'clients/app-p12/mysql2-ssl.js'), mjs);
  const { connectionOptions: o } = (await import(pathToFileURL(mjs).href)) as {
    connectionOptions: Record<string, any>;
  };
  assert.deepEqual(
    { host: o.host, port: o.port, user: o.user },
    { host: '127.0.0.1', port: fx.db.port, user: 'app-p12' },
  );
  assert.deepEqual(o.ssl.ca, await readFile(join(fx.pki, 'ca.pem')));
  assert.deepEqual(o.ssl.cert, await readFile(join(dir, 'client-cert.pem')));
  assert.deepEqual(o.ssl.key, await readFile(join(dir, 'client-key.pem')));
  assert.equal(o.ssl.rejectUnauthorized, true);
  assert.equal(o.ssl.verifyIdentity, true);
});

test('--templates overrides one template by its relative path; the others stay the built-in ones', async () => {
  const fx = await fixture();
  const custom =
    '<!-- my note for {{ client.name }} -->\n{{ client.account.user }}@tcp({{ client.target.host }}:{{ client.target.port }})/?tls=mine\n';
  const args = await templatesDir(join(fx.dir, 'custom'), { 'client/go-dsn.md': custom });
  const out = join(fx.dir, 'rendered-custom');
  const r = await dbtls(['render', '-i', fx.inventory, '--out', out, ...args]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(
    await readFile(join(out, 'clients/app-p12/go-dsn.md'), 'utf8'),
    `<!-- my note for app-p12 -->\napp-p12@tcp(127.0.0.1:${fx.db.port})/?tls=mine\n`,
  );
  assert.equal(
    await readFile(join(out, 'clients/plain/go-dsn.md'), 'utf8'),
    '<!-- my note for plain -->\nplain@tcp(tidb1.example.com:4000)/?tls=mine\n',
  );
  for (const rel of MINE.filter((m) => !m.endsWith('go-dsn.md'))) {
    assert.equal(
      await readFile(join(out, rel), 'utf8'),
      await rendered(rel),
      `${rel} should be the built-in rendering`,
    );
  }
});

for (const [what, text, line] of [
  ['an undefined variable', 'line one\n{{ client.name }}\nthen {{ nope }}\n', 3],
  ['an unclosed tag', '<!-- x -->\n{% if client.name %}\nnever closed\n', 2],
] as const) {
  test(`a template with ${what} fails dbtls render with exit 2, naming the file and line, and writes nothing`, async () => {
    const fx = await fixture();
    const dir = await tempDir(scope, 'dbtls-render-bad-');
    const args = await templatesDir(join(dir, 'templates'), { 'client/go-dsn.md': text });
    const out = join(dir, 'out');
    const r = await dbtls(['render', '-i', fx.inventory, '--out', out, ...args]);
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`client/go-dsn\\.md:${line}\\b`), r.stderr);
    assert.equal(await exists(out), false, 'nothing may be written');
  });
}
