// `dbtls render` for a MaxScale and a MySQL Router node. Neither product is installable here, so each
// rendered file is read by a real INI parser (Python's configparser, strict, no interpolation, no
// inline comments: what MaxScale's inih build and Router's config_parser.cc also do) and every key is
// checked against the option names the vendors document (the tables below, each citing its page);
// checked against documented names, not against a running MaxScale or Router. Also: the certificates
// the files name can do what the options ask of them (both EKUs on MaxScale's one certificate, every
// backend's certificate carrying the host it is dialed by), hostile values are refused, re-renders are
// byte-identical, and clients dial a proxy first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';
import { repoRoot } from '../helpers/paths.js';
import { dbtls, run } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { tempDir } from '../helpers/tmp.js';
import { loadInventory } from '../../lib/inventory/load.js';
import { buildContexts } from '../../lib/render/context.js';
import { assertCleanText } from '../helpers/rendered-text.js';

const scope = fileScope();

// ── The documented option names ─────────────────────────────────────────────────────────────────
// MaxScale: mariadb-corporation/MaxScale Documentation/Getting-Started/Configuration-Guide.md (24.02),
// §"Server" (type, address, port, socket), §"Listener" (type, service, protocol, address, port, socket)
// and §"TLS/SSL encryption" (REFERENCE-2 §2.1): the same TLS parameters for both, ssl_crl for listeners only.
const MAXSCALE_TLS = [
  'ssl',
  'ssl_key',
  'ssl_cert',
  'ssl_ca',
  'ssl_version',
  'ssl_cipher',
  'ssl_cert_verify_depth',
  'ssl_verify_peer_certificate',
  'ssl_verify_peer_host',
];
const MAXSCALE_SERVER_KEYS = ['type', 'address', 'port', 'socket', ...MAXSCALE_TLS];
const MAXSCALE_LISTENER_KEYS = ['type', 'service', 'protocol', 'address', 'port', 'socket', ...MAXSCALE_TLS, 'ssl_crl'];
/** ssl_version is an enum_mask of these (the dotted aliases only from 22.08.13/23.02.10/23.08.6/24.02.2). */
const MAXSCALE_SSL_VERSIONS = [
  'MAX',
  'TLSv10',
  'TLSv11',
  'TLSv12',
  'TLSv13',
  'TLSv1.0',
  'TLSv1.1',
  'TLSv1.2',
  'TLSv1.3',
];
/** Documented protocol module names: "MariaDB or MariaDBClient" (24.02), "MariaDBClient" (22.08). */
const MAXSCALE_PROTOCOLS = ['MariaDB', 'MariaDBClient'];

// MySQL Router 8.0.23+: dev.mysql.com/doc/mysql-router/9.x/en/mysql-router-configuration-tls.html
// (REFERENCE-2 §2.2), with each enum's documented values.
const ROUTER_KEYS: Record<string, readonly string[] | 'path' | 'text'> = {
  client_ssl_mode: ['DISABLED', 'PREFERRED', 'REQUIRED', 'PASSTHROUGH'],
  client_ssl_cert: 'path',
  client_ssl_key: 'path',
  client_ssl_cipher: 'text',
  client_ssl_curves: 'text',
  client_ssl_dh_params: 'path',
  client_ssl_ca: 'path',
  client_ssl_capath: 'path',
  client_ssl_crl: 'path',
  client_ssl_crlpath: 'path',
  server_ssl_mode: ['DISABLED', 'PREFERRED', 'REQUIRED', 'AS_CLIENT'],
  server_ssl_verify: ['DISABLED', 'VERIFY_CA', 'VERIFY_IDENTITY'],
  server_ssl_ca: 'path',
  server_ssl_capath: 'path',
  server_ssl_crl: 'path',
  server_ssl_crlpath: 'path',
  server_ssl_cert: 'path',
  server_ssl_key: 'path',
};

// ── The cluster ─────────────────────────────────────────────────────────────────────────────────
const MXS_DEST = '/etc/maxscale/ssl'; // DEFAULT_DEST for maxscale
const ROUTER_DEST = '/srv/router/tls';
const NODES: TestInventory['nodes'] = [
  { name: 'mxs1', host: 'mxs1.example.com', roles: ['maxscale'] },
  { name: 'router1', host: '10.0.0.31', roles: ['mysqlrouter'], dest: ROUTER_DEST, port: 7446 },
  { name: 'db1', host: '10.0.0.11', roles: ['mariadb'] },
  { name: 'db2', host: 'db2.example.com', roles: ['mysql'], port: 3307, replicaOf: 'db1' },
  { name: 'db3', host: 'db3.example.com', roles: ['percona'] },
  { name: 'tidb1', host: 'tidb1.example.com', roles: ['tidb'] },
];
/** What mxs1's [server] sections must say: every MySQL-family node, in the inventory's order. */
const BACKENDS = [
  { name: 'db1', host: '10.0.0.11', port: 3306 },
  { name: 'db2', host: 'db2.example.com', port: 3307 },
  { name: 'db3', host: 'db3.example.com', port: 3306 },
];

const cluster = once(async () => {
  const dir = await tempDir(scope, 'dbtls-proxies-');
  const inventory = await writeInventory(dir, { nodes: NODES, clients: ['app'] });
  const r = await dbtls(['issue', '-i', inventory]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return { dir, inventory };
});

async function render(inventory: string, out: string, extra: string[] = []): Promise<void> {
  const r = await dbtls(['render', '-i', inventory, '--out', out, '--node', 'mxs1', '--node', 'router1', ...extra]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

type Parsed = { defaults: Record<string, string>; sections: Array<[string, Record<string, string>]> };

/** FILE as Python's configparser reads it: strict (a section or key twice is an error), no interpolation, keys as written. */
async function configparser(file: string): Promise<Parsed> {
  const py = [
    'import configparser, json, sys',
    'c = configparser.ConfigParser(strict=True, interpolation=None)',
    'c.optionxform = str',
    'c.read_file(open(sys.argv[1], encoding="utf-8"))',
    'own = lambda s: {k: v for k, v in c[s].items() if k not in c.defaults()}',
    'print(json.dumps({"defaults": dict(c.defaults()), "sections": [[s, own(s)] for s in c.sections()]}))',
  ].join('\n');
  const r = await run('python3', ['-c', py, file]);
  assert.equal(r.code, 0, `configparser refused ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Parsed;
}

test('maxscale.cnf: one TLS [server] per MySQL-family node and the TLS listener, every key documented, paths the delivered ones', async () => {
  const { dir, inventory } = await cluster();
  const out = join(dir, 'rendered');
  await render(inventory, out);
  const file = join(out, 'mxs1/maxscale.cnf');
  const text = await readFile(file, 'utf8');
  assertCleanText(text, 'maxscale.cnf', { noDoubleBlank: true });
  assert.match(
    text.split('\n')[0]!,
    /^# Generated by dbtls \S+ from inventory\.yml for node mxs1\. Do not edit by hand/,
  );
  assert.ok(text.includes(`#   ln -s ${MXS_DEST}/dbtls/maxscale.cnf /etc/maxscale.cnf.d/dbtls.cnf\n`));
  assert.match(text, /\[Read-Write-Listener\] on port 4006 .*\n# gives none\) for the service Read-Write-Service/);
  assert.match(text, /etc\/maxscale\.cnf\.template/, 'says where the listener and service names come from');
  assert.match(text, /both serverAuth and\n# clientAuth, which MaxScale >= 2\.5\.20 requires/);
  assert.match(text, /`maxctrl reload tls` \(MaxScale >= 22\.08\)/);
  assert.match(text, /It is not transactional/);
  assert.match(text, /MXS-5081, MXS-5083/);
  assert.match(text, /not against a running MaxScale/);

  const { defaults, sections } = await configparser(file);
  assert.deepEqual(defaults, {});
  assert.deepEqual(
    sections.map(([name]) => name),
    [...BACKENDS.map((b) => b.name), 'Read-Write-Listener'],
    'the MySQL-family nodes (not mxs1, router1 or tidb1), then the listener',
  );
  const tls = {
    ssl: 'true',
    ssl_ca: `${MXS_DEST}/ca.pem`,
    // One certificate on both sides: the node's peer certificate (serverAuth + clientAuth).
    ssl_cert: `${MXS_DEST}/server-cert.pem`,
    ssl_key: `${MXS_DEST}/server-key.pem`,
    ssl_verify_peer_certificate: 'true',
    ssl_version: 'TLSv12,TLSv13',
  };
  for (const [name, keys] of sections) {
    const documented = keys.type === 'listener' ? MAXSCALE_LISTENER_KEYS : MAXSCALE_SERVER_KEYS;
    for (const k of Object.keys(keys))
      assert.ok(documented.includes(k), `[${name}] ${k} is not a documented parameter`);
    for (const v of keys.ssl_version!.split(',')) assert.ok(MAXSCALE_SSL_VERSIONS.includes(v), v);
    // Section names become REST API URLs: alphanumerics and _.~- only (Configuration-Guide "Names").
    assert.match(name, /^[A-Za-z0-9_.~-]+$/);
  }
  BACKENDS.forEach((b, i) => {
    assert.deepEqual(
      sections[i]![1],
      { type: 'server', address: b.host, port: String(b.port), ...tls, ssl_verify_peer_host: 'true' },
      b.name,
    );
  });
  const listener = sections.at(-1)![1];
  assert.ok(MAXSCALE_PROTOCOLS.includes(listener.protocol!), listener.protocol);
  assert.deepEqual(listener, {
    type: 'listener',
    service: 'Read-Write-Service',
    protocol: 'MariaDBClient',
    port: '4006',
    ...tls,
    // Client certificates carry no host names: matching clients' addresses would refuse every one.
    ssl_verify_peer_host: 'false',
  });
});

test('mysqlrouter.conf: [DEFAULT] only, every option documented with a documented value, VERIFY_IDENTITY against the CA', async () => {
  const { dir, inventory } = await cluster();
  const out = join(dir, 'rendered');
  await render(inventory, out);
  const file = join(out, 'router1/mysqlrouter.conf');
  const text = await readFile(file, 'utf8');
  assertCleanText(text, 'mysqlrouter.conf', { noDoubleBlank: true });
  assert.match(text.split('\n')[0]!, /^# Generated by dbtls \S+ from inventory\.yml for node router1\./);
  assert.match(
    text,
    /A `mysqlrouter --bootstrap` configuration has server_ssl_verify=DISABLED[^]*This file fixes that/,
  );
  assert.match(text, /server_ssl_mode=REQUIRED rather than AS_CLIENT/);
  assert.match(text, /a restart is\n# required \(systemctl restart mysqlrouter\)/);
  assert.ok(text.includes(`-a ${ROUTER_DEST}/dbtls/mysqlrouter.conf\n`));
  assert.match(text, /for clients on port 7446/);
  assert.match(text, /not against a running Router/);

  const { defaults, sections } = await configparser(file);
  assert.deepEqual(sections, [], 'only [DEFAULT]: every routing section inherits it');
  for (const [k, v] of Object.entries(defaults)) {
    const doc = ROUTER_KEYS[k];
    assert.ok(doc, `${k} is not a documented Router option`);
    if (Array.isArray(doc)) assert.ok(doc.includes(v), `${k}=${v} is not a documented value`);
    if (doc === 'path') assert.match(v, /^\/\S+$/, `${k} is an absolute path`);
  }
  assert.deepEqual(defaults, {
    client_ssl_mode: 'REQUIRED',
    client_ssl_cert: `${ROUTER_DEST}/server-cert.pem`,
    client_ssl_key: `${ROUTER_DEST}/server-key.pem`,
    client_ssl_ca: `${ROUTER_DEST}/ca.pem`,
    server_ssl_mode: 'REQUIRED',
    server_ssl_verify: 'VERIFY_IDENTITY',
    server_ssl_ca: `${ROUTER_DEST}/ca.pem`,
    // Router's own identity toward the servers: the node's client certificate.
    server_ssl_cert: `${ROUTER_DEST}/client-cert.pem`,
    server_ssl_key: `${ROUTER_DEST}/client-key.pem`,
  });
});

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

test("the certificates fit the options: MaxScale's one certificate has both EKUs; every backend's carries the host it is dialed by", async () => {
  const { dir } = await cluster();
  const cert = async (node: string, which: 'server' | 'client') =>
    new X509Certificate(await readFile(join(dir, 'pki/nodes', node, `${which}-cert.pem`)));
  const ca = new X509Certificate(await readFile(join(dir, 'pki/ca.pem')));
  // MaxScale >= 2.5.20 honours the EKU: one certificate for listener and servers needs both.
  const mxs = await cert('mxs1', 'server');
  assert.deepEqual([...(mxs.keyUsage ?? [])].sort(), [SERVER_AUTH, CLIENT_AUTH]);
  assert.equal(mxs.checkHost('mxs1.example.com'), 'mxs1.example.com', 'clients dial the listener by its host');
  // Router presents its client certificate toward the servers, its server certificate to clients.
  assert.ok((await cert('router1', 'client')).keyUsage?.includes(CLIENT_AUTH));
  assert.equal((await cert('router1', 'server')).checkIP('10.0.0.31'), '10.0.0.31');
  // VERIFY_IDENTITY (Router) and ssl_verify_peer_host (MaxScale) match the host each dials.
  for (const b of BACKENDS) {
    const c = await cert(b.name, 'server');
    const ip = /^\d+\.\d+\.\d+\.\d+$/.test(b.host);
    assert.equal(ip ? c.checkIP(b.host) : c.checkHost(b.host), b.host, `${b.name}'s certificate names ${b.host}`);
    assert.ok(c.keyUsage?.includes(SERVER_AUTH), b.name);
    assert.ok(c.verify(ca.publicKey), `${b.name}'s certificate is signed by the CA ssl_ca names`);
  }
});

test('hostile values through the engine: a line break, edge blank or "$" for MaxScale and "{…}" for Router are refused, nothing written', async () => {
  const { dir, inventory } = await cluster();
  const tpl = join(dir, 'hostile-templates');
  await mkdir(join(tpl, 'maxscale'), { recursive: true });
  await mkdir(join(tpl, 'mysqlrouter'), { recursive: true });
  const cases: Array<[string, string, string, RegExp]> = [
    ['maxscale/maxscale.cnf', 'maxscale', 'db1.example.com\\nssl=false', /spans lines/],
    ['maxscale/maxscale.cnf', 'maxscale', '$HOME/key.pem', /environment variable/],
    ['maxscale/maxscale.cnf', 'maxscale', ' /lead.pem', /blanks/],
    ['mysqlrouter/mysqlrouter.conf', 'mysqlrouter', '{datadir}/key.pem', /replaces "\{name\}"/],
    ['mysqlrouter/mysqlrouter.conf', 'mysqlrouter', '/x.pem\\nserver_ssl_verify=DISABLED', /spans lines/],
  ];
  for (const [i, [template, filter, value, why]] of cases.entries()) {
    // Liquid's own "\n" is not an escape: the line break goes in through a capture of the real character.
    const raw = value.replace(/\\n/g, '\n');
    await writeFile(join(tpl, template), `{% capture v %}${raw}{% endcapture %}[s]\nk={{ v | ${filter} }}\n`);
    const out = join(dir, `hostile-${i}`);
    const r = await dbtls([
      'render',
      '-i',
      inventory,
      '--out',
      out,
      '--node',
      'mxs1',
      '--node',
      'router1',
      '--templates',
      tpl,
    ]);
    assert.equal(r.code, 2, `${value}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${template.replace('.', '\\.')}: cannot write`), value);
    assert.match(r.stderr, why, value);
    await assert.rejects(readFile(join(out, 'mxs1/maxscale.cnf')), { code: 'ENOENT' }, 'nothing written');
    await writeFile(join(tpl, template), await readFile(join(repoRoot, 'templates', template), 'utf8'));
  }
});

test('the templates put every value outside comments through its format filter (integers from the context aside)', async () => {
  const files: Array<[string, string]> = [
    ['maxscale/maxscale.cnf', 'maxscale'],
    ['mysqlrouter/mysqlrouter.conf', 'mysqlrouter'],
  ];
  const integers = new Set(['b.port', 'node.port']);
  for (const [file, filter] of files) {
    const source = await readFile(join(repoRoot, 'templates', file), 'utf8');
    source.split('\n').forEach((line, i) => {
      if (line.startsWith('#')) return;
      for (const [, expr] of line.matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/g)) {
        const ok = integers.has(expr!) || new RegExp(`^[\\w.]+ \\| ${filter}$`).test(expr!);
        assert.ok(ok, `templates/${file}:${i + 1}: {{ ${expr} }} is not escaped with | ${filter}`);
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
  for (const f of ['mxs1/maxscale.cnf', 'router1/mysqlrouter.conf'])
    assert.deepEqual(await readFile(join(a, f)), await readFile(join(b, f)), f);
  const r = await dbtls(['render', '-i', inventory, '--out', a, '--node', 'mxs1', '--node', 'router1', '--check']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /all 2 files up to date/);
});

test('clients dial a proxy by default, in the order ProxySQL, MaxScale, MySQL Router, then TiDB; connectTo still wins', async () => {
  const { dir } = await cluster();
  const inv = await writeInventory(
    join(dir),
    {
      nodes: [{ name: 'proxy1', host: '10.0.0.21', roles: ['proxysql'] }, ...NODES],
      clients: ['app', { name: 'ops', connectTo: 'db1' }],
    },
    'entry.yml',
  );
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const full = await loadInventory(inv);
  const targetOf = async (drop: string[]) => {
    const c = { ...full, nodes: full.nodes.filter((n) => !drop.includes(n.name)) };
    const { clients } = await buildContexts(c, 'test');
    return Object.fromEntries(clients.map((x) => [x.name, `${x.target.name}:${x.target.port}`]));
  };
  assert.deepEqual(await targetOf([]), { app: 'proxy1:6033', ops: 'db1:3306' });
  assert.deepEqual(await targetOf(['proxy1']), { app: 'mxs1:4006', ops: 'db1:3306' });
  assert.deepEqual(await targetOf(['proxy1', 'mxs1']), { app: 'router1:7446', ops: 'db1:3306' });
  assert.deepEqual(await targetOf(['proxy1', 'mxs1', 'router1']), { app: 'tidb1:4000', ops: 'db1:3306' });
});
