// `dbtls exporter` as Prometheus meets it, against servers this file starts on 127.0.0.1 (MySQL-
// protocol TLS servers serving certificates dbtls issued, a server that never speaks): what /probe
// says about each, the cache sparing the server, answers within the scrape's timeout, the requests
// it refuses, /metrics, and the command line's own errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fakeMysql, silentServer } from '../probe/fake-servers.js';
import { startExporter, sampleValue } from '../helpers/exporter.js';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';
import { dbtls } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { tempDir } from '../helpers/tmp.js';

const scope = fileScope();

const bed = once(async () => {
  const dir = await tempDir(scope, 'dbtls-exporter-');
  const inventory = (p1: number, p2: number): TestInventory => ({
    cluster: 'exp',
    nodes: [
      { name: 'db1', host: '127.0.0.1', port: p1 },
      { name: 'db2', host: '127.0.0.1', port: p2 },
    ],
  });
  const inv = await writeInventory(dir, inventory(1, 2));
  const r = await dbtls(['issue', '-i', inv]);
  assert.equal(r.code, 0, r.stderr);
  const pki = join(dir, 'pki');
  const cert1 = await readFile(join(pki, 'nodes/db1/server-cert.pem'), 'utf8');
  const key1 = await readFile(join(pki, 'nodes/db1/server-key.pem'), 'utf8');
  // db1 serves its own certificate; db2 serves db1's (of the same CA, for the same address: only the manifest tells).
  const db1 = await fakeMysql(scope, { tls: { cert: cert1, key: key1 } });
  const db2 = await fakeMysql(scope, { tls: { cert: cert1, key: key1 } });
  await writeInventory(dir, inventory(db1.port, db2.port));
  const exporter = await startExporter(scope, ['-i', inv, '--cache', '30']);
  return { dir, inv, db1, db2, cert1: new X509Certificate(cert1), exporter };
});

test('/probe of a node: TLS served and verified, its serial and expiry, serving the manifest; a node serving another certificate fails', async () => {
  const { exporter, cert1 } = await bed();
  const a = await exporter.get('/probe?target=db1&module=mysql');
  assert.equal(a.status, 200);
  assert.match(a.type ?? '', /^text\/plain; version=0\.0\.4/);
  assert.equal(sampleValue(a.body, 'dbtls_probe_success'), 1, a.body);
  assert.equal(sampleValue(a.body, 'dbtls_probe_serves_manifest', { node: 'db1' }), 1);
  assert.equal(sampleValue(a.body, 'dbtls_probe_chain_verified'), 1);
  assert.equal(sampleValue(a.body, 'dbtls_probe_name_verified'), 1);
  const serial = cert1.serialNumber.toLowerCase().replace(/^0+/, '');
  assert.equal(
    sampleValue(a.body, 'dbtls_probe_certificate_not_after_seconds', { serial }),
    Math.floor(Date.parse(cert1.validTo) / 1000),
    a.body,
  );
  assert.match(a.body, /dbtls_probe_tls_info\{version="TLSv1\.3",cipher="[A-Z0-9_]+"\} 1/);
  assert.equal(sampleValue(a.body, 'dbtls_probe_cached'), 0);

  const b = await exporter.get(`/probe?target=127.0.0.1:${(await bed()).db2.port}`);
  assert.equal(sampleValue(b.body, 'dbtls_probe_serves_manifest', { node: 'db2' }), 0, b.body);
  assert.equal(sampleValue(b.body, 'dbtls_probe_success'), 0);
  assert.equal(sampleValue(b.body, 'dbtls_probe_chain_verified'), 1, 'of our CA: only the manifest tells');
});

test('within --cache a scrape is answered from the cache: the server sees no new connection', async () => {
  const { exporter, db1 } = await bed();
  await exporter.get('/probe?target=db1');
  const before = db1.sslRequests.length;
  const answers = await Promise.all(Array.from({ length: 40 }, () => exporter.get('/probe?target=db1')));
  assert.equal(db1.sslRequests.length, before, 'no connection reached db1');
  for (const a of answers) {
    assert.equal(sampleValue(a.body, 'dbtls_probe_success'), 1);
    assert.equal(sampleValue(a.body, 'dbtls_probe_cached'), 1);
  }
  const m = await exporter.get('/metrics');
  assert.ok(sampleValue(m.body, 'dbtls_exporter_probe_cache_hits_total')! >= 40, m.body);
});

test("a server that stalls is answered within the scrape's timeout, as a failure naming the step", async (t) => {
  const silent = await silentServer(scope);
  const mute = await fakeMysql(scope, {}); // greets, then says nothing after the SSLRequest
  const { inv } = await bed();
  const exporter = await startExporter(t, ['-i', inv, '--any-target', '--probe-timeout', '20']);
  for (const port of [silent, mute.port]) {
    const a = await exporter.get(`/probe?target=127.0.0.1:${port}`, { scrapeTimeout: 1.5 });
    assert.equal(a.status, 200);
    assert.ok(a.ms < 1500, `answered in ${Math.round(a.ms)} ms, within the 1.5 s the scrape allows`);
    assert.ok(a.ms > 800, `it waited for the server (${Math.round(a.ms)} ms)`);
    assert.equal(sampleValue(a.body, 'dbtls_probe_success'), 0);
    assert.equal(sampleValue(a.body, 'dbtls_probe_failure_info', { reason: 'probe-timeout' }), 1, a.body);
  }
});

test('requests it will not probe get a status and one line; /metrics has the PKI and the exporter; no key in any answer', async () => {
  const { exporter } = await bed();
  const cases: Array<[string, number, RegExp, string?]> = [
    ['/probe', 400, /target parameter is missing/],
    ['/probe?target=db1&module=http', 400, /unknown module "http"/],
    ['/probe?target=a%20b', 400, /not HOST\[:PORT\]/],
    ['/probe?target=10.9.9.9:3306', 403, /not a node of the inventory.*--any-target/],
    ['/probe?target=db1&module=tls', 400, /no TLS-from-the-first-byte port/],
    ['/nothing', 404, /not found/],
    ['/metrics', 405, /only GET and HEAD/, 'POST'],
  ];
  const bodies: string[] = [];
  for (const [path, status, re, method] of cases) {
    const a = await exporter.get(path, method ? { method } : {});
    assert.equal(a.status, status, `${path}: ${a.body}`);
    assert.match(a.body, re);
    assert.equal(a.body.trim().split('\n').length, 1, `${path}: one line`);
    bodies.push(a.body);
  }
  const m = await exporter.get('/metrics');
  assert.equal(m.status, 200);
  assert.equal(sampleValue(m.body, 'dbtls_check_success', { cluster: 'exp' }), 1, m.body);
  assert.equal(sampleValue(m.body, 'dbtls_exporter_check_ok'), 1);
  assert.ok(
    sampleValue(m.body, 'dbtls_certificate_not_after_seconds', { id: 'nodes/db1/server' })! > Date.now() / 1000,
  );
  assert.ok(sampleValue(m.body, 'process_resident_memory_bytes')! > 0);
  assert.ok(sampleValue(m.body, 'dbtls_exporter_probes_total', { module: 'mysql', result: 'success' })! >= 1);
  bodies.push(m.body, (await exporter.get('/probe?target=db1')).body);
  for (const b of bodies) assert.doesNotMatch(b, /PRIVATE KEY|BEGIN/);
});

test('the command line: a bad --listen or an address in use is exit 2 with one line; SIGTERM stops it with 0', async (t) => {
  const { inv, db1 } = await bed();
  for (const [listen, re] of [
    ['db1:9219', /--listen "db1:9219" must name an IP address or localhost/],
    ['127.0.0.1', /--listen "127\.0\.0\.1" is not HOST:PORT/],
    ['127.0.0.1:70000', /port above 65535/],
    [`127.0.0.1:${db1.port}`, /cannot listen on 127\.0\.0\.1:\d+: the address is in use/],
  ] as const) {
    const r = await dbtls(['exporter', '--listen', listen, '-i', inv], { timeoutMs: 15_000 });
    assert.equal(r.code, 2, `${listen}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr.split('\n')[0]!, re);
  }
  const noInv = await dbtls(['exporter', '--listen', '127.0.0.1:0', '--any-target'], { timeoutMs: 15_000 });
  assert.equal(noInv.code, 2);
  assert.match(noInv.stderr, /--any-target goes with -i/);
  const e = await startExporter(t, ['-i', inv]);
  const code = await e.stop();
  assert.equal(code, 0, e.stderr());
});
