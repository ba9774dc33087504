// Revocation against a real MariaDB reading the CRL dbtls signs (ssl_crl, re-read by FLUSH SSL):
// after `dbtls revoke --client app` the app's certificate is refused while another client keeps
// connecting; `check` flags the revoked certificate until `dbtls issue` replaces it, and the
// replacement connects. `check` also fails on a CRL that lapses within its window, long before
// the server would lock every client out, and `crl refresh` signs it again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCrl } from '../../lib/pki/crl.js';
import { keySigner } from '../../lib/pki/signer.js';
import { dbtls } from '../helpers/run.js';
import { fileScope } from '../helpers/scope.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';
import { nodeSslFiles, startMariadb } from '../helpers/mariadb.js';

const scope = fileScope();
const DAY = 86_400_000;

test('a revoked client is refused after revoke + FLUSH SSL, the other keeps connecting; issue replaces it; check watches the CRL', async () => {
  const dir = await tempDir(scope, 'dbtls-revoke-');
  // Revocation on: a CRL of 7 days.
  const inv = await writeInventory(dir, {
    nodes: [{ name: 'db1', host: '127.0.0.1' }],
    clients: ['app', 'app2'],
    crlDays: 7,
  });
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const pki = join(dir, 'pki');
  const db = await startMariadb(scope, {
    ssl: nodeSslFiles(pki, 'db1'),
    serverArgs: [`--ssl-crl=${join(pki, 'crl.pem')}`],
  });
  await db.sql("CREATE USER 'app'@'%' REQUIRE X509; CREATE USER 'app2'@'%' REQUIRE X509");
  const login = (client: string) =>
    db.client([
      '-u',
      client,
      `--ssl-ca=${join(pki, 'ca.pem')}`,
      `--ssl-cert=${join(pki, `clients/${client}/client-cert.pem`)}`,
      `--ssl-key=${join(pki, `clients/${client}/client-key.pem`)}`,
      '--ssl-verify-server-cert',
      '-N',
      '-e',
      'SELECT CURRENT_USER()',
    ]);
  for (const c of ['app', 'app2']) {
    const r = await login(c);
    assert.equal(r.code, 0, `${c} before: ${r.stderr}`);
  }

  const revoked = await dbtls(['revoke', '-i', inv, '--client', 'app', '--reason', 'keyCompromise', '--json']);
  assert.equal(revoked.code, 0, revoked.stderr);
  const report = JSON.parse(revoked.stdout);
  assert.deepEqual(
    report.revoked.map((r: { id: string; reason: string }) => [r.id, r.reason]),
    [['clients/app/client', 'keyCompromise']],
  );
  assert.equal(report.crl.number, 2);
  await db.sql('FLUSH SSL');
  const refused = await login('app');
  assert.notEqual(refused.code, 0, 'the revoked certificate still logs in');
  // The server ends the TLS handshake on the revoked certificate: the client sees the connection drop.
  assert.match(refused.stderr, /ERROR 2013 .*Lost connection|certificate revoked/);
  const other = await login('app2');
  assert.equal(other.code, 0, other.stderr);
  assert.match(other.stdout, /app2@%/);

  // check flags the revoked certificate the inventory still needs; issue replaces it.
  const flagged = await dbtls(['check', '-i', inv, '--json']);
  assert.equal(flagged.code, 1);
  const app = JSON.parse(flagged.stdout).items.find((i: { id: string }) => i.id === 'clients/app/client');
  assert.equal(app.status, 'invalid');
  assert.match(app.problems.join(), /revoked \(serial/);
  const reissued = await dbtls(['issue', '-i', inv, '--json']);
  assert.equal(reissued.code, 0, reissued.stderr);
  assert.deepEqual(
    JSON.parse(reissued.stdout).issued.map((i: { id: string; reason: string }) => [i.id, i.reason]),
    [['clients/app/client', 'revoked']],
  );
  const replaced = await login('app');
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal((await dbtls(['check', '-i', inv])).code, 0);

  // Freshly signed, a 7-day CRL is not due; refresh leaves it alone.
  const notDue = await dbtls(['crl', 'refresh', '-i', inv, '--json']);
  assert.equal(notDue.code, 0, notDue.stderr);
  assert.equal(JSON.parse(notDue.stdout).refreshed, false);

  // Time passes (the CRL is re-signed by the CA key as if five of its seven days had gone): check
  // fails two days before it lapses, while clients still connect.
  const ca = await readFile(join(pki, 'ca.pem'), 'utf8');
  const signer = keySigner(createPrivateKey(await readFile(join(pki, 'ca-key.pem'))));
  const resign = async (fromDays: number, toDays: number) => {
    const now = Date.now();
    // Everything the manifest revoked (the app's certificate and the revocation canary).
    const listed = JSON.parse(await readFile(join(pki, 'manifest.json'), 'utf8')).revoked as Array<{ serial: string }>;
    const crl = buildCrl({
      issuerCertPem: ca,
      signer,
      revoked: listed.map((r) => ({
        serialHex: r.serial,
        revokedAt: new Date(now - 5 * DAY),
        reason: 'keyCompromise',
      })),
      crlNumber: 50,
      thisUpdate: new Date(now + fromDays * DAY),
      nextUpdate: new Date(now + toDays * DAY),
    });
    await writeFile(join(pki, 'crl.pem'), crl.pem);
    await db.sql('FLUSH SSL');
  };
  await resign(-5, 2);
  const soon = await dbtls(['check', '-i', inv, '--json']);
  assert.equal(soon.code, 1, soon.stdout);
  const item = (out: string) => JSON.parse(out).items.find((i: { id: string }) => i.id === 'crl');
  assert.equal(item(soon.stdout).status, 'expiring');
  assert.match(item(soon.stdout).problems[0], /lapses in 1 day/);
  assert.equal((await login('app2')).code, 0, 'still valid: clients connect');

  // Past its nextUpdate the server refuses every client certificate (REFERENCE-2 §4.3): check says expired.
  await resign(-8, -1);
  assert.notEqual((await login('app2')).code, 0, 'an expired CRL locks out a valid client');
  assert.equal(item((await dbtls(['check', '-i', inv, '--json'])).stdout).status, 'expired');
  const refreshed = await dbtls(['crl', 'refresh', '-i', inv, '--json']);
  assert.equal(refreshed.code, 0, refreshed.stderr);
  assert.equal(JSON.parse(refreshed.stdout).refreshed, true);
  assert.equal(JSON.parse(refreshed.stdout).crl.entries, 1);
  await db.sql('FLUSH SSL');
  assert.equal((await login('app2')).code, 0, 'the refreshed CRL lets clients in again');
  assert.equal((await dbtls(['check', '-i', inv])).code, 0);
});

test('check --live presents the revocation canary: a server reading the CRL refuses it (enforced); one without ssl_crl takes it and check fails', async () => {
  const dir = await tempDir(scope, 'dbtls-canary-');
  const nodes = (port?: number) => [
    { name: 'db1', host: '127.0.0.1', transport: 'ssh' as const, ...(port ? { port } : {}) },
  ];
  const inv = await writeInventory(dir, { nodes: nodes(), crlDays: 7 });
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  const pki = join(dir, 'pki');
  const ssl = nodeSslFiles(pki, 'db1');
  const live = async (port: number) => {
    await writeInventory(dir, { nodes: nodes(port), crlDays: 7 });
    const r = await dbtls(['check', '-i', inv, '--live', '--json'], { timeoutMs: 60_000 });
    return {
      code: r.code,
      live: JSON.parse(r.stdout).live[0],
      plain: (await dbtls(['check', '-i', inv, '--live'])).stdout,
    };
  };

  const enforcing = await startMariadb(scope, { ssl, serverArgs: [`--ssl-crl=${join(pki, 'crl.pem')}`] });
  const good = await live(enforcing.port);
  assert.equal(good.code, 0, JSON.stringify(good.live));
  assert.equal(good.live.revocation.enforced, true);
  assert.match(good.live.revocation.detail, /refused/);
  assert.match(good.plain, /live ok .* revocation enforced/);

  const lax = await startMariadb(scope, { ssl });
  const bad = await live(lax.port);
  assert.equal(bad.code, 1, JSON.stringify(bad.live));
  assert.equal(bad.live.status, 'ok', 'it serves the right certificate');
  assert.equal(bad.live.revocation.enforced, false);
  assert.match(bad.plain, /REVOCATION NOT ENFORCED: took the revoked canary certificate/);
});
