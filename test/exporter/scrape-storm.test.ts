// The exporter under a scrape storm: hundreds of scrapes at once, of a real MariaDB (helpers/mariadb)
// and of forty addresses of a hostile server that accepts and never speaks. Every scrape is answered
// within its timeout, the servers never see more connections than --concurrency, MariaDB is spared
// by the shared probe and the cache, and the exporter's memory and open files stay where they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { issuedMariadb } from '../helpers/mariadb.js';
import { startExporter, sampleValue, type HttpAnswer } from '../helpers/exporter.js';
import { type TestInventory } from '../helpers/inventory.js';
import { fileScope } from '../helpers/scope.js';
import { tempDir } from '../helpers/tmp.js';

const scope = fileScope();

/** One server on 127.0.0.2 … 127.0.0.(N+1) (all loopback): accepts, says nothing, counts connections at once. */
async function stallingServers(n: number) {
  let open = 0;
  let most = 0;
  let total = 0;
  const ports: Array<{ host: string; port: number }> = [];
  for (let i = 0; i < n; i++) {
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      total++;
      sockets.add(s);
      let counted = false;
      let gone = false;
      const leave = () => {
        if (gone) return;
        gone = true;
        if (counted) open--;
        sockets.delete(s);
      };
      // Counted once this turn of the event loop is over: when the exporter closes one connection and
      // at once opens the next, the first one's FIN is already queued on loopback, and its 'end' comes
      // in the same turn. Counted at accept, a connection already closed would be counted as open.
      setImmediate(() => {
        if (gone) return;
        counted = true;
        most = Math.max(most, ++open);
      });
      s.on('error', () => undefined);
      s.once('end', leave);
      s.once('close', leave);
    });
    const host = `127.0.0.${i + 2}`;
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    ports.push({ host, port: (server.address() as { port: number }).port });
    scope.after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    });
  }
  return { ports, most: () => most, open: () => open, total: () => total };
}

test(
  'a storm of scrapes: each answered within its timeout, at most --concurrency connections, MariaDB spared, memory bounded',
  { timeout: 300_000 },
  async (t) => {
    const dir = await tempDir(t, 'dbtls-storm-');
    const inventory = (port: number): TestInventory => ({ nodes: [{ name: 'db1', host: '127.0.0.1', port }] });
    const { inv, db } = await issuedMariadb(scope, dir, inventory);
    const stall = await stallingServers(40);
    const LIMIT = 6;
    const exporter = await startExporter(t, [
      '-i',
      inv,
      '--any-target',
      '--concurrency',
      String(LIMIT),
      '--queue',
      '24',
      '--cache',
      '2',
      '--probe-timeout',
      '1.5',
    ]);
    const connections = async () => Number((await db.sql("SHOW GLOBAL STATUS LIKE 'Connections'")).split('\t')[1]);
    const metricsOf = async () => (await exporter.get('/metrics')).body;
    const before = await metricsOf();
    const rss0 = sampleValue(before, 'process_resident_memory_bytes')!;
    const fds0 = sampleValue(before, 'process_open_fds')!;
    const conn0 = await connections();

    const SCRAPE_TIMEOUT = 2; // seconds, as Prometheus would send it
    const ROUNDS = 4;
    const all: Array<{ target: string; a: HttpAnswer }> = [];
    const started = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      const targets = [
        ...Array.from({ length: 150 }, () => 'db1'),
        ...Array.from({ length: 150 }, (_, i) => `${stall.ports[i % 40]!.host}:${stall.ports[i % 40]!.port}`),
      ];
      const answers = await Promise.all(
        targets.map(async (target) => ({
          target,
          a: await exporter.get(`/probe?target=${target}`, { scrapeTimeout: SCRAPE_TIMEOUT }),
        })),
      );
      all.push(...answers);
      await sleep(300);
    }
    const elapsed = (Date.now() - started) / 1000;

    for (const { target, a } of all) {
      assert.equal(a.status, 200, `${target}: ${a.body}`);
      assert.ok(a.ms < SCRAPE_TIMEOUT * 1000 + 250, `${target} answered in ${Math.round(a.ms)} ms`);
      assert.ok(sampleValue(a.body, 'dbtls_probe_success') !== undefined, a.body);
    }
    const db1 = all.filter((x) => x.target === 'db1');
    const ok = db1.filter((x) => sampleValue(x.a.body, 'dbtls_probe_success') === 1).length;
    // A db1 scrape is served (probed, shared or cached) or turned away busy; never a failed probe of MariaDB.
    for (const { a } of db1)
      assert.ok(
        sampleValue(a.body, 'dbtls_probe_success') === 1 ||
          sampleValue(a.body, 'dbtls_probe_failure_info', { reason: 'exporter-busy' }) === 1,
        a.body,
      );
    assert.ok(ok > db1.length / 2, `${ok} of ${db1.length} db1 scrapes served`);
    for (const { a } of all.filter((x) => x.target !== 'db1'))
      assert.equal(sampleValue(a.body, 'dbtls_probe_success'), 0);

    assert.ok(stall.most() <= LIMIT, `the stalling servers saw ${stall.most()} connections at once (limit ${LIMIT})`);
    assert.ok(stall.most() >= 2, 'probes did run side by side');
    const conn = (await connections()) - conn0;
    // One probe per cache window at most (2 s), plus this test's own SHOW STATUS; not 600.
    assert.ok(conn <= Math.ceil(elapsed / 2) + 3, `MariaDB saw ${conn} connections in ${elapsed.toFixed(1)} s`);

    await sleep(2000); // the last probes end by their deadline
    const after = await metricsOf();
    assert.equal(sampleValue(after, 'dbtls_exporter_probes_in_flight'), 0);
    assert.equal(stall.open(), 0, 'no connection left open');
    assert.ok(sampleValue(after, 'dbtls_exporter_probes_rejected_total')! > 0, 'the queue bound was reached');
    assert.ok(sampleValue(after, 'dbtls_exporter_probe_cache_hits_total')! > 0);
    const rss = sampleValue(after, 'process_resident_memory_bytes')!;
    const fds = sampleValue(after, 'process_open_fds')!;
    assert.ok(rss - rss0 < 64 * 1024 * 1024, `memory grew by ${Math.round((rss - rss0) / 1048576)} MiB`);
    assert.ok(fds <= fds0 + 4, `open files ${fds0} → ${fds}`);
    t.diagnostic(
      `${all.length} scrapes in ${elapsed.toFixed(1)} s; db1 served ${ok}/${db1.length}; MariaDB saw ${conn} connections; ` +
        `stalling servers ${stall.total()} in all, ${stall.most()} at once; rss ${Math.round(rss0 / 1048576)} → ${Math.round(rss / 1048576)} MiB`,
    );
  },
);
