// `dbtls exporter`: an HTTP endpoint in the blackbox_exporter style. `/probe?target=…&module=…`
// probes when scraped (through the ProbePool: bounded, shared, cached, within the scrape's timeout);
// `/metrics` shows the inventory's certificates as `check --prometheus` does (the check re-run at
// most every `checkEveryMs`) and the exporter's own counters. GET only; nothing it answers holds a
// secret. The caller (cli/run/exporter.ts) does the terminal side through `log`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync } from 'node:fs';
import { runCheck } from '../check/check.js';
import { prometheusText } from '../check/prometheus.js';
import type { Cluster } from '../inventory/model.js';
import { EXPOSITION_CONTENT_TYPE, Exposition } from '../text/exposition.js';
import { ProbePool } from './probe-pool.js';
import { probeMetrics, probeOnce, type ProbeAnswer, type TrustSource } from './probe-scrape.js';
import { probeRequest, RequestError } from './probe-target.js';

export interface ExporterOptions {
  host: string;
  port: number;
  /** Loads the inventory (again at each check refresh: an edited inventory is picked up). */
  loadCluster?: () => Promise<Cluster>;
  /** Without an inventory: the CA file probes verify against (default Node's roots). */
  caFile?: string;
  /** With an inventory: probe targets that are not its nodes too. */
  anyTarget: boolean;
  concurrency: number;
  queue: number;
  cacheMs: number;
  /** The most a probe may take, whatever the scrape's own timeout allows. */
  probeTimeoutMs: number;
  /** The check's expiry window (check --within). */
  withinMs: number;
  checkEveryMs: number;
  version: string;
  log: (line: string) => void;
}

export interface RunningExporter {
  url: string;
  close(): Promise<void>;
}

/** Prometheus tells the target its scrape timeout; the answer must be back before it, with room to send it. */
const SCRAPE_TIMEOUT_HEADER = 'x-prometheus-scrape-timeout-seconds';
const TIMEOUT_OFFSET_MS = 500;
const MAX_TARGETS_CACHED = 4096;

export async function startExporter(o: ExporterOptions): Promise<RunningExporter> {
  const pool = new ProbePool<ProbeAnswer>({
    concurrency: o.concurrency,
    queue: o.queue,
    cacheMs: o.cacheMs,
    maxEntries: MAX_TARGETS_CACHED,
  });
  const probes = new Map<string, number>(); // "module result" → count
  const started = Date.now();
  let cluster = o.loadCluster ? await o.loadCluster() : undefined;
  let check: { at: number; text: string; ok: boolean } | undefined;
  let checking: Promise<void> | undefined;

  const refreshCheck = async () => {
    if (!o.loadCluster) return;
    try {
      cluster = await o.loadCluster();
      const report = await runCheck(cluster, { withinMs: o.withinMs });
      check = { at: Date.now(), text: prometheusText(report, undefined, report.ok, new Date()), ok: true };
    } catch (e) {
      o.log(`check failed: ${(e as Error).message}`);
      check = { at: Date.now(), text: '', ok: false };
    }
  };

  const metrics = async (): Promise<string> => {
    if (o.loadCluster && (!check || Date.now() - check.at >= o.checkEveryMs)) {
      checking ??= refreshCheck().finally(() => (checking = undefined));
      await checking;
    }
    const out = new Exposition();
    const s = pool.stats();
    out.family('dbtls_exporter_build_info', 'The dbtls version the exporter runs.')(
      { version: o.version, node_version: process.version },
      1,
    );
    if (o.loadCluster)
      out.family(
        'dbtls_exporter_check_ok',
        'Whether the last check of the PKI directory could run (inventory and manifest readable).',
      )({}, check?.ok ? 1 : 0);
    const total = out.family(
      'dbtls_exporter_probes_total',
      'Probes answered, by module and result (success, failure, busy).',
      'counter',
    );
    for (const [k, n] of probes) {
      const [module, result] = k.split(' ');
      total({ module, result }, n);
    }
    out.family('dbtls_exporter_probe_cache_hits_total', 'Scrapes answered from the cache.', 'counter')({}, s.cacheHits);
    out.family(
      'dbtls_exporter_probes_joined_total',
      'Scrapes answered by a probe of the same target already in flight.',
      'counter',
    )({}, s.joined);
    out.family(
      'dbtls_exporter_probes_rejected_total',
      'Scrapes refused at once: every probe slot busy and the queue full.',
      'counter',
    )({}, s.rejected);
    out.family(
      'dbtls_exporter_probe_queue_timeouts_total',
      'Scrapes whose deadline passed while they waited for a probe slot.',
      'counter',
    )({}, s.queueTimeouts);
    out.family('dbtls_exporter_probes_in_flight', 'Probes running now (each one connection to a server).')(
      {},
      s.inFlight,
    );
    out.family('dbtls_exporter_probes_queued', 'Scrapes waiting for a probe slot now.')({}, s.queued);
    out.family('dbtls_exporter_probe_cache_entries', 'Targets whose last result is cached.')({}, s.cacheEntries);
    out.family('process_resident_memory_bytes', 'Resident memory size in bytes.')({}, process.memoryUsage.rss());
    out.family('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.')(
      {},
      Math.floor(started / 1000),
    );
    const fds = openFds();
    if (fds !== undefined) out.family('process_open_fds', 'Number of open file descriptors.')({}, fds);
    return (check?.text ?? '') + out.text();
  };

  const probeAnswer = async (req: IncomingMessage, params: URLSearchParams): Promise<string> => {
    const r = probeRequest(params, cluster, o.anyTarget);
    const scrapeTimeout = Number(req.headers[SCRAPE_TIMEOUT_HEADER]);
    const budget =
      Number.isFinite(scrapeTimeout) && scrapeTimeout > 0 ? scrapeTimeout * 1000 - TIMEOUT_OFFSET_MS : Infinity;
    const ms = Math.max(100, Math.min(o.probeTimeoutMs, budget));
    const trust: TrustSource = cluster ? { cluster } : o.caFile ? { caFile: o.caFile } : undefined;
    const outcome = await pool.get(r.key, Date.now() + ms, (left) => probeOnce(r, trust, left));
    const result = outcome.kind === 'busy' ? 'busy' : outcome.result.ok ? 'success' : 'failure';
    const k = `${r.module} ${result}`;
    probes.set(k, (probes.get(k) ?? 0) + 1);
    return probeMetrics(r, outcome);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://exporter');
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(405, 'only GET and HEAD\n');
    }
    try {
      if (url.pathname === '/metrics') return send(200, await metrics(), EXPOSITION_CONTENT_TYPE);
      if (url.pathname === '/probe')
        return send(200, await probeAnswer(req, url.searchParams), EXPOSITION_CONTENT_TYPE);
      if (url.pathname === '/-/healthy') return send(200, 'OK\n');
      if (url.pathname === '/')
        return send(
          200,
          "dbtls exporter\n\n/metrics  the PKI directory's certificates and the exporter's own metrics\n" +
            '/probe?target=HOST:PORT&module=mysql|tls  what a server serves now\n',
        );
      return send(404, 'not found: try /metrics or /probe?target=HOST:PORT\n');
    } catch (e) {
      if (e instanceof RequestError) return send(e.status, e.message + '\n');
      o.log(`error answering ${url.pathname}: ${(e as Error).message}`);
      return send(500, 'internal error\n');
    }
  };

  const server: Server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.maxHeadersCount = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Open file descriptors of this process (Linux), for process_open_fds. */
function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}
