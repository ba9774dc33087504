// `dbtls render` for Group Replication members: group-replication.cnf read back by the real option-file
// reader (my_print_defaults, mysys as MariaDB builds it: it does not judge option names, so the table
// below does), and adminapi.js checked by `node --check` and then run against a stand-in `dba` object
// that records what MySQL Shell would be asked. No MySQL server or MySQL Shell is installed here: the
// names are checked against the vendor's documented names, not against a running product.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { dbtls, run } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { which } from '../helpers/which.js';
import { issueAndRender as issueAndRenderIn } from '../helpers/issue-render.js';

const scope = fileScope();

// ── The documented names (REFERENCE-2 §2.3; dev.mysql.com refman 8.4 "Securing Group Communication
// Connections with SSL" (group-replication-secure-socket-layer-support-ssl.html), "Securing Distributed
// Recovery Connections" (group-replication-configuring-ssl-for-recovery.html), "Communication Stack for
// Connection Security Management" (group-replication-connection-security.html)) ──────────────────
const GR_OPTIONS = [
  'group_replication_communication_stack',
  'group_replication_local_address',
  'group_replication_ssl_mode',
  'group_replication_tls_source',
  'group_replication_recovery_use_ssl',
  'group_replication_recovery_ssl_ca',
  'group_replication_recovery_ssl_cert',
  'group_replication_recovery_ssl_key',
  'group_replication_recovery_ssl_verify_server_cert',
  'group_replication_recovery_tls_version',
];
/** Server options the file also sets: report_host (the name distributed recovery dials, refman "Group Replication Requirements For The MySQL Communication Stack"). */
const SERVER_OPTIONS = ['report_host'];
// MySQL Shell 8.0.33 release notes (news-8-0-33.html): createCluster gained memberAuthType, certIssuer,
// certSubject; addInstance certSubject. communicationStack, memberSslMode, localAddress: the AdminAPI
// reference (mysql-innodb-cluster-securing.html, configuring-cluster-instance-ports.html).
const CREATE_CLUSTER_OPTIONS = [
  'communicationStack',
  'memberSslMode',
  'memberAuthType',
  'certIssuer',
  'certSubject',
  'localAddress',
];
const ADD_INSTANCE_OPTIONS = ['certSubject', 'localAddress', 'recoveryMethod'];

// A subject with an apostrophe and double quotes: every string of the script must be escaped for JS.
const O = `Example O'Neil "Ops"`;

const inventory = (nodes: string) => `cluster: grdemo
pki: ./pki
ca: { commonName: grdemo CA }
subject: { O: ${JSON.stringify(O)} }
nodes:
${nodes}`;

const MYSQL_GROUP =
  inventory(`  - { name: my1, host: my1.example.com, roles: [mysql], transport: local, groupReplication: {} }
  - { name: my2, host: 10.0.0.22, roles: [percona], port: 3307, transport: local, groupReplication: { sslMode: VERIFY_IDENTITY } }
  - name: my3
    host: "2001:db8::3"
    roles: [mysql]
    sans: [gr3.example.com]
    dest: /srv/mysql/tls
    transport: local
    groupReplication: { localAddress: "gr3.example.com:3306" }
  - { name: plain, host: 10.0.0.30, roles: [mysql], transport: local }
`);
const XCOM_GROUP =
  inventory(`  - { name: x1, host: x1.example.com, roles: [mysql], transport: local, groupReplication: { stack: XCOM, sslMode: VERIFY_CA } }
  - { name: x2, host: x2.example.com, roles: [mysql], transport: local, groupReplication: { stack: XCOM, sslMode: VERIFY_CA, localAddress: "x2.example.com:24901" } }
`);

const issueAndRender = (name: string, text: string) => issueAndRenderIn(scope, `dbtls-gr-${name}-`, text);

const mysqlGroup = once(() => issueAndRender('mysql', MYSQL_GROUP));
const xcomGroup = once(() => issueAndRender('xcom', XCOM_GROUP));

/** The [mysqld] options of FILE as the server's option-file reader hands them over: [name, value]. */
async function mysqldOptions(file: string): Promise<Array<[string, string]>> {
  const tool = await which('my_print_defaults', ['/usr/bin', '/usr/local/bin']);
  assert.ok(tool, 'my_print_defaults not found');
  const r = await run(tool, [`--defaults-file=${file}`, 'mysqld']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = /^--([^=]+)=(.*)$/.exec(l);
      assert.ok(m, `not --name=value: ${l}`);
      return [m[1]!, m[2]!];
    });
}

/** The loose- prefix only tells mysqld to start while the plugin is not loaded; the option is the name after it. */
function documented(options: Array<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of options) {
    const bare = name.replace(/^loose-/, '');
    if (name.startsWith('loose-')) assert.ok(GR_OPTIONS.includes(bare), `${bare} is not a documented GR option`);
    else assert.ok(SERVER_OPTIONS.includes(name), `${name} is neither a GR option (with loose-) nor expected`);
    assert.ok(!(bare in out), `${bare} twice`);
    out[bare] = value;
  }
  return out;
}

/** The subject or issuer as OpenSSL's X509_NAME_oneline writes it (what REQUIRE SUBJECT and certSubject compare). */
async function oneline(cert: string, which: 'subject' | 'issuer'): Promise<string> {
  const r = await run('openssl', ['x509', '-in', cert, '-noout', `-${which}`, '-nameopt', 'compat']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().replace(new RegExp(`^${which}=`), '');
}

interface ShellCalls {
  createCluster: { name: string; options: Record<string, unknown> };
  addInstance: Array<{ instance: Record<string, unknown>; options: Record<string, unknown> }>;
  printed: unknown[];
}

/** Runs adminapi.js with a recording stand-in for MySQL Shell's `dba` (the script's only outside names are dba and print). */
function runAdminApi(code: string): ShellCalls {
  const calls: ShellCalls = { createCluster: { name: '', options: {} }, addInstance: [], printed: [] };
  // The script's objects belong to the sandbox's realm: copied out as plain data.
  const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  const cluster = {
    addInstance: (instance: Record<string, unknown>, options: Record<string, unknown>) =>
      void calls.addInstance.push(plain({ instance, options })),
    status: () => 'status',
  };
  const dba = {
    createCluster: (name: string, options: Record<string, unknown>) => {
      calls.createCluster = plain({ name, options });
      return cluster;
    },
  };
  runInNewContext(code, { dba, print: (v: unknown) => void calls.printed.push(v) });
  return calls;
}

// ── Tests ───────────────────────────────────────────────────────────────────────────────────────

test('only the Group Replication members get group-replication.cnf and adminapi.js', async () => {
  const { out } = await mysqlGroup();
  const has = async (rel: string) =>
    readFile(join(out, rel)).then(
      () => true,
      () => false,
    );
  for (const n of ['my1', 'my2', 'my3']) {
    assert.ok(await has(`${n}/group-replication.cnf`), n);
    assert.ok(await has(`${n}/adminapi.js`), n);
  }
  assert.equal(await has('plain/group-replication.cnf'), false);
  assert.equal(await has('plain/adminapi.js'), false);
});

test('MYSQL stack, read by my_print_defaults: documented names only, the delivered paths, recovery over verified TLS, no tls_source', async () => {
  const { out } = await mysqlGroup();
  const at = (dest: string, f: string) => `${dest}/${f}`;
  const expected = (host: string, local: string, dest: string) => ({
    report_host: host,
    group_replication_communication_stack: 'MYSQL',
    group_replication_local_address: local,
    group_replication_ssl_mode: 'VERIFY_IDENTITY',
    group_replication_recovery_use_ssl: 'ON',
    group_replication_recovery_ssl_ca: at(dest, 'ca.pem'),
    // The node's peer certificate: it serves with it and presents it to the donor.
    group_replication_recovery_ssl_cert: at(dest, 'server-cert.pem'),
    group_replication_recovery_ssl_key: at(dest, 'server-key.pem'),
    group_replication_recovery_ssl_verify_server_cert: 'ON',
    group_replication_recovery_tls_version: 'TLSv1.2,TLSv1.3',
  });
  // The MYSQL stack's default local address is the SQL port (mysqld's own listener), 3307 for my2.
  assert.deepEqual(
    documented(await mysqldOptions(join(out, 'my1/group-replication.cnf'))),
    expected('my1.example.com', 'my1.example.com:3306', '/etc/mysql/ssl'),
  );
  assert.deepEqual(
    documented(await mysqldOptions(join(out, 'my2/group-replication.cnf'))),
    expected('10.0.0.22', '10.0.0.22:3307', '/etc/mysql/ssl'),
  );
  // An IPv6 node with a named local address from its sans, and its own dest.
  assert.deepEqual(
    documented(await mysqldOptions(join(out, 'my3/group-replication.cnf'))),
    expected('2001:db8::3', 'gr3.example.com:3306', '/srv/mysql/tls'),
  );
});

test("XCOM stack: group_replication_tls_source=MYSQL_MAIN (the server's ssl_* secure group traffic), recovery still over TLS; default port SQL × 10 + 1", async () => {
  const { out } = await xcomGroup();
  const x1 = documented(await mysqldOptions(join(out, 'x1/group-replication.cnf')));
  assert.equal(x1.group_replication_communication_stack, 'XCOM');
  assert.equal(x1.group_replication_tls_source, 'MYSQL_MAIN');
  assert.equal(x1.group_replication_ssl_mode, 'VERIFY_CA');
  assert.equal(x1.group_replication_local_address, 'x1.example.com:33061');
  assert.equal(x1.group_replication_recovery_use_ssl, 'ON');
  assert.equal(x1.group_replication_recovery_ssl_cert, '/etc/mysql/ssl/server-cert.pem');
  const x2 = documented(await mysqldOptions(join(out, 'x2/group-replication.cnf')));
  assert.equal(x2.group_replication_local_address, 'x2.example.com:24901');
  // The note that says where XCOM takes its certificate from.
  assert.match(
    await readFile(join(out, 'x1/group-replication.cnf'), 'utf8'),
    /XCOM stack group traffic takes its certificate, key and CA from the server's ssl_\*/,
  );
});

test("adminapi.js: `node --check` accepts it; run, it creates the cluster CERT_SUBJECT with the certificates' own subjects and issuer", async () => {
  const { dir, out } = await mysqlGroup();
  const file = join(out, 'my2/adminapi.js');
  const check = await run(process.execPath, ['--check', file]);
  assert.equal(check.code, 0, check.stderr);
  const code = await readFile(file, 'utf8');
  // Every member's copy is the same script apart from its header line.
  const body = (s: string) => s.split('\n').slice(1).join('\n');
  assert.equal(body(await readFile(join(out, 'my1/adminapi.js'), 'utf8')), body(code));

  const calls = runAdminApi(code);
  const cert = (n: string) => join(dir, 'pki/nodes', n, 'server-cert.pem');
  const subject = async (n: string) => oneline(cert(n), 'subject');
  assert.equal(await subject('my1'), `/O=${O}/CN=my1`); // the quotes survive as written
  assert.equal(calls.createCluster.name, 'grdemo');
  assert.deepEqual(Object.keys(calls.createCluster.options).sort(), [...CREATE_CLUSTER_OPTIONS].sort());
  assert.deepEqual(calls.createCluster.options, {
    communicationStack: 'MYSQL',
    memberSslMode: 'VERIFY_IDENTITY',
    memberAuthType: 'CERT_SUBJECT',
    certIssuer: await oneline(cert('my1'), 'issuer'),
    certSubject: await subject('my1'),
    localAddress: 'my1.example.com:3306',
  });
  assert.deepEqual(
    calls.addInstance.map((c) => ({ instance: c.instance, options: c.options })),
    [
      {
        instance: { host: '10.0.0.22', port: 3307 },
        options: { certSubject: await subject('my2'), localAddress: '10.0.0.22:3307', recoveryMethod: 'clone' },
      },
      {
        instance: { host: '2001:db8::3', port: 3306 },
        options: { certSubject: await subject('my3'), localAddress: 'gr3.example.com:3306', recoveryMethod: 'clone' },
      },
    ],
  );
  for (const c of calls.addInstance)
    for (const k of Object.keys(c.options)) assert.ok(ADD_INSTANCE_OPTIONS.includes(k), `addInstance option ${k}`);
  assert.deepEqual(calls.printed, ['status']);
  // The non-member is not in the script.
  assert.doesNotMatch(code, /plain/);
});

test('render is deterministic for the group: a second render --check finds every file up to date', async () => {
  const { dir } = await mysqlGroup();
  const again = await dbtls(['render', '-i', join(dir, 'inventory.yml'), '--check']);
  assert.equal(again.code, 0, again.stdout);
});
