// examples/prometheus/: the alert rules, the scrape config and the Grafana dashboard, checked by the
// real promtool (Debian prometheus). `promtool test rules` proves each alert fires, with its exact
// labels and rendered annotations, and stays silent otherwise. The series of the PKI-file alerts
// are what a real `dbtls check --prometheus` wrote for a real PKI (one-day leaves, a healthy one, a
// one-day CRL), shifted so promtool's time 0 is the moment check ran. The exporter's metrics are
// hand-written (the exporter is not built yet): they test the rules' logic on the fixed names.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import type { SecureContextOptions } from 'node:tls';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { repoRoot } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory, type TestInventory } from '../helpers/inventory.js';
import { freePort, startMariadb } from '../helpers/mariadb.js';
import { fakeMysql } from '../probe/fake-servers.js';
import {
  ALERTS_FILE,
  SCRAPE_CONFIG,
  alertRules,
  inputSeries,
  parseExposition,
  promtool,
  promtoolTest,
  seriesOf,
  type Firing,
  type InputSeries,
  type Labels,
  type Sample,
} from '../helpers/promtool.js';

const DAY = 86_400;
const HOUR = 3600;
/** One sample every 2 minutes (within the 5-minute lookback), for 4 days: long enough for the 3-day staleness case. */
const INTERVAL = 120;
const POINTS = (4 * DAY) / INTERVAL;
/** What node_exporter's scrape adds to the textfile's series. */
const NODE = { job: 'node', instance: 'controller:9100' };
/** The exporter is up in these cases, so that only the alert under test can fire. */
const EXPORTER_UP: InputSeries = { series: 'up{job="dbtls",instance="127.0.0.1:9219"}', values: `1+0x${POINTS}` };

const ok = (r: { code: number | null; stdout: string; stderr: string }, what: string) =>
  assert.equal(r.code, 0, `${what}:\n${r.stdout}\n${r.stderr}`);

interface Metrics {
  samples: Sample[];
  /** dbtls_check_timestamp_seconds: promtool's time 0. */
  origin: number;
  manifest: { certificates: Array<{ id: string; notAfter: string; serial: string }>; ca: { notAfter: string } };
  series: InputSeries[];
}

/** Issues a PKI for INV, runs `dbtls check --prometheus` on it and returns what it wrote. */
async function pkiMetrics(t: TestContext, inv: TestInventory): Promise<Metrics> {
  const dir = await tempDir(t, 'dbtls-rules-');
  const file = await writeInventory(dir, inv);
  ok(await dbtls(['issue', '-i', file]), 'issue');
  const prom = join(dir, 'dbtls.prom');
  const r = await dbtls(['check', '-i', file, '--prometheus', prom]);
  assert.ok(r.code === 0 || r.code === 1, r.stdout + r.stderr);
  return metricsOf(await readFile(prom, 'utf8'), JSON.parse(await readFile(join(dir, 'pki/manifest.json'), 'utf8')));
}

function metricsOf(text: string, manifest: Metrics['manifest']): Metrics {
  const samples = parseExposition(text);
  const [ts] = seriesOf(samples, 'dbtls_check_timestamp_seconds');
  assert.ok(ts, 'check wrote its timestamp');
  return { samples, origin: ts.value, manifest, series: inputSeries(samples, ts.value, NODE, POINTS) };
}

const value = (m: Metrics, name: string) => seriesOf(m.samples, name)[0]!.value;

/** The firing of a certificate alert for manifest entry ID at EVAL (promtool seconds). */
function certificateFiring(m: Metrics, id: string, evalTime: number): Firing {
  const [s] = seriesOf(m.samples, 'dbtls_certificate_not_after_seconds', (l) => l.id === id);
  assert.ok(s, `check wrote ${id}`);
  const entry = id === 'ca' ? m.manifest.ca : m.manifest.certificates.find((c) => c.id === id)!;
  const notAfter = Date.parse(entry.notAfter) / 1000;
  return { labels: { ...s.labels, ...NODE }, value: notAfter - m.origin - evalTime };
}

async function passes(t: TestContext, cases: Parameters<typeof promtoolTest>[1]): Promise<void> {
  const r = await promtoolTest(await tempDir(t, 'dbtls-promtool-'), cases);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
}

test('promtool accepts the rule file and the scrape config (which loads the rules relative to itself)', async () => {
  const tool = await promtool();
  const rules = await run(tool, ['check', 'rules', ALERTS_FILE]);
  ok(rules, 'promtool check rules');
  assert.match(rules.stdout, /SUCCESS: 16 rules found/);
  const config = await run(tool, ['check', 'config', SCRAPE_CONFIG], { cwd: '/' });
  ok(config, 'promtool check config');
  assert.match(config.stdout, /SUCCESS: 1 rule files found/);
  const docs = await readFile(join(repoRoot, 'docs/monitoring.md'), 'utf8');
  for (const r of await alertRules()) {
    assert.ok(docs.includes(`| ${r.alert}`) || docs.includes(`, ${r.alert} |`), `docs/monitoring.md lists ${r.alert}`);
    assert.match(r.labels.severity ?? '', /^(warning|critical)$/, `${r.alert}: severity`);
    assert.ok(r.for, `${r.alert}: for`);
    for (const k of ['summary', 'description', 'runbook']) assert.ok(r.annotations[k], `${r.alert}: ${k}`);
    assert.match(r.annotations.runbook!, /\bdbtls\b/, `${r.alert}: the runbook names a dbtls command`);
    assert.doesNotMatch(r.expr, /expires_in/, `${r.alert}: expiry from *_not_after_seconds - time()`);
  }
});

test('one-day leaves, from a real check: the 30-day and 7-day alerts fire for each leaf (not the CA), and check-failing fires', async (t) => {
  const m = await pkiMetrics(t, {
    nodes: [
      { name: 'db1', host: '10.0.0.1' },
      { name: 'db2', host: '10.0.0.2' },
    ],
    clients: ['app'],
    leafDays: 1,
  });
  assert.equal(value(m, 'dbtls_check_success'), 0);
  const leaves = m.manifest.certificates.map((c) => c.id);
  assert.equal(leaves.length, 5, 'a server and a client certificate per node, one per client');
  const at = HOUR;
  const expiring = leaves.map((id) => certificateFiring(m, id, at));
  for (const f of expiring) assert.ok(f.value > 0 && f.value < DAY, `${f.labels.id}: less than a day left`);
  const ca = certificateFiring(m, 'ca', at);
  assert.ok(ca.value > 30 * DAY, 'the CA has years');
  const checkFailing = [{ labels: { cluster: 'test', ...NODE }, value: 0 }];
  // Past notAfter the critical alert goes on firing (negative: expired), as does the warning.
  const later = 2 * DAY;
  const expired = leaves.map((id) => certificateFiring(m, id, later));
  await passes(t, [
    {
      interval: INTERVAL,
      evaluationInterval: '5m',
      series: [...m.series, EXPORTER_UP],
      tests: [
        {
          evalTime: at,
          firing: {
            DbtlsCertificateExpiresIn30Days: expiring,
            DbtlsCertificateExpiresIn7Days: expiring,
            DbtlsCheckFailing: checkFailing,
          },
        },
        {
          evalTime: later,
          firing: {
            DbtlsCertificateExpiresIn30Days: expired,
            DbtlsCertificateExpiresIn7Days: expired,
            DbtlsCheckFailing: checkFailing,
          },
        },
      ],
    },
  ]);
});

test('a healthy PKI, from a real check: no alert at 1h; at 3 days, with no new check, the stale alert alone', async (t) => {
  const m = await pkiMetrics(t, { nodes: [{ name: 'db1', host: '10.0.0.1' }], clients: ['app'] });
  assert.equal(value(m, 'dbtls_check_success'), 1);
  assert.equal(value(m, 'dbtls_check_timestamp_seconds'), m.origin);
  const stale = 3 * DAY;
  await passes(t, [
    {
      interval: INTERVAL,
      evaluationInterval: '5m',
      series: [...m.series, EXPORTER_UP],
      tests: [
        { evalTime: HOUR, firing: {} },
        { evalTime: 2 * DAY - HOUR, firing: {} },
        { evalTime: stale, firing: { DbtlsCheckStale: [{ labels: { cluster: 'test', ...NODE }, value: stale }] } },
      ],
    },
  ]);
});

test('a one-day CRL (ca.crlDays: 1), from a real check: lapsing within 2 days fires at once; once nextUpdate has passed, expired fires too', async (t) => {
  const m = await pkiMetrics(t, { nodes: [{ name: 'db1', host: '10.0.0.1' }], crlDays: 1 });
  const next = value(m, 'dbtls_crl_next_update_seconds') - m.origin;
  assert.ok(next > 0 && next <= DAY, `a day left: ${next}`);
  const cluster = { cluster: 'test', ...NODE };
  const failing = value(m, 'dbtls_check_success') === 0 ? [{ labels: cluster, value: 0 }] : [];
  const lapsed = Math.ceil(next / 60) * 60 + 10 * 60;
  await passes(t, [
    {
      interval: INTERVAL,
      evaluationInterval: '5m',
      series: [...m.series, EXPORTER_UP],
      tests: [
        {
          evalTime: HOUR,
          firing: { DbtlsCrlExpiresSoon: [{ labels: cluster, value: next - HOUR }], DbtlsCheckFailing: failing },
        },
        {
          evalTime: lapsed,
          firing: {
            DbtlsCrlExpiresSoon: [{ labels: cluster, value: next - lapsed }],
            DbtlsCrlExpired: [{ labels: cluster, value: lapsed - next }],
            DbtlsCheckFailing: failing,
          },
        },
      ],
    },
  ]);
});

// Hand-written series: `dbtls exporter` is not built yet; these test the rules' logic on its fixed names.
test('exporter and probe alerts (hand-written series): a probe failing 10m fires, 2m does not; exporter down and absent; a probed node serving another certificate; a probed certificate expiring', async (t) => {
  const probe = (instance: string, module = 'mysql'): Labels => ({ job: 'dbtls-probe', instance, module });
  const exporter = { job: 'dbtls', instance: '127.0.0.1:9219' };
  const notAfter = 5 * DAY;
  const cert = { serial: '0a1b', fingerprint_sha256: 'AA:BB', subject: 'CN=db1' };
  const s = (name: string, labels: Labels, values: string): InputSeries => ({
    series: `${name}{${Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',')}}`,
    values,
  });
  const at = 17 * 60;
  await passes(t, [
    {
      interval: 60,
      series: [
        EXPORTER_UP,
        s('dbtls_probe_success', probe('db1:3306'), '1x5 0x30'), // 0 from 6m: 11m at 17m
        s('dbtls_probe_success', probe('db2:3306'), '1x14 0x30'), // 0 from 15m: 2m at 17m
        s('dbtls_probe_success', probe('db3:4567', 'tls'), '1x40'),
        s('dbtls_probe_serves_manifest', { ...probe('db1:3306'), node: 'db1' }, '0x40'),
        s('dbtls_probe_serves_manifest', { ...probe('db3:3306'), node: 'db3' }, '1x40'),
        s('dbtls_probe_certificate_not_after_seconds', { ...probe('db1:3306'), ...cert }, `${notAfter}x40`),
      ],
      tests: [
        {
          evalTime: at,
          firing: {
            DbtlsProbeFailing: [{ labels: probe('db1:3306'), value: 0 }],
            DbtlsProbedNodeNotServingManifest: [{ labels: { ...probe('db1:3306'), node: 'db1' }, value: 0 }],
            DbtlsProbedCertificateExpiresIn30Days: [
              { labels: { ...probe('db1:3306'), ...cert }, value: notAfter - at },
            ],
            DbtlsProbedCertificateExpiresIn7Days: [{ labels: { ...probe('db1:3306'), ...cert }, value: notAfter - at }],
          },
        },
      ],
    },
    {
      interval: 60,
      series: [s('up', exporter, '1x3 0x20')],
      tests: [
        { evalTime: 6 * 60, firing: {} },
        { evalTime: 15 * 60, firing: { DbtlsExporterDown: [{ labels: exporter, value: 0 }] } },
      ],
    },
    {
      interval: 60,
      series: [s('up', { job: 'node', instance: 'controller:9100' }, '1x20')],
      tests: [
        { evalTime: 3 * 60, firing: {} },
        { evalTime: 10 * 60, firing: { DbtlsExporterAbsent: [{ labels: { job: 'dbtls' }, value: 1 }] } },
      ],
    },
  ]);
});

// A real MariaDB (db1) started on its issued certificate, which `issue --force` then replaces
// without a push or reload, next to db2 (a MySQL-speaking TLS fake, to stay lean) serving its current
// one: `check --live --prometheus` marks db1 old, and the not-serving-the-manifest alert fires for db1 alone.
test('a real MariaDB serving an older serial, from a real check --live: the served-≠-manifest alert fires for that node only', async (t) => {
  const dir = await tempDir(t, 'dbtls-rules-live-');
  const tls: SecureContextOptions = {};
  const db2 = await fakeMysql(t, { tls });
  const port = await freePort();
  const inv = await writeInventory(dir, {
    nodes: [
      { name: 'db1', host: '127.0.0.1', port, transport: 'ssh', ssh: { port: 22 } },
      { name: 'db2', host: '127.0.0.1', port: db2.port, transport: 'ssh', ssh: { port: 22 } },
    ],
  });
  ok(await dbtls(['issue', '-i', inv]), 'issue');
  const pki = join(dir, 'pki');
  const files = join(dir, 'db1-files');
  await mkdir(files);
  for (const f of ['ca.pem', 'nodes/db1/server-cert.pem', 'nodes/db1/server-key.pem'])
    await copyFile(join(pki, f), join(files, f.split('/').pop()!));
  const files1 = (f: string) => join(files, f);
  await startMariadb(t, {
    port,
    ssl: { ca: files1('ca.pem'), cert: files1('server-cert.pem'), key: files1('server-key.pem') },
  });
  tls.cert = await readFile(join(pki, 'nodes/db2/server-cert.pem'), 'utf8');
  tls.key = await readFile(join(pki, 'nodes/db2/server-key.pem'), 'utf8');
  ok(await dbtls(['issue', '-i', inv, '--force', '--node', 'db1']), 'issue --force --node db1');
  const prom = join(dir, 'dbtls.prom');
  const r = await dbtls(['check', '-i', inv, '--live', '--prometheus', prom]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const m = metricsOf(await readFile(prom, 'utf8'), JSON.parse(await readFile(join(pki, 'manifest.json'), 'utf8')));
  const serves = seriesOf(m.samples, 'dbtls_live_serves_manifest');
  assert.deepEqual(
    serves.map((s) => [s.labels.node, s.labels.status, s.value]),
    [
      ['db1', 'old', 0],
      ['db2', 'ok', 1],
    ],
  );
  const db1 = serves[0]!.labels;
  const served = seriesOf(m.samples, 'dbtls_live_not_after_seconds', (l) => l.node === 'db1')[0]!.labels.serial!;
  const current = m.manifest.certificates.find((c) => c.id === 'nodes/db1/server')!.serial;
  assert.notEqual(served.toLowerCase(), current.toLowerCase(), 'MariaDB still serves the serial it started with');
  await passes(t, [
    {
      interval: INTERVAL,
      evaluationInterval: '5m',
      series: [...m.series, EXPORTER_UP],
      tests: [
        {
          evalTime: HOUR,
          firing: {
            DbtlsNodeNotServingManifest: [{ labels: { ...db1, ...NODE }, value: 0 }],
            DbtlsCheckFailing: [{ labels: { cluster: 'test', ...NODE }, value: 0 }],
          },
        },
      ],
    },
  ]);
});

/** Every metric name a dashboard expression may use: the textfile's, the exporter's, up. */
const KNOWN = new Set([
  'dbtls_certificate_not_after_seconds',
  'dbtls_certificate_expires_in_seconds',
  'dbtls_certificate_info',
  'dbtls_check_item_ok',
  'dbtls_crl_next_update_seconds',
  'dbtls_live_serves_manifest',
  'dbtls_live_not_after_seconds',
  'dbtls_live_tls_info',
  'dbtls_live_revocation_enforced',
  'dbtls_check_success',
  'dbtls_check_timestamp_seconds',
  'dbtls_probe_success',
  'dbtls_probe_duration_seconds',
  'dbtls_probe_cached',
  'dbtls_probe_tls_info',
  'dbtls_probe_chain_verified',
  'dbtls_probe_name_verified',
  'dbtls_probe_certificate_not_after_seconds',
  'dbtls_probe_serves_manifest',
  'dbtls_probe_failure_info',
  'dbtls_exporter_probes_total',
  'dbtls_exporter_probe_cache_hits_total',
  'dbtls_exporter_probes_in_flight',
  'dbtls_exporter_probes_rejected_total',
  'dbtls_exporter_build_info',
  'process_resident_memory_bytes',
  'process_start_time_seconds',
  'up',
]);

interface Panel {
  title?: string;
  type: string;
  targets?: Array<{ expr?: string; refId: string }>;
  panels?: Panel[];
}

test('the Grafana dashboard: JSON with a DS_PROMETHEUS input and a cluster variable; every expression valid PromQL (promtool) over known metric names', async (t) => {
  const dash = JSON.parse(await readFile(join(repoRoot, 'examples/prometheus/grafana-dashboard.json'), 'utf8'));
  assert.equal(dash.__inputs[0].name, 'DS_PROMETHEUS');
  assert.ok(dash.schemaVersion >= 36, `schemaVersion ${dash.schemaVersion}`);
  assert.ok(dash.templating.list.some((v: { name: string }) => v.name === 'cluster'));
  const panels: Panel[] = dash.panels.flatMap((p: Panel) => [p, ...(p.panels ?? [])]);
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((x) => ({ title: p.title, expr: x.expr! })));
  assert.ok(exprs.length >= 10, `${exprs.length} expressions`);
  for (const { title, expr } of exprs) {
    assert.ok(expr, `${title}: an expression`);
    // Strings and label matchers out, then every identifier followed by { or ( or a space is a metric or a function.
    const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}');
    const names = [...bare.matchAll(/\b[a-z_:][a-z0-9_:]*\b/gi)].map((x) => x[0]);
    const metrics = names.filter((n) => n.startsWith('dbtls_') || n.startsWith('process_') || n === 'up');
    assert.ok(metrics.length, `${title}: ${expr} names a metric`);
    for (const n of metrics) assert.ok(KNOWN.has(n), `${title}: ${n} is not a dbtls metric`);
  }
  // Grafana's variables become a label value promtool can parse.
  const dir = await tempDir(t, 'dbtls-dashboard-');
  const file = join(dir, 'dashboard-rules.yml');
  const rules = exprs.map((e, i) => ({
    record: `dashboard:expr_${i}`,
    expr: e.expr
      .replace(/\$\{?cluster\}?/g, 'test')
      .replace(/\$__(rate_)?interval/g, '5m')
      .replace(/\$__range/g, '1d'),
  }));
  await writeFile(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
  const r = await run(await promtool(), ['check', 'rules', file]);
  ok(r, 'promtool check rules on the dashboard expressions');
  assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
});
