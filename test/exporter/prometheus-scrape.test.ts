// A real Prometheus (Debian's prometheus) scrapes what dbtls exposes, from a config on 127.0.0.1:
// `dbtls exporter`'s /metrics, its /probe relabelled in the blackbox style (a real MariaDB serving
// the certificate dbtls issued, and a port that never speaks), and prometheus-node-exporter's textfile
// collector reading what `dbtls check --prometheus` wrote. The queries read back what the files say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { freePort, issuedMariadb } from '../helpers/mariadb.js';
import { startExporter, httpGet } from '../helpers/exporter.js';
import { type TestInventory } from '../helpers/inventory.js';
import { dbtls, run } from '../helpers/run.js';
import { fileScope, type Scope } from '../helpers/scope.js';
import { stopProcess, watchExit } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { repoRoot } from '../helpers/paths.js';

const scope = fileScope();

function daemon(s: Scope, cmd: string, args: string[]): { log: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = watchExit(child);
  s.after(() => stopProcess(child, exited, 5000));
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  return { log: () => log };
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(base: string, expr: string): Promise<Sample[]> {
  const a = await httpGet(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = JSON.parse(a.body) as { status: string; error?: string; data?: { result: Sample[] } };
  assert.equal(body.status, 'success', `${expr}: ${body.error}`);
  return body.data!.result;
}

/** Polls until `probe` returns something (bounded: 60 tries, 0.5 s apart). */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 60; i++) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(500);
  }
  throw new Error(`gave up waiting for ${what}`);
}

test(
  "Prometheus scrapes the exporter (/metrics, /probe of MariaDB and of a silent port) and node_exporter's textfile",
  { timeout: 240_000 },
  async (t) => {
    const dir = await tempDir(t, 'dbtls-prom-');
    const inventory = (port: number): TestInventory => ({
      cluster: 'prom',
      nodes: [{ name: 'db1', host: '127.0.0.1', port }],
    });
    const { inv, pki } = await issuedMariadb(scope, dir, inventory);
    const silent = createServer((s: Socket) => s.on('error', () => undefined));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    t.after(() => new Promise((r) => silent.close(r)));
    silent.on('connection', (s) => t.after(() => s.destroy()));
    const silentTarget = `127.0.0.1:${(silent.address() as { port: number }).port}`;

    // node_exporter's textfile collector reads what `check --prometheus` wrote.
    const textfiles = join(dir, 'textfile');
    await mkdir(textfiles);
    const check = await dbtls(['check', '-i', inv, '--prometheus', join(textfiles, 'dbtls.prom')]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const nodePort = await freePort();
    const node = daemon(t, 'prometheus-node-exporter', [
      `--web.listen-address=127.0.0.1:${nodePort}`,
      '--collector.disable-defaults',
      '--collector.textfile',
      `--collector.textfile.directory=${textfiles}`,
    ]);

    const exporter = await startExporter(t, ['-i', inv, '--any-target']);
    const exporterAddr = exporter.url.replace(/^http:\/\//, '');
    const promPort = await freePort();
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      scrape_configs: [
        { job_name: 'dbtls', static_configs: [{ targets: [exporterAddr] }] },
        {
          job_name: 'dbtls-probe',
          metrics_path: '/probe',
          params: { module: ['mysql'] },
          static_configs: [{ targets: ['db1', silentTarget] }],
          relabel_configs: [
            { source_labels: ['__address__'], target_label: '__param_target' },
            { source_labels: ['__param_target'], target_label: 'instance' },
            { target_label: '__address__', replacement: exporterAddr },
          ],
        },
        { job_name: 'node', static_configs: [{ targets: [`127.0.0.1:${nodePort}`] }] },
      ],
    };
    (config as Record<string, unknown>).rule_files = [join(repoRoot, 'examples/prometheus/dbtls-alerts.yml')];
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(configFile, stringify(config));
    const prom = daemon(t, 'prometheus', [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    const base = `http://127.0.0.1:${promPort}`;

    // Every target up, scraped by Prometheus itself (a probe that fails is still a scrape that worked).
    await until(`all targets up (${prom.log().slice(-400)} ${node.log().slice(-400)})`, async () => {
      const up = await query(base, 'up');
      return up.length === 4 && up.every((s) => s.value[1] === '1') ? up : undefined;
    });
    const cert = new X509Certificate(await readFile(join(pki, 'nodes/db1/server-cert.pem')));
    const notAfter = String(Math.floor(Date.parse(cert.validTo) / 1000));
    const one = async (expr: string) => until(expr, async () => (await query(base, expr))[0]?.value[1]);
    assert.equal(await one('dbtls_probe_success{job="dbtls-probe",instance="db1"}'), '1');
    assert.equal(await one('dbtls_probe_serves_manifest{instance="db1",node="db1"}'), '1');
    assert.equal(await one('dbtls_probe_certificate_not_after_seconds{instance="db1"}'), notAfter);
    assert.equal(await one(`dbtls_probe_success{instance="${silentTarget}"}`), '0');
    assert.equal(await one(`dbtls_probe_failure_info{instance="${silentTarget}",reason="probe-timeout"}`), '1');
    // The same certificate, as the exporter's /metrics and as the textfile through node_exporter say it.
    for (const job of ['dbtls', 'node'])
      assert.equal(await one(`dbtls_certificate_not_after_seconds{job="${job}",id="nodes/db1/server"}`), notAfter);
    assert.equal(await one('dbtls_check_item_ok{job="node",id="nodes/db1/server",status="ok"}'), '1');
    assert.equal(await one('dbtls_check_success{job="node"}'), '1');
    // promtool accepts each exposition the exporter answers with, warnings included.
    for (const path of [
      '/metrics',
      '/probe?target=db1',
      `/probe?target=${silentTarget}`,
      '/probe?target=127.0.0.1:1',
    ]) {
      const body = (await exporter.get(path, { scrapeTimeout: 1 })).body;
      const lint = await run('promtool', ['check', 'metrics'], { input: body });
      assert.equal(lint.code, 0, `${path}: ${lint.stdout}${lint.stderr}`);
      assert.equal(lint.stdout + lint.stderr, '', `${path}: no lint warnings`);
    }
    // The example alert rules, loaded by this Prometheus: the silent port's probe alert is pending
    // (it fires after its `for:`), and nothing is pending or firing for the healthy node and PKI.
    await one(`ALERTS{alertname="DbtlsProbeFailing",instance="${silentTarget}",alertstate="pending"}`);
    const alerts = await query(base, 'ALERTS');
    assert.deepEqual(
      alerts.map((a) => `${a.metric.alertname} ${a.metric.instance}`),
      [`DbtlsProbeFailing ${silentTarget}`],
      'no other alert',
    );
    // Each panel of the example dashboard is a query this Prometheus answers; those about what this
    // setup has (no --live, no CRL here) come back with data.
    const dashboard = JSON.parse(await readFile(join(repoRoot, 'examples/prometheus/grafana-dashboard.json'), 'utf8'));
    const exprs: string[] = dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) =>
      (p.targets ?? []).map((x) => x.expr),
    );
    assert.ok(exprs.length >= 20, `${exprs.length} panel queries`);
    for (const expr of exprs) {
      const q = expr.replaceAll('$cluster', 'prom').replaceAll('$__rate_interval', '1m');
      await query(base, q); // answered without an error
      if (!/dbtls_live_|crl|revocation|== 0/.test(expr))
        await until(`${q} to have data`, async () => ((await query(base, q)).length ? true : undefined));
    }
    assert.ok(Number(await one('dbtls_exporter_probes_total{job="dbtls",module="mysql",result="success"}')) >= 1);
  },
);
