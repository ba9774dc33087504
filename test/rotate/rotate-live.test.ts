// Rotation without downtime, proven on a live cluster: two real MariaDB servers (db2 replicating from
// db1 over verified TLS) reached through loopback sshd nodes, while a load loop keeps opening
// verified connections to both. `rotate ca` (all three phases) and then `rotate leaf --all` must
// cause zero failed connections and zero replication errors, rows must still replicate, and
// `check --live` must show every node serving the manifest's new serial. A reload that fails (a key
// that does not match) must leave the node serving its previous certificate, with its previous files
// put back, and fail the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { dbtls } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { targetKey } from '../helpers/load-loop.js';
import { startAppLoop } from '../helpers/app-loop.js';
import {
  checkReplicates,
  manifestServerSerial,
  servedCertificate,
  slaveStatus,
  startTlsCluster,
  waitReplicating,
  type TlsCluster,
} from '../helpers/tls-cluster.js';

const scope = fileScope();
const bed = once(() => startTlsCluster(scope, null, { reload: (n) => n.reloadCommand }));

async function replicationHealthy(c: TlsCluster): Promise<void> {
  const st = await slaveStatus(c.replica.server);
  assert.equal(st.Slave_IO_Running, 'Yes');
  assert.equal(st.Slave_SQL_Running, 'Yes');
  assert.equal(st.Last_IO_Errno, '0', st.Last_IO_Error);
  assert.equal(st.Last_SQL_Errno, '0', st.Last_SQL_Error);
  await checkReplicates(c);
}

async function liveMatchesManifest(c: TlsCluster): Promise<Record<string, string>> {
  const r = await dbtls(['check', '-i', c.inv, '--live', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const live = JSON.parse(r.stdout).live as Array<{ node: string; status: string; served: { serialHex: string } }>;
  const serials: Record<string, string> = {};
  for (const n of c.nodes) {
    const l = live.find((x) => x.node === n.name)!;
    assert.equal(l.status, 'ok', JSON.stringify(l));
    assert.equal(l.served.serialHex, await manifestServerSerial(c.pki, n.name));
    assert.equal(l.served.serialHex, (await servedCertificate(n.port)).serial, 'what openssl s_client sees');
    serials[n.name] = l.served.serialHex;
  }
  return serials;
}

test('check --live flags a node still serving an older certificate (pushed, not reloaded) and one that does not verify against the CA; a reload clears it', async () => {
  const c = await bed();
  const db1 = c.primary;
  assert.equal((await dbtls(['issue', '-i', c.inv, '--force', '--node', 'db1'])).code, 0);
  assert.equal(
    (await dbtls(['push', '-i', c.inv, '--node', 'db1'], { timeoutMs: 60_000 })).code,
    0,
    'push without --reload',
  );
  const stale = await dbtls(['check', '-i', c.inv, '--live', '--json']);
  assert.equal(stale.code, 1, stale.stdout);
  const live = JSON.parse(stale.stdout).live as Array<{ node: string; status: string; problem?: string }>;
  assert.equal(live.find((l) => l.node === 'db1')!.status, 'old');
  assert.match(live.find((l) => l.node === 'db1')!.problem!, /not reloaded/);
  assert.equal(live.find((l) => l.node === 'db2')!.status, 'ok');
  const plain = await dbtls(['check', '-i', c.inv, '--live']);
  assert.match(plain.stdout, /live OLD\s+db1 127\.0\.0\.1:\d+/);

  // Against another CA's bundle, db2's (current) certificate does not verify.
  const other = join(c.dir, 'other-ca');
  await mkdir(other);
  assert.equal((await dbtls(['setup', '--datadir', other])).code, 0);
  const { liveCheck } = await import('../../lib/check/live.js');
  const { loadInventory } = await import('../../lib/inventory/load.js');
  const foreign = await liveCheck(await loadInventory(c.inv), {
    ca: await readFile(join(other, 'ca.pem'), 'utf8'),
    nodes: ['db2'],
  });
  assert.equal(foreign[0]!.status, 'unverified');
  assert.match(foreign[0]!.problem!, /chain|issuer|self-signed|local issuer/i);

  assert.equal((await db1.ssh(db1.reloadCommand)).code, 0);
  await liveMatchesManifest(c);
});

test('rotate ca (three phases) then rotate leaf --all under load: zero failed connections, replication unbroken, every node serving the new serials', async () => {
  const c = await bed();
  const before = await liveMatchesManifest(c);
  const oldCa = new X509Certificate(await readFile(join(c.pki, 'ca.pem')));
  const loop = startAppLoop(scope, c);
  await loop.waitForRounds(3);

  const ca = await dbtls(['rotate', 'ca', '-i', c.inv, '--yes', '--json'], { timeoutMs: 300_000 });
  assert.equal(ca.code, 0, ca.stdout + ca.stderr);
  const report = JSON.parse(ca.stdout);
  assert.equal(report.state, 'complete');
  for (const p of report.phases) {
    for (const n of p.report.push.nodes)
      assert.deepEqual(
        n.reload.map((r: { status: string }) => r.status),
        ['done'],
        `phase ${p.phase} ${n.node}`,
      );
    for (const l of p.report.live) assert.equal(l.status, 'ok', `phase ${p.phase}: ${JSON.stringify(l)}`);
  }
  await loop.waitForRounds(3);
  const afterCa = await liveMatchesManifest(c);
  const newCa = new X509Certificate(await readFile(join(c.pki, 'ca.pem')));
  assert.notEqual(newCa.fingerprint256, oldCa.fingerprint256);
  for (const n of c.nodes) {
    assert.notEqual(afterCa[n.name], before[n.name], `${n.name} serves a new leaf`);
    const served = new X509Certificate((await servedCertificate(n.port)).pem);
    assert.ok(served.verify(newCa.publicKey), `${n.name}'s leaf is signed by the new CA`);
    assert.equal(
      (await readFile(n.files.ca, 'utf8')).match(/BEGIN CERTIFICATE/g)!.length,
      1,
      `${n.name} trusts the new CA alone`,
    );
  }
  await replicationHealthy(c);

  const leaf = await dbtls(['rotate', 'leaf', '-i', c.inv, '--all', '--yes', '--json'], { timeoutMs: 180_000 });
  assert.equal(leaf.code, 0, leaf.stdout + leaf.stderr);
  assert.deepEqual(JSON.parse(leaf.stdout).nodes, ['db1', 'db2']);
  await loop.waitForRounds(3);
  const afterLeaf = await liveMatchesManifest(c);
  for (const n of c.nodes) assert.notEqual(afterLeaf[n.name], afterCa[n.name]);

  const s = await loop.stop();
  assert.equal(s.failed, 0, JSON.stringify(s.errors, null, 1));
  assert.ok(s.ok > 20, `the loop kept connecting (${s.ok})`);
  for (const n of c.nodes) {
    const seen = s.targets[targetKey({ host: '127.0.0.1', port: n.port })]!.serials;
    assert.deepEqual(
      seen,
      [before[n.name], afterCa[n.name], afterLeaf[n.name]],
      `${n.name}: the loop saw each certificate in turn`,
    );
  }
  await replicationHealthy(c);
  // A new replication connection verifies the new certificates with the new CA alone.
  await c.replica.server.sql('STOP SLAVE IO_THREAD; START SLAVE IO_THREAD');
  const st = await waitReplicating(c.replica.server);
  assert.equal(st.Master_SSL_Verify_Server_Cert, 'Yes');
  await replicationHealthy(c);
});

test('a reload that fails (a key that does not match the new certificate) keeps the previous certificate served and puts the previous files back byte for byte; rotate exits 1 naming the node; the next run converges', async () => {
  const c = await bed();
  const db2 = c.replica;
  const served = (await servedCertificate(db2.port)).serial;
  const onDisk = async () =>
    Promise.all([db2.files.ca, db2.files.cert, db2.files.key].map((f) => readFile(f, 'base64')));
  const before = await onDisk();
  // Between the push and FLUSH SSL, db2's key file is put back to the old key (what an operator's
  // stray copy, or a half-finished manual fix, would do): the server is asked to load a new
  // certificate with a key that does not belong to it.
  const frozenKey = join(c.dir, 'frozen-db2-key.pem');
  await copyFile(db2.files.key, frozenKey);
  const doc = parse(await readFile(c.inv, 'utf8'));
  const entry = doc.nodes.find((n: { name: string }) => n.name === 'db2');
  const normal = entry.reload;
  entry.reload = `cp ${frozenKey} ${db2.files.key} && ${normal}`;
  await writeFile(c.inv, stringify(doc, { lineWidth: 0 }));
  const loop = startAppLoop(scope, c);
  await loop.waitForRounds(2);

  const r = await dbtls(['rotate', 'leaf', '-i', c.inv, '--all', '--node', 'db2', '--yes', '--json'], {
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.failed, ['db2']);
  const node = report.rollout.push.nodes.find((n: { node: string }) => n.node === 'db2');
  assert.equal(node.ok, false);
  assert.equal(node.reload[0].status, 'failed');
  assert.match(node.reload[0].message, /ERROR 1105.*(private key|SSL)/i, "the server's own message");
  assert.equal((await servedCertificate(db2.port)).serial, served, 'db2 still serves its previous certificate');
  // Rolled back: the files on disk are the ones it serves, so a restart does not load the rejected set.
  assert.ok(node.rolledBack.length >= 2, JSON.stringify(node));
  assert.match(node.error.message, /rolled back/);
  assert.deepEqual(await onDisk(), before, 'db2 has its previous ca, certificate and key, byte for byte');
  const plain = await dbtls(['rotate', 'leaf', '-i', c.inv, '--all', '--node', 'db2', '--yes'], { timeoutMs: 120_000 });
  assert.equal(plain.code, 1);
  assert.match(plain.stdout, /db2: reload failed: FLUSH SSL|db2: reload failed/);
  assert.match(plain.stdout, /db2: rolled back \d+ files/);
  assert.deepEqual(await onDisk(), before);

  // With the reload as it should be, the next push converges: the right key goes back, FLUSH SSL works.
  entry.reload = normal;
  await writeFile(c.inv, stringify(doc, { lineWidth: 0 }));
  const fixed = await dbtls(['push', '-i', c.inv, '--node', 'db2', '--reload', 'always', '--json'], {
    timeoutMs: 120_000,
  });
  assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
  await liveMatchesManifest(c);
  const s = await loop.stop();
  assert.equal(s.failed, 0, JSON.stringify(s.errors, null, 1));
  await replicationHealthy(c);
});
