// A `dbtls exporter` the test started (the compiled CLI, on a free loopback port): its URL, what it
// said on stderr, HTTP GETs with the header Prometheus sends, and a stop that waits for its exit.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { cliPath } from './paths.js';
import type { Scope } from './scope.js';
import { stopProcess, watchExit } from './server-process.js';

export interface Exporter {
  url: string;
  pid: number;
  stderr(): string;
  /** GET PATH; `scrapeTimeout` (seconds) is sent as X-Prometheus-Scrape-Timeout-Seconds. */
  get(path: string, opts?: { scrapeTimeout?: number; method?: string }): Promise<HttpAnswer>;
  /** SIGTERM and the exit code. */
  stop(): Promise<number | null>;
}

export interface HttpAnswer {
  status: number;
  type: string | undefined;
  body: string;
  ms: number;
}

export async function startExporter(scope: Scope, args: string[], opts: { cwd?: string } = {}): Promise<Exporter> {
  const child = spawn(process.execPath, [cliPath, 'exporter', '--listen', '127.0.0.1:0', ...args], {
    cwd: opts.cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = watchExit(child);
  scope.after(() => stopProcess(child, exited, 3000));
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the exporter did not start within 15 s: ${err}`)), 15_000);
    const look = () => {
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', look);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', look);
    child.once('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`the exporter exited (${c}) before it listened: ${err}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    stderr: () => err,
    get: (path, o = {}) => httpGet(url + path, o),
    stop: async () => {
      await stopProcess(child, exited, 5000);
      return child.exitCode;
    },
  };
}

export function httpGet(url: string, o: { scrapeTimeout?: number; method?: string } = {}): Promise<HttpAnswer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: o.method ?? 'GET',
        agent: false,
        headers: o.scrapeTimeout ? { 'x-prometheus-scrape-timeout-seconds': String(o.scrapeTimeout) } : {},
        timeout: 60_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            type: res.headers['content-type'],
            body,
            ms: performance.now() - started,
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 60 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** The value of the sample NAME{…LABELS…} in an exposition (labels matched as given, in any order). */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[3] ?? '';
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) return Number(m[4]);
  }
  return undefined;
}
