// Galera rotation end to end, on a real three-node MariaDB Galera cluster (Debian's galera-4) started
// from the snippets dbtls rendered and pushed over loopback sshd (test/helpers/galera-bed.ts):
// - it forms with TLS on the group channel and SST: every gcomm port serves its node's own
//   certificate, the joiners got their state by SST through stunnel, and a restarted node by IST;
// - `rotate leaf --all` and `rotate ca` (all three phases) while three load loops (one a node) open
//   verified client connections and write on every node: the cluster keeps three members throughout,
//   no connection fails, every write is on every node, check --live shows the new serials on every
//   SQL and gcomm port;
// - a provider reload that fails (a key that does not match, planted on the node during the reload)
//   leaves the node in the cluster serving its old certificate, stops the roll before the next node,
//   and the run exits 1 naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dbtls, run } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { galeraMissing } from '../helpers/galera.js';
import { GALERA_TABLE, startGaleraBed, watchClusterSize, type GaleraBed } from '../helpers/galera-bed.js';
import { normalizeSerial, startLoadLoop, type LoadLoop } from '../helpers/load-loop.js';
import { shellCommand } from '../../lib/deliver/quote.js';
import { reloadPlans } from '../../lib/reload/commands.js';
import { loadInventory } from '../../lib/inventory/load.js';

const missing = await galeraMissing();
const stunnel = (await run('sh', ['-c', 'command -v stunnel || command -v stunnel4'])).code === 0;
const skip = missing ?? (stunnel ? false : 'stunnel not installed (rsync SST over TLS needs it)');
const scope = fileScope();
const bed = once(() => startGaleraBed(scope));

interface Live {
  node: string;
  port: number;
  channel?: string;
  status: string;
  served?: { serialHex: string };
  problem?: string;
}

/** check --live: every node's SQL and gcomm result ok; returns node → served serial (both channels agree). */
async function liveSerials(b: GaleraBed): Promise<Record<string, string>> {
  const r = await dbtls(['check', '-i', b.inv, '--live', '--json'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const live = JSON.parse(r.stdout).live as Live[];
  assert.equal(live.length, 6, 'a SQL and a gcomm result per node');
  const out: Record<string, string> = {};
  for (const n of b.nodes) {
    const sql = live.find((l) => l.node === n.name && !l.channel)!;
    const gcomm = live.find((l) => l.node === n.name && l.channel === 'gcomm')!;
    for (const l of [sql, gcomm]) assert.equal(l.status, 'ok', JSON.stringify(l));
    assert.equal(gcomm.port, 4567);
    assert.equal(sql.served!.serialHex, gcomm.served!.serialHex, `${n.name}: one certificate on both ports`);
    out[n.name] = sql.served!.serialHex;
  }
  return out;
}

/** What OpenSSL sees on a gcomm port, presenting the node's own client certificate (Galera wants one). */
async function gcommSerial(b: GaleraBed, i: number): Promise<string> {
  const n = b.nodes[i]!;
  const dir = join(b.pki, 'nodes', n.name);
  const r = await run(
    'openssl',
    [
      's_client',
      '-connect',
      `${n.host}:4567`,
      '-cert',
      join(dir, 'client-cert.pem'),
      '-key',
      join(dir, 'client-key.pem'),
      '-CAfile',
      join(b.pki, 'ca.pem'),
    ],
    { input: '', timeoutMs: 15_000 },
  );
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(r.stdout)?.[0];
  assert.ok(pem, `openssl s_client ${n.host}:4567 showed no certificate: ${r.stdout.slice(0, 500)}${r.stderr}`);
  return normalizeSerial(new X509Certificate(pem).serialNumber);
}

/** One load loop a node: verified connections to it, each inserting a row there. */
function loadLoops(b: GaleraBed): LoadLoop[] {
  return b.nodes.map((n) => {
    const loop = startLoadLoop({
      targets: [{ host: n.host, port: 3306 }],
      files: b.appFiles,
      write: { host: n.host, port: 3306, table: GALERA_TABLE },
      maxMs: 300_000,
    });
    scope.after(() => loop.stop());
    return loop;
  });
}

/** Stops the loops; asserts no failure and that every node holds every row the loops inserted. */
async function loopsClean(b: GaleraBed, loops: LoadLoop[], before: number): Promise<void> {
  const stats = await Promise.all(loops.map((l) => l.stop()));
  for (const [i, s] of stats.entries()) {
    assert.equal(s.failed, 0, `${b.nodes[i]!.name}: ${JSON.stringify(s.errors.slice(0, 3))}`);
    assert.ok(s.ok > 0 && s.inserted > 0, `${b.nodes[i]!.name} had traffic`);
  }
  const inserted = stats.reduce((a, s) => a + s.inserted, 0);
  const want = before + inserted;
  for (const n of b.nodes) {
    const deadline = Date.now() + 20_000;
    let count = -1;
    while (Date.now() < deadline) {
      count = Number((await n.server.sql(`SELECT COUNT(*) FROM ${GALERA_TABLE}`)).trim());
      if (count === want) break;
      await sleep(100);
    }
    assert.equal(count, want, `${n.name} holds every write of every node`);
  }
  const sums = await Promise.all(b.nodes.map((n) => n.server.sql(`SELECT SUM(id), MAX(id) FROM ${GALERA_TABLE}`)));
  assert.equal(new Set(sums).size, 1, `the same rows everywhere: ${sums.join(' / ')}`);
}

const rows = async (b: GaleraBed) =>
  Number((await b.nodes[0]!.server.sql(`SELECT COUNT(*) FROM ${GALERA_TABLE}`)).trim());

/**
 * Runs dbtls ARGS while a load loop works every node and the cluster size is sampled: the run exits 0,
 * every sample saw 3 members, no connection failed, every write is on every node. Returns its JSON.
 */
async function rotateUnderLoad(b: GaleraBed, args: string[], timeoutMs: number): Promise<any> {
  const start = await rows(b);
  const loops = loadLoops(b);
  await Promise.all(loops.map((l) => l.waitForRounds(3)));
  const size = watchClusterSize(b);
  const r = await dbtls(args, { timeoutMs });
  const sizes = await size.stop();
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(sizes.samples > 3 && sizes.min === 3, `cluster size stayed 3: ${JSON.stringify(sizes)}`);
  await Promise.all(loops.map((l) => l.waitForRounds(3)));
  await loopsClean(b, loops, start);
  return JSON.parse(r.stdout);
}

test(
  'the cluster forms from the rendered snippets: TLS on gcomm (each port serves its own node), SST through stunnel, IST after a restart',
  { skip },
  async () => {
    const b = await bed();
    const serials = await liveSerials(b);
    for (const [i, n] of b.nodes.entries()) {
      assert.equal(await gcommSerial(b, i), serials[n.name], `${n.name}'s gcomm port serves its own certificate`);
      assert.equal(await n.server.status('wsrep_cluster_size'), '3');
    }
    assert.equal(new Set(Object.values(serials)).size, 3, 'three distinct certificates');
    for (const n of b.nodes.slice(1)) {
      const log = await readFile(n.server.errorLog, 'utf8');
      assert.match(log, /Using stunnel for SSL encryption/, `${n.name} received its SST over stunnel`);
      assert.match(log, /SST (succeeded|received)|State transfer .* complete/i, `${n.name} joined by SST`);
    }
    const g3 = b.nodes[2]!.server;
    await g3.stop();
    await b.nodes[0]!.server.sql(`INSERT INTO ${GALERA_TABLE} (note) VALUES ('while g3 was away')`);
    await g3.start({ waitSynced: true });
    assert.match(await readFile(g3.errorLog, 'utf8'), /IST received/);
    assert.equal((await g3.sql(`SELECT COUNT(*) FROM ${GALERA_TABLE} WHERE note = 'while g3 was away'`)).trim(), '1');
  },
);

test(
  'rotate leaf --all under load: one node at a time, 3 members throughout, no failed connection, every write everywhere',
  { skip },
  async () => {
    const b = await bed();
    const before = await liveSerials(b);
    const report = await rotateUnderLoad(b, ['rotate', 'leaf', '-i', b.inv, '--all', '--yes', '--json'], 180_000);
    assert.deepEqual(report.nodes, ['g1', 'g2', 'g3']);
    for (const n of report.rollout.push.nodes) {
      assert.deepEqual(
        n.reload.map((x: { status: string }) => x.status),
        ['done'],
        n.node,
      );
      assert.match(n.reload[0].what, /FLUSH SSL .*Synced/);
    }
    assert.equal(report.rollout.live.length, 6, 'each node probed on SQL and gcomm right after its reload');
    const after = await liveSerials(b);
    for (const [i, n] of b.nodes.entries()) {
      assert.notEqual(after[n.name], before[n.name], `${n.name} serves a new leaf`);
      assert.equal(await gcommSerial(b, i), after[n.name]);
    }
  },
);

test(
  'rotate ca, all three phases, under load: 3 members throughout, no failed connection, new CA everywhere',
  { skip },
  async () => {
    const b = await bed();
    const before = await liveSerials(b);
    const oldCa = new X509Certificate(await readFile(join(b.pki, 'ca.pem')));
    const report = await rotateUnderLoad(b, ['rotate', 'ca', '-i', b.inv, '--yes', '--json'], 300_000);
    assert.equal(report.state, 'complete');
    for (const p of report.phases)
      for (const l of p.report.live) assert.equal(l.status, 'ok', `phase ${p.phase}: ${JSON.stringify(l)}`);
    const after = await liveSerials(b);
    const newCa = new X509Certificate(await readFile(join(b.pki, 'ca.pem')));
    assert.notEqual(newCa.fingerprint256, oldCa.fingerprint256);
    for (const [i, n] of b.nodes.entries()) {
      assert.notEqual(after[n.name], before[n.name]);
      assert.equal(await gcommSerial(b, i), after[n.name], `${n.name}'s gcomm port serves the new leaf`);
      const ca = await readFile(join(n.dest, 'ca.pem'), 'utf8');
      assert.equal(ca.match(/BEGIN CERTIFICATE/g)!.length, 1, `${n.name} trusts the new CA alone`);
    }
  },
);

test(
  'a provider reload that fails (mismatched key) keeps the node in the cluster on its old certificate, stops the roll, exits 1 naming it',
  { skip },
  async () => {
    const b = await bed();
    const before = await liveSerials(b);
    const g2 = b.nodes[1]!;
    // During g2's reload, another key is put in place of the one just pushed (once), then dbtls's own
    // default reload for the node runs: FLUSH SSL cannot load the pair and fails.
    const bad = join(b.dir, 'stray-key.pem');
    assert.equal((await run('openssl', ['genrsa', '-out', bad, '2048'])).code, 0);
    assert.equal((await run('chown', ['mysql:mysql', bad])).code, 0);
    const cluster = await loadInventory(b.inv);
    const own = reloadPlans(cluster.nodes[1]!)[0]!;
    assert.equal(own.kind, 'command');
    const marker = join(b.dir, 'planted');
    const plant = `if [ ! -e ${shellCommand([marker])} ]; then touch ${shellCommand([marker])} && cp ${shellCommand([bad])} ${shellCommand([join(g2.dest, 'server-key.pem')])}; fi`;
    await b.writeInventory((n, i) =>
      i === 1 ? { ...n, reload: `${plant}; ${own.kind === 'command' ? own.command : ''}` } : n,
    );
    try {
      const r = await dbtls(['rotate', 'leaf', '-i', b.inv, '--all', '--yes', '--json'], { timeoutMs: 180_000 });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const report = JSON.parse(r.stdout);
      assert.deepEqual(report.failed, ['g2', 'g3'], JSON.stringify(report.rollout.push.nodes, null, 1));
      const byNode = Object.fromEntries(report.rollout.push.nodes.map((n: { node: string }) => [n.node, n]));
      assert.equal(byNode.g1.ok, true);
      assert.equal(byNode.g2.reload[0].status, 'failed');
      assert.ok(byNode.g2.rolledBack?.length > 0, 'g2 got its previous files back');
      assert.equal(byNode.g3.error.code, 'galera-halted', 'g3 was not touched');
      for (const n of b.nodes) assert.equal(await n.server.status('wsrep_cluster_size'), '3');
      assert.equal(await g2.server.status('wsrep_local_state_comment'), 'Synced');
      assert.equal(await gcommSerial(b, 1), before.g2, 'g2 still serves its old certificate on gcomm');
    } finally {
      await b.writeInventory();
    }
    // Without the stray key the same roll converges.
    const again = await dbtls(
      ['rotate', 'leaf', '-i', b.inv, '--node', 'g2', '--node', 'g3', '--all', '--yes', '--json'],
      { timeoutMs: 180_000 },
    );
    assert.equal(again.code, 0, again.stdout + again.stderr);
    await liveSerials(b);
  },
);
