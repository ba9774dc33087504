// The rotation test bed is real: two MariaDB servers on the files `dbtls apply` pushed through
// loopback sshd, replicating over verified TLS; a load loop of verified mysql2 connections that
// succeeds against both and fails when it should (foreign CA, wrong name or address); and a leaf rotation done
// by hand with today's tools (issue --force, push, FLUSH SSL over the node's sshd) that the loop,
// running throughout, does not notice, while db1 serves the new serial and replication goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { tempDir } from '../helpers/tmp.js';
import { startLoadLoop, targetKey, type LoadLoop, type LoadTarget } from '../helpers/load-loop.js';
import {
  checkReplicates,
  fileSerial,
  manifestServerSerial,
  servedCertificate,
  slaveStatus,
  startTlsCluster,
  waitReplicating,
  type TlsCluster,
} from '../helpers/tls-cluster.js';

const scope = fileScope();
const bed = once(() => startTlsCluster(scope, null));

const targetsOf = (c: TlsCluster): LoadTarget[] => c.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));

/** A loop of app connections to both nodes, inserting on the primary; stopped with the scope at the latest. */
function appLoop(c: TlsCluster): LoadLoop {
  const loop = startLoadLoop({
    targets: targetsOf(c),
    files: c.appFiles,
    write: { host: '127.0.0.1', port: c.primary.port, table: c.table },
    maxMs: 60_000,
  });
  scope.after(() => loop.stop());
  return loop;
}

test('the bed: each server serves the certificate pushed to its node, from the delivered files; db2 replicates from db1 over verified TLS', async () => {
  const c = await bed();
  for (const n of c.nodes) {
    const vars = (await n.server.sql('SELECT @@ssl_ca, @@ssl_cert, @@ssl_key, @@require_secure_transport'))
      .trim()
      .split('\t');
    assert.deepEqual(
      vars,
      [join(n.dest, 'ca.pem'), join(n.dest, 'server-cert.pem'), join(n.dest, 'server-key.pem'), '1'],
      n.name,
    );
    const served = await servedCertificate(n.port);
    assert.equal(served.serial, await fileSerial(n.files.cert), `${n.name} serves its delivered server-cert.pem`);
    assert.equal(
      served.serial,
      await manifestServerSerial(c.pki, n.name),
      `${n.name} serves the manifest's certificate`,
    );
  }
  assert.notEqual(await fileSerial(c.primary.files.cert), await fileSerial(c.replica.files.cert));

  const st = await slaveStatus(c.replica.server);
  assert.equal(st.Slave_IO_Running, 'Yes');
  assert.equal(st.Slave_SQL_Running, 'Yes');
  assert.equal(st.Master_Port, String(c.primary.port));
  assert.equal(st.Master_User, 'db2-client');
  assert.equal(st.Master_SSL_Allowed, 'Yes');
  assert.equal(st.Master_SSL_Verify_Server_Cert, 'Yes');
  assert.equal(st.Master_SSL_CA_File, join(c.replica.dest, 'ca.pem'));
  assert.equal(st.Master_SSL_Cert, join(c.replica.dest, 'client-cert.pem'));
  assert.equal(st.Last_IO_Errno, '0');
  await checkReplicates(c);

  // The node's reload command works over its sshd (root over the socket, no password).
  const reload = await c.replica.ssh(c.replica.reloadCommand);
  assert.equal(reload.code, 0, reload.stderr);
});

test('the load loop: verified connections as app to both servers for a few seconds, no failure, its inserts replicate', async () => {
  const c = await bed();
  const loop = appLoop(c);
  await loop.waitUntil((s) => Date.now() - Date.parse(s.startedAt) >= 3_000, '3 s of load', 10_000);
  const s = await loop.stop();
  assert.equal(s.failed, 0, JSON.stringify(s.errors, null, 1));
  assert.equal(s.stoppedBy, 'stop');
  for (const n of c.nodes) {
    const per = s.targets[targetKey({ host: '127.0.0.1', port: n.port })]!;
    assert.ok(per.ok >= 10, `${n.name}: only ${per.ok} connections in 3 s`);
    assert.deepEqual(
      per.serials,
      [(await servedCertificate(n.port)).serial],
      `${n.name}: the loop saw the served certificate`,
    );
  }
  assert.ok(s.inserted >= 10, `only ${s.inserted} inserts`);
  // The loop really logged in as app with its certificate.
  assert.ok(
    Number((await c.primary.server.sql(`SELECT COUNT(*) FROM ${c.table} WHERE note IS NULL`)).trim()) >= s.inserted,
  );
  await checkReplicates(c);
});

test('the load loop fails when it should: a foreign CA fails every connection, a wrong server name fails, the right one passes', async (t) => {
  const c = await bed();
  const foreign = await tempDir(t, 'dbtls-foreign-ca-');
  const setup = await dbtls(['setup', '--datadir', foreign, '--no-defaults', '--san', '127.0.0.1']);
  assert.equal(setup.code, 0, setup.stderr);

  const untrusted = startLoadLoop({
    targets: targetsOf(c),
    files: { ...c.appFiles, ca: join(foreign, 'ca.pem') },
    intervalMs: 10,
    maxMs: 30_000,
  });
  t.after(() => untrusted.stop());
  await untrusted.waitUntil((s) => s.failed >= 6, '6 failures');
  const bad = await untrusted.stop();
  assert.equal(bad.ok, 0, 'a server was accepted against a foreign CA');
  for (const n of c.nodes) assert.ok(bad.targets[targetKey({ host: '127.0.0.1', port: n.port })]!.failed >= 3, n.name);
  assert.ok(
    bad.errors.length > 0 &&
      bad.errors.every((e) => /self[- ]signed|unable to (get|verify)|certificate/i.test(e.message)),
    JSON.stringify(bad.errors, null, 1),
  );

  // The name or address is checked too: db1's certificate names db1, 127.0.0.1 and localhost, not
  // db2 nor 127.0.0.2 (all dialled at 127.0.0.1).
  const right = { host: '127.0.0.1', port: c.primary.port, servername: 'db1' };
  const wrongName = { host: '127.0.0.1', port: c.primary.port, servername: 'db2' };
  const wrongIp = { host: '127.0.0.1', port: c.primary.port, servername: '127.0.0.2' };
  const names = startLoadLoop({
    targets: [right, wrongName, wrongIp],
    files: c.appFiles,
    intervalMs: 10,
    maxMs: 30_000,
  });
  t.after(() => names.stop());
  await names.waitUntil(
    (s) =>
      [wrongName, wrongIp].every((w) => s.targets[targetKey(w)]!.failed >= 3) && s.targets[targetKey(right)]!.ok >= 3,
    '3 rounds of each',
  );
  const byName = await names.stop();
  assert.equal(byName.targets[targetKey(right)]!.failed, 0, JSON.stringify(byName.errors, null, 1));
  assert.equal(byName.targets[targetKey(wrongName)]!.ok, 0, 'db1 accepted under the name db2');
  assert.equal(byName.targets[targetKey(wrongIp)]!.ok, 0, 'db1 accepted at the address 127.0.0.2');
  // Node's messages (mysql2 reports the name check under its own code).
  for (const e of byName.errors) {
    const expected =
      e.target === targetKey(wrongName)
        ? /does not match certificate's altnames: Host: db2\b/
        : /does not match certificate's altnames: IP: 127\.0\.0\.2 is not in the cert's list/;
    assert.match(e.message, expected, e.target);
  }
});

test('a leaf rotation by hand (issue --force --node db1, push, FLUSH SSL over ssh): no failed connection, db1 serves the new serial, replication goes on', async () => {
  const c = await bed();
  const db1 = c.primary;
  const oldSerial = (await servedCertificate(db1.port)).serial;
  const db2Serial = (await servedCertificate(c.replica.port)).serial;
  const loop = appLoop(c);
  await loop.waitForRounds(3);

  const issued = await dbtls(['issue', '-i', c.inv, '--force', '--node', 'db1']);
  assert.equal(issued.code, 0, issued.stderr);
  const newSerial = await manifestServerSerial(c.pki, 'db1');
  assert.notEqual(newSerial, oldSerial);
  const pushed = await dbtls(['push', '-i', c.inv], { timeoutMs: 60_000 });
  assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
  assert.equal(await fileSerial(db1.files.cert), newSerial, 'the new certificate is on the node');
  // New files alone change nothing: the server serves what it loaded until told to reload.
  assert.equal((await servedCertificate(db1.port)).serial, oldSerial);
  await loop.waitForRounds(3);

  const reload = await db1.ssh(db1.reloadCommand);
  assert.equal(reload.code, 0, reload.stderr);
  assert.equal((await servedCertificate(db1.port)).serial, newSerial);
  await loop.waitUntil(
    (s) => s.targets[targetKey({ host: '127.0.0.1', port: db1.port })]!.serials.includes(newSerial),
    'a connection served the new serial',
  );
  await loop.waitForRounds(3);
  const s = await loop.stop();

  assert.equal(s.failed, 0, JSON.stringify(s.errors, null, 1));
  assert.deepEqual(s.targets[targetKey({ host: '127.0.0.1', port: db1.port })]!.serials, [oldSerial, newSerial]);
  assert.deepEqual(s.targets[targetKey({ host: '127.0.0.1', port: c.replica.port })]!.serials, [db2Serial]);

  // The replica's running connection survived the reload; a new one verifies the new certificate.
  let st = await slaveStatus(c.replica.server);
  assert.equal(st.Slave_IO_Running, 'Yes');
  assert.equal(st.Slave_SQL_Running, 'Yes');
  await checkReplicates(c);
  await c.replica.server.sql('STOP SLAVE IO_THREAD; START SLAVE IO_THREAD');
  st = await waitReplicating(c.replica.server);
  assert.equal(st.Master_SSL_Verify_Server_Cert, 'Yes');
  assert.equal(st.Last_IO_Errno, '0');
  await checkReplicates(c);
});
