// A client that keeps opening NEW verified TLS connections (mysql2) to every target in turn while a
// test rotates certificates under it: each connection reads the CA, certificate and key files fresh
// (as a client that reconnects after its files changed), verifies the server's chain AND name or IP
// (mysql2's verifyIdentity checks names only; the address dialled is checked here), logs in with its
// certificate, runs SELECT 1 (and an INSERT on the primary, so replication keeps
// flowing), closes. Counts successes and failures, keeps the first errors, and records the serial of
// every server certificate it was served. Bounded: it stops by itself after maxMs.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP, connect as netConnect } from 'node:net';
import { checkServerIdentity, type TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';

export interface LoadTarget {
  /** Where to dial (an IP or a name this machine resolves). */
  host: string;
  port: number;
  /**
   * The name (or IP) to verify the server's certificate against (a name is also sent as SNI)
   * instead of HOST: the connection still goes to HOST:PORT. Default: HOST itself.
   */
  servername?: string;
}

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface LoadLoopOptions {
  targets: LoadTarget[];
  /** The client's files, or a function giving them (called before every connection). */
  files: TlsFiles | (() => TlsFiles);
  /** The account to log in as (its requirement is the certificate; no password). Default 'app'. */
  user?: string;
  /** Pause between two connections (default 20 ms). */
  intervalMs?: number;
  /** On connections to this target, also `INSERT INTO table () VALUES ()` (a table whose columns all have defaults). */
  write?: { host: string; port: number; table: string };
  /** Stop by itself after this long (default 10 min), so a broken test cannot hang. */
  maxMs?: number;
  /** How many error records to keep (default 20). */
  keepErrors?: number;
  /** Bound for each connection's handshake and each query (default 5 s). */
  timeoutMs?: number;
}

export interface LoadError {
  /** ISO time of the failure. */
  at: string;
  /** `host:port` (and `as servername` when one was given). */
  target: string;
  code?: string;
  message: string;
}

export interface TargetStats {
  ok: number;
  failed: number;
  /** Serials (lower-case hex, no leading zeros) of the server certificates seen, in the order first seen. */
  serials: string[];
}

export interface LoadStats {
  ok: number;
  failed: number;
  /** Rows inserted on the write target. */
  inserted: number;
  /** The first `keepErrors` failures. */
  errors: LoadError[];
  /** Per target, keyed by targetKey(target). */
  targets: Record<string, TargetStats>;
  startedAt: string;
  /** Set once the loop has stopped. */
  stoppedAt?: string;
  /** Why it stopped: stop() was called, or maxMs passed. */
  stoppedBy?: 'stop' | 'maxMs';
}

export interface LoadLoop {
  /** A copy of the counts so far (the loop keeps running). */
  stats(): LoadStats;
  /**
   * Waits (≤ timeoutMs, default 20 s) until every target has had at least N more successful
   * connections than it had when called; throws with the stats if that does not happen.
   */
  waitForRounds(n: number, timeoutMs?: number): Promise<LoadStats>;
  /** Waits (≤ timeoutMs, default 20 s) until PREDICATE holds for the stats; throws with them if it does not. */
  waitUntil(predicate: (s: LoadStats) => boolean, what: string, timeoutMs?: number): Promise<LoadStats>;
  /** Stops after the connection in flight and returns the final stats. Safe to call twice. */
  stop(): Promise<LoadStats>;
}

/** `host:port`, with ` as NAME` when a servername is given: the key of LoadStats.targets. */
export function targetKey(t: LoadTarget): string {
  return `${t.host}:${t.port}${t.servername ? ` as ${t.servername}` : ''}`;
}

/** A serial as lower-case hex without leading zeros (Node, OpenSSL and the manifest spell them differently). */
export function normalizeSerial(serial: string): string {
  return serial
    .trim()
    .replace(/^serial=/i, '')
    .replace(/:/g, '')
    .toLowerCase()
    .replace(/^0+(?=.)/, '');
}

const quoteIdent = (table: string): string =>
  table
    .split('.')
    .map((p) => `\`${p.replace(/`/g, '``')}\``)
    .join('.');

/** Starts the loop at once; it runs until stop() or maxMs. */
export function startLoadLoop(opts: LoadLoopOptions): LoadLoop {
  if (opts.targets.length === 0) throw new Error('startLoadLoop: no targets');
  const { write } = opts;
  if (write && !opts.targets.some((t) => t.host === write.host && t.port === write.port)) {
    throw new Error(`startLoadLoop: the write target ${write.host}:${write.port} is not one of the targets`);
  }
  const user = opts.user ?? 'app';
  const intervalMs = opts.intervalMs ?? 20;
  const maxMs = opts.maxMs ?? 10 * 60_000;
  const keepErrors = opts.keepErrors ?? 20;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const files = typeof opts.files === 'function' ? opts.files : () => opts.files as TlsFiles;

  const stats: LoadStats = {
    ok: 0,
    failed: 0,
    inserted: 0,
    errors: [],
    targets: {},
    startedAt: new Date().toISOString(),
  };
  for (const t of opts.targets) stats.targets[targetKey(t)] = { ok: 0, failed: 0, serials: [] };

  let stopping: 'stop' | 'maxMs' | undefined;
  const wake = new AbortController();
  const deadline = setTimeout(() => {
    stopping ??= 'maxMs';
    wake.abort();
  }, maxMs);
  deadline.unref();

  /** One connection: fresh files, verified handshake, login, SELECT 1 (+ INSERT), close. */
  const once = async (t: LoadTarget): Promise<void> => {
    const key = targetKey(t);
    const per = stats.targets[key]!;
    const expected = t.servername ?? t.host;
    let conn: mysql.Connection | undefined;
    try {
      const [ca, cert, key_] = await matchingFiles(files());
      conn = await mysql.createConnection({
        // mysql2 takes the name to verify (and the SNI) from `host`; the socket goes to the real address.
        host: expected,
        port: t.port,
        ...(expected !== t.host ? { stream: () => netConnect({ host: t.host, port: t.port }) } : {}),
        user,
        // A new ssl object per connection: no cached secure context or TLS session (a resumed session
        // would skip the name check and show no new certificate), the files as they are now.
        // For an IP, mysql2's verifyIdentity would check "localhost" (below); the check below is the one that counts.
        ssl: { ca, cert, key: key_, rejectUnauthorized: true, verifyIdentity: isIP(expected) === 0 },
        connectTimeout: timeoutMs,
      });
      // Failures reach us through the promises; a late 'error' event (a reset after the last reply)
      // must not crash the test process for want of a listener.
      conn.on('error', () => undefined);
      // The promise wrapper's (untyped) `connection` is the core connection; its stream is the TLS socket after the upgrade.
      const stream = (conn as unknown as { connection?: { stream?: TLSSocket } }).connection?.stream;
      const peer = stream && typeof stream.getPeerCertificate === 'function' ? stream.getPeerCertificate() : undefined;
      if (!peer?.serialNumber) throw new Error('connected, but the connection shows no TLS peer certificate');
      // mysql2 sends no servername for an IP host, and Node then checks the certificate against
      // "localhost" instead of the address dialled: check the name or IP ourselves, every time.
      const identity = checkServerIdentity(expected, peer);
      if (identity) throw identity;
      const serial = normalizeSerial(peer.serialNumber);
      await conn.query({ sql: 'SELECT 1', timeout: timeoutMs });
      if (write && t.host === write.host && t.port === write.port) {
        await conn.query({ sql: `INSERT INTO ${quoteIdent(write.table)} () VALUES ()`, timeout: timeoutMs });
        stats.inserted++;
      }
      // A polite COM_QUIT, bounded: a server that never closes must not stall the loop.
      const timer = new AbortController();
      const ended = await Promise.race([
        conn.end().then(() => true),
        sleep(timeoutMs, false, { signal: timer.signal }).catch(() => false),
      ]).finally(() => timer.abort());
      if (!ended) throw new Error(`closing the connection took longer than ${timeoutMs} ms`);
      conn = undefined;
      if (!per.serials.includes(serial)) per.serials.push(serial);
      per.ok++;
      stats.ok++;
    } catch (e) {
      conn?.destroy();
      per.failed++;
      stats.failed++;
      if (stats.errors.length < keepErrors) {
        const err = e as NodeJS.ErrnoException;
        stats.errors.push({
          at: new Date().toISOString(),
          target: key,
          ...(err.code ? { code: String(err.code) } : {}),
          message: err.message ?? String(e),
        });
      }
    }
  };

  const loop = (async () => {
    for (let i = 0; !stopping; i++) {
      await once(opts.targets[i % opts.targets.length]!);
      if (!stopping && intervalMs > 0)
        await sleep(intervalMs, undefined, { signal: wake.signal }).catch(() => undefined);
    }
    clearTimeout(deadline);
    stats.stoppedAt = new Date().toISOString();
    stats.stoppedBy = stopping;
  })();

  const snapshot = (): LoadStats => structuredClone(stats);

  const waitUntil = async (predicate: (s: LoadStats) => boolean, what: string, waitMs = 20_000): Promise<LoadStats> => {
    const until = Date.now() + waitMs;
    while (!predicate(stats)) {
      if (stats.stoppedAt)
        throw new Error(`load loop stopped (${stats.stoppedBy}) before ${what}: ${JSON.stringify(snapshot())}`);
      if (Date.now() > until)
        throw new Error(`load loop: no ${what} within ${waitMs} ms: ${JSON.stringify(snapshot())}`);
      await sleep(25);
    }
    return snapshot();
  };

  return {
    stats: snapshot,
    waitForRounds(n, waitMs) {
      const base = Object.fromEntries(Object.entries(stats.targets).map(([k, v]) => [k, v.ok]));
      return waitUntil(
        (s) => Object.entries(s.targets).every(([k, v]) => v.ok >= base[k]! + n),
        `${n} more successful connections per target`,
        waitMs,
      );
    },
    waitUntil,
    async stop() {
      stopping ??= 'stop';
      wake.abort();
      await loop;
      return snapshot();
    },
  };
}

/**
 * The files as a careful client reloads them: certificate and key as a matching pair. A rotation
 * replaces the two files one after the other, and a client that read them in between would hold a
 * certificate with the other's key — its own mistake, not the server's — so it reads them again.
 */
async function matchingFiles(f: TlsFiles): Promise<[Buffer, Buffer, Buffer]> {
  for (let attempt = 0; ; attempt++) {
    const [ca, cert, key] = await Promise.all([readFile(f.ca), readFile(f.cert), readFile(f.key)]);
    let matches = false;
    try {
      matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
    } catch {
      matches = false;
    }
    if (matches || attempt >= 50) return [ca, cert, key];
    await sleep(10);
  }
}
