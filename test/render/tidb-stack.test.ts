// `dbtls render` for the rest of the TiDB stack: TiFlash (and its learner), TiCDC, TiProxy, and PD's
// TiDB Dashboard settings. Every file is parsed by a real TOML parser (smol-toml) and compared with the
// key names the vendors document: none of these products is installed here, so the names are checked
// against the documentation (and, where the docs leave a name open, the product's own source), not
// against a running product. The allowed-CN lists are checked against the CNs of the certificates
// `dbtls issue` made, so that every component accepts every other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { fileScope, once } from '../helpers/scope.js';
import { issueAndRender as issueAndRenderIn } from '../helpers/issue-render.js';

const scope = fileScope();

// ── The documented names, per file ──────────────────────────────────────────────────────────────
// REFERENCE-2 §3 table, from pingcap/docs:enable-tls-between-components.md (TiFlash, TiCDC),
// pingcap/docs:tiproxy/tiproxy-configuration.md and pingcap/tiproxy lib/config/security.go (TiProxy),
// PD's DashboardConfig (Dashboard). TiFlash spells its keys with underscores, its learner with hyphens.
const DOCUMENTED: Record<string, Record<string, string[]>> = {
  'tiflash.toml': { security: ['ca_path', 'cert_path', 'key_path', 'cert_allowed_cn'] },
  'tiflash-learner.toml': { security: ['ca-path', 'cert-path', 'key-path', 'cert-allowed-cn'] },
  // cert-allowed-cn: UNCONFIRMED in REFERENCE-2 §3 (docs); pingcap/tiflow pkg/security/credential.go tags it so.
  'ticdc.toml': { security: ['ca-path', 'cert-path', 'key-path', 'cert-allowed-cn'] },
  'tiproxy.toml': { security: ['require-backend-tls', 'server-tls', 'server-http-tls', 'cluster-tls', 'sql-tls'] },
  'pd.toml': {
    security: ['cacert-path', 'cert-path', 'key-path', 'cert-allowed-cn'],
    dashboard: ['tidb-cacert-path', 'tidb-cert-path', 'tidb-key-path'],
  },
};
/** The fields of each of TiProxy's four TLS objects dbtls sets (of ca, cert, key, auto-certs, skip-ca, min-tls-version, rsa-key-size, autocert-expire-duration). */
const TIPROXY_TLS_FIELDS = ['ca', 'cert', 'key', 'min-tls-version'];
const TIPROXY_OBJECTS = ['server-tls', 'server-http-tls', 'cluster-tls', 'sql-tls'];
/** Every list of CNs a TiDB-stack component checks its callers (or peers) against. */
const CN_LISTS: Array<[file: string, table: string, key: string]> = [
  ['tidb1/tidb.toml', 'security', 'cluster-verify-cn'],
  ['pd1/pd.toml', 'security', 'cert-allowed-cn'],
  ['tikv1/tikv.toml', 'security', 'cert-allowed-cn'],
  ['flash1/tiflash.toml', 'security', 'cert_allowed_cn'],
  ['flash1/tiflash-learner.toml', 'security', 'cert-allowed-cn'],
  ['cdc1/ticdc.toml', 'security', 'cert-allowed-cn'],
];
const STACK = ['tidb1', 'pd1', 'tikv1', 'flash1', 'cdc1', 'proxy1'];

const INVENTORY = `cluster: stack
pki: ./pki
ca: { commonName: stack CA }
nodes:
  - { name: tidb1, host: tidb1.example.com, roles: [tidb], transport: local }
  - { name: pd1, host: 10.0.0.2, roles: [pd], transport: local }
  - { name: tikv1, host: tikv1.example.com, roles: [tikv], transport: local }
  - { name: flash1, host: flash1.example.com, roles: [tiflash], dest: /data/tiflash/tls, transport: local }
  - { name: cdc1, host: cdc1.example.com, roles: [ticdc], transport: local }
  - { name: proxy1, host: proxy1.example.com, roles: [tiproxy], transport: local }
  - { name: db1, host: db1.example.com, roles: [mysql], transport: local }
clients:
  - name: stack-client
`;
// No TiDB: PD has no Dashboard → TiDB settings to render.
const NO_TIDB = `cluster: kv
pki: ./pki
nodes:
  - { name: pd1, host: 10.0.0.2, roles: [pd], transport: local }
  - { name: tikv1, host: 10.0.0.3, roles: [tikv], transport: local }
`;

const issueAndRender = (name: string, text: string) => issueAndRenderIn(scope, `dbtls-tidb-${name}-`, text);

const stack = once(() => issueAndRender('stack', INVENTORY));

async function toml(out: string, rel: string): Promise<Record<string, Record<string, unknown>>> {
  return parseToml(await readFile(join(out, rel), 'utf8')) as Record<string, Record<string, unknown>>;
}

/** The CN of a certificate of the PKI directory, read from the certificate itself. */
async function cnOf(dir: string, rel: string): Promise<string> {
  const subject = new X509Certificate(await readFile(join(dir, 'pki', rel))).subject;
  return /(?:^|\n)CN=([^\n]+)/.exec(subject)![1]!;
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

// ── Tests ───────────────────────────────────────────────────────────────────────────────────────

test('each new role renders its files, and only those', async () => {
  const { out } = await stack();
  assert.deepEqual(sorted(await readdir(join(out, 'flash1'))), ['tiflash-learner.toml', 'tiflash.toml']);
  assert.deepEqual(await readdir(join(out, 'cdc1')), ['ticdc.toml']);
  assert.deepEqual(await readdir(join(out, 'proxy1')), ['tiproxy.toml']);
});

test('TiFlash (underscores), its learner (hyphens), TiCDC: exactly the documented [security] keys with the delivered paths', async () => {
  const { out } = await stack();
  const expect = (keys: string[], dest: string) => ({
    [keys[0]!]: `${dest}/ca.pem`,
    [keys[1]!]: `${dest}/server-cert.pem`,
    [keys[2]!]: `${dest}/server-key.pem`,
  });
  for (const [rel, dest] of [
    ['flash1/tiflash.toml', '/data/tiflash/tls'],
    ['flash1/tiflash-learner.toml', '/data/tiflash/tls'],
    ['cdc1/ticdc.toml', '/etc/tidb/tls'],
  ] as const) {
    const doc = await toml(out, rel);
    const keys = DOCUMENTED[rel.split('/')[1]!]!.security!;
    assert.deepEqual(Object.keys(doc), ['security'], rel);
    assert.deepEqual(Object.keys(doc.security!), keys, rel);
    const { [keys[3]!]: cns, ...paths } = doc.security!;
    assert.deepEqual(paths, expect(keys, dest), rel);
    assert.ok(
      Array.isArray(cns) && cns.every((c) => typeof c === 'string'),
      `${rel}: the CN list is a list of strings`,
    );
  }
});

test('TiProxy: require-backend-tls and the four TLS objects, each with ca, cert, key and min-tls-version 1.2', async () => {
  const { out } = await stack();
  const doc = await toml(out, 'proxy1/tiproxy.toml');
  assert.deepEqual(Object.keys(doc), ['security']);
  const security = doc.security!;
  assert.deepEqual(sorted(Object.keys(security)), sorted(DOCUMENTED['tiproxy.toml']!.security!));
  assert.equal(security['require-backend-tls'], true);
  for (const o of TIPROXY_OBJECTS) {
    assert.deepEqual(
      { ...(security[o] as object) }, // smol-toml's tables have no prototype
      {
        ca: '/etc/tidb/tls/ca.pem',
        cert: '/etc/tidb/tls/server-cert.pem',
        key: '/etc/tidb/tls/server-key.pem',
        'min-tls-version': '1.2',
      },
      o,
    );
    assert.deepEqual(Object.keys(security[o] as object), TIPROXY_TLS_FIELDS, o);
  }
  // The reload note: TiProxy re-reads about hourly, a restart swaps at once.
  assert.match(await readFile(join(out, 'proxy1/tiproxy.toml'), 'utf8'), /about once an hour[\s\S]*Restart TiProxy/);
});

test("PD's [dashboard]: Dashboard → TiDB with PD's client certificate when the cluster has a TiDB; absent without one", async () => {
  const { dir, out } = await stack();
  const pd = await toml(out, 'pd1/pd.toml');
  assert.deepEqual(Object.keys(pd), ['security', 'dashboard']);
  assert.deepEqual(Object.keys(pd.dashboard!), DOCUMENTED['pd.toml']!.dashboard);
  assert.deepEqual(
    { ...pd.dashboard },
    {
      'tidb-cacert-path': '/etc/tidb/tls/ca.pem',
      'tidb-cert-path': '/etc/tidb/tls/client-cert.pem',
      'tidb-key-path': '/etc/tidb/tls/client-key.pem',
    },
  );
  // The client certificate PD signs in with is in TiDB's cluster-verify-cn too.
  const tidb = await toml(out, 'tidb1/tidb.toml');
  assert.ok((tidb.security!['cluster-verify-cn'] as string[]).includes(await cnOf(dir, 'nodes/pd1/client-cert.pem')));

  const kv = await issueAndRender('kv', NO_TIDB);
  assert.deepEqual(Object.keys(await toml(kv.out, 'pd1/pd.toml')), ['security']);
});

test('every CN list names the server and client CN of every TiDB-stack certificate — and nothing else', async () => {
  const { dir, out } = await stack();
  const wanted: string[] = [];
  for (const n of STACK)
    wanted.push(await cnOf(dir, `nodes/${n}/server-cert.pem`), await cnOf(dir, `nodes/${n}/client-cert.pem`));
  assert.equal(new Set(wanted).size, STACK.length * 2);
  for (const [rel, table, key] of CN_LISTS) {
    const list = (await toml(out, rel))[table]![key] as string[];
    assert.deepEqual(sorted(list), sorted(wanted), `${rel} ${key}`);
  }
  // Not the MySQL node, not an inventory client, and no `<cluster>-client` (dbtls issues no TiUP control certificate).
  for (const [rel, table, key] of CN_LISTS) {
    const list = (await toml(out, rel))[table]![key] as string[];
    for (const absent of ['db1', 'db1-client', 'stack-client']) assert.ok(!list.includes(absent), `${rel}: ${absent}`);
  }
});

test('the new roles default to their TLS ports and /etc/tidb/tls', async () => {
  const { dir } = await stack();
  const { loadInventory } = await import('../../lib/inventory/load.js');
  const { nodeDest } = await import('../../lib/deliver/layout.js');
  const c = await loadInventory(join(dir, 'inventory.yml'));
  const node = (n: string) => c.nodes.find((x) => x.name === n)!;
  assert.deepEqual(
    ['flash1', 'cdc1', 'proxy1'].map((n) => node(n).port),
    [3930, 8300, 6000],
  );
  assert.deepEqual(
    ['cdc1', 'proxy1'].map((n) => nodeDest(node(n))),
    ['/etc/tidb/tls', '/etc/tidb/tls'],
  );
});
