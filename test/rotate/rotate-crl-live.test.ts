// `rotate ca` with revocation on, on the live replicating pair: both servers read the delivered
// crl.pem as ssl_crl, and OpenSSL then wants a CRL from every CA they trust. crl.pem must hold one
// CRL for each CA of the bundle through the overlap (old + new in phases 1 and 2, the new alone in
// phase 3), or every certificate of the CA without one is refused. Under a load loop: zero failed
// connections, replication unbroken; a client revoked mid-rotation (an old-CA certificate, so the
// old CA's CRL lists it) is refused, and its replacement under the new CA connects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { dbtls } from '../helpers/run.js';
import { fileScope } from '../helpers/scope.js';
import { startAppLoop } from '../helpers/app-loop.js';
import { checkReplicates, slaveStatus, startTlsCluster, waitReplicating } from '../helpers/tls-cluster.js';
import { parseCrls } from '../../lib/pki/crl.js';

const scope = fileScope();

/** The CA serials whose CRLs a delivered crl.pem holds, in order. */
async function crlIssuers(file: string, caPem: string): Promise<string[]> {
  const cas = (caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (p) => new X509Certificate(p),
  );
  const { crlSignedBy } = await import('../../lib/pki/crl.js');
  return parseCrls(await readFile(file, 'utf8'), file).map(
    (crl) => cas.find((ca) => crlSignedBy(crl, ca.toString()))?.serialNumber.toLowerCase() ?? 'unknown',
  );
}

test('rotate ca with ca.crlDays under load: a CRL for each trusted CA through the overlap, zero failed connections, a client revoked mid-rotation refused and replaced', async () => {
  const c = await startTlsCluster(scope, null, {
    reload: (n) => n.reloadCommand,
    crlDays: 7,
    moreClients: ['app2'],
  });
  const db1 = c.primary;
  assert.match(await readFile(join(db1.dest, 'dbtls', 'my.cnf'), 'utf8'), /^ssl_crl = .*crl\.pem$/m);
  const delivered = join(db1.dest, 'crl.pem');
  const oldCa = new X509Certificate(await readFile(join(c.pki, 'ca.pem')));
  const oldSerial = oldCa.serialNumber.toLowerCase();
  assert.deepEqual(await crlIssuers(delivered, oldCa.toString()), [oldSerial]);

  const login = (cert: string, key: string, ca = join(db1.dest, 'ca.pem')) =>
    db1.server.client([
      '-u',
      'app2',
      '-h',
      '127.0.0.1',
      `--ssl-ca=${ca}`,
      `--ssl-cert=${cert}`,
      `--ssl-key=${key}`,
      '--ssl-verify-server-cert',
      '-N',
      '-e',
      'SELECT CURRENT_USER()',
    ]);
  const app2 = { cert: join(c.pki, 'clients/app2/client-cert.pem'), key: join(c.pki, 'clients/app2/client-key.pem') };
  assert.equal((await login(app2.cert, app2.key)).code, 0);

  const loop = startAppLoop(scope, c);
  await loop.waitForRounds(3);
  const phase = async (n: number) => {
    const r = await dbtls(['rotate', 'ca', '-i', c.inv, '--phase', String(n), '--yes', '--json'], {
      timeoutMs: 180_000,
    });
    assert.equal(r.code, 0, `phase ${n}: ${r.stdout}${r.stderr}`);
    await loop.waitForRounds(2);
    return JSON.parse(r.stdout);
  };

  // Phase 1: both CAs trusted, and a CRL of each on the nodes.
  await phase(1);
  const bundle = await readFile(join(db1.dest, 'ca.pem'), 'utf8');
  const newSerial = new X509Certificate(await readFile(join(c.pki, 'rotation/ca-next.pem'))).serialNumber.toLowerCase();
  assert.deepEqual(await crlIssuers(delivered, bundle), [oldSerial, newSerial]);
  assert.equal((await login(app2.cert, app2.key)).code, 0, 'an old-CA client still connects');

  // Revoked mid-rotation: the old CA's CRL lists it (it signed the certificate).
  const revoked = await dbtls(['revoke', '-i', c.inv, '--client', 'app2', '--reason', 'keyCompromise', '--json']);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(JSON.parse(revoked.stdout).revoked[0].caFingerprint256, oldCa.fingerprint256);
  const pushed = await dbtls(['push', '-i', c.inv, '--reload', 'changed'], { timeoutMs: 120_000 });
  assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
  const oldApp2 = { cert: join(c.dir, 'old-app2-cert.pem'), key: join(c.dir, 'old-app2-key.pem') };
  await copyFile(app2.cert, oldApp2.cert);
  await copyFile(app2.key, oldApp2.key);
  assert.notEqual((await login(oldApp2.cert, oldApp2.key)).code, 0, 'the revoked certificate still logs in');

  // Phase 2: leaves under the new CA (app2's replacement too); both CRLs stay.
  const p2 = await phase(2);
  const reissued = p2.phases[0].report.issue.issued.find((i: { id: string }) => i.id === 'clients/app2/client');
  assert.ok(reissued, 'app2 is issued anew');
  assert.deepEqual(await crlIssuers(delivered, await readFile(join(db1.dest, 'ca.pem'), 'utf8')), [
    newSerial,
    oldSerial,
  ]);
  const fresh = await login(app2.cert, app2.key);
  assert.equal(fresh.code, 0, `the replacement connects: ${fresh.stderr}`);
  assert.notEqual((await login(oldApp2.cert, oldApp2.key)).code, 0, 'the revoked one stays refused');

  // Phase 3: the new CA alone, and its CRL alone.
  await phase(3);
  const only = await readFile(join(db1.dest, 'ca.pem'), 'utf8');
  assert.deepEqual(await crlIssuers(delivered, only), [newSerial]);
  assert.equal((await login(app2.cert, app2.key)).code, 0);
  const check = await dbtls(['check', '-i', c.inv]);
  assert.equal(check.code, 0, check.stdout + check.stderr);

  const s = await loop.stop();
  assert.equal(s.failed, 0, JSON.stringify(s.errors, null, 1));
  assert.ok(s.ok > 20, `the loop kept connecting (${s.ok})`);
  // The replica's link (verified by db1 against ca.pem and crl.pem) reconnects under the new CA.
  await c.replica.server.sql('STOP SLAVE IO_THREAD; START SLAVE IO_THREAD');
  await waitReplicating(c.replica.server);
  const st = await slaveStatus(c.replica.server);
  assert.equal(st.Last_IO_Errno, '0', st.Last_IO_Error);
  await checkReplicates(c);
});
