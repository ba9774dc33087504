// ca.intermediate end to end: an offline root (ca.pem, its key sealed with the CA passphrase) and an
// online intermediate that signs every leaf. On the live replicating MariaDB pair (loopback sshd):
// each node serves leaf + intermediate, trusts the root alone, and OpenSSL, the mariadb client and
// the replication link (both directions: db2 verifies db1's chain, db1 verifies db2's client chain)
// verify through the intermediate. Java (keytool and a JSSE client) reads a key entry of leaf,
// intermediate, root and does mutual TLS with a root-only trust store. `rotate intermediate` under a
// load loop: zero failed connections, every node serving a leaf of the new intermediate, no trust
// file changed, replication reconnecting, check clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { dbtls, run, type RunResult } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { targetKey } from '../helpers/load-loop.js';
import { startAppLoop } from '../helpers/app-loop.js';
import { writeInventory } from '../helpers/inventory.js';
import { keytoolList, prepareJava, runJava } from '../helpers/java.js';
import { tempDir } from '../helpers/tmp.js';
import {
  checkReplicates,
  servedCertificate,
  slaveStatus,
  startTlsCluster,
  waitReplicating,
  type ClusterNode,
  type TlsCluster,
} from '../helpers/tls-cluster.js';

// The root's key is sealed with this; every dbtls child (issue, apply, rotate) inherits it.
process.env.DBTLS_CA_PASSPHRASE = 'intermediate-chain-test-passphrase';

const scope = fileScope();
const bed = once(() => startTlsCluster(scope, null, { reload: (n) => n.reloadCommand, intermediate: true }));

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const certsOf = (text: string) => (text.match(PEM) ?? []).map((p) => new X509Certificate(p));
const certsIn = async (file: string) => certsOf(await readFile(file, 'utf8'));

async function pkiCert(c: TlsCluster, rel: string): Promise<X509Certificate> {
  const [cert, ...rest] = await certsIn(join(c.pki, rel));
  assert.ok(cert, `${rel} holds a certificate`);
  assert.equal(rest.length, 0, `${rel} holds one certificate`);
  return cert;
}

/**
 * `openssl s_client -starttls mysql -showcerts` verifying against the root alone (-verify_return_error:
 * a failed verification ends the handshake). Returns the certificates the server sent and the output.
 */
async function opensslVerified(port: number, rootFile: string): Promise<{ sent: X509Certificate[]; out: string }> {
  const r = await run(
    'openssl',
    [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-starttls',
      'mysql',
      '-showcerts',
      '-CAfile',
      rootFile,
      '-verify_return_error',
      '-verify_ip',
      '127.0.0.1',
    ],
    { input: '', timeoutMs: 15_000 },
  );
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 0, `openssl s_client to port ${port} failed:\n${out.slice(0, 4000)}`);
  return { sent: certsOf(r.stdout), out };
}

async function assertServedChain(
  n: ClusterNode,
  root: X509Certificate,
  intermediate: X509Certificate,
  rootFile: string,
) {
  const { sent, out } = await opensslVerified(n.port, rootFile);
  assert.equal(sent.length, 2, `${n.name} sends leaf + intermediate:\n${out.slice(0, 3000)}`);
  assert.equal(sent[1]!.fingerprint256, intermediate.fingerprint256, `${n.name} sends the intermediate second`);
  assert.ok(
    sent[0]!.checkIssued(intermediate) && sent[0]!.verify(intermediate.publicKey),
    `${n.name}: leaf ← intermediate`,
  );
  assert.match(out, /^depth=2 CN\s?=\s?Test Cluster CA$/m, 'the root at depth 2');
  assert.match(out, /^depth=1 CN\s?=\s?Test Cluster CA Intermediate$/m, 'the intermediate at depth 1');
  assert.match(out, new RegExp(`^depth=0 CN\\s?=\\s?${n.name}$`, 'm'), 'the leaf at depth 0');
  assert.doesNotMatch(out, /^depth=3/m);
  assert.match(out, /Verify return code: 0 \(ok\)/);
  assert.ok(intermediate.verify(root.publicKey), 'intermediate ← root');
}

function mariadbLogin(c: TlsCluster, n: ClusterNode, cert = c.appFiles.cert): Promise<RunResult> {
  return n.server.client([
    '-u',
    'app',
    `--ssl-ca=${n.files.ca}`,
    `--ssl-cert=${cert}`,
    `--ssl-key=${c.appFiles.key}`,
    '--ssl-verify-server-cert',
    '-N',
    '-B',
    '-e',
    'SELECT CURRENT_USER()',
  ]);
}

async function replicationHealthy(c: TlsCluster): Promise<Record<string, string>> {
  const st = await slaveStatus(c.replica.server);
  assert.equal(st.Slave_IO_Running, 'Yes', JSON.stringify(st));
  assert.equal(st.Slave_SQL_Running, 'Yes', JSON.stringify(st));
  assert.equal(st.Master_SSL_Verify_Server_Cert, 'Yes');
  assert.equal(st.Last_IO_Errno, '0', st.Last_IO_Error);
  assert.equal(st.Last_SQL_Errno, '0', st.Last_SQL_Error);
  await checkReplicates(c);
  return st;
}

test('the chain as the tools see it: nodes serve leaf + intermediate and trust the root alone; OpenSSL, the mariadb client and replication verify through the intermediate', async () => {
  const c = await bed();
  const root = await pkiCert(c, 'ca.pem');
  const intermediate = await pkiCert(c, 'intermediate.pem');
  assert.equal(root.subject, 'CN=Test Cluster CA');
  assert.equal(intermediate.subject, 'CN=Test Cluster CA Intermediate');
  assert.ok(root.checkIssued(root) && root.verify(root.publicKey), 'ca.pem is the self-signed root');
  assert.match(await readFile(join(c.pki, 'ca-key.pem'), 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/, 'sealed');

  const rootBytes = await readFile(join(c.pki, 'ca.pem'));
  for (const n of c.nodes) {
    const chain = await certsIn(n.files.cert);
    assert.equal(chain.length, 2, `${n.name}'s delivered server-cert.pem holds leaf + intermediate`);
    assert.equal(chain[0]!.subject, `CN=${n.name}`);
    assert.equal(chain[0]!.issuer, intermediate.subject);
    assert.ok(chain[0]!.verify(intermediate.publicKey), `${n.name}'s leaf is signed by the intermediate`);
    assert.equal(chain[1]!.fingerprint256, intermediate.fingerprint256, 'then the intermediate itself');
    const trust = await readFile(n.files.ca);
    assert.equal(certsOf(trust.toString('utf8')).length, 1, `${n.name}'s delivered ca.pem holds the root alone`);
    assert.deepEqual(trust, rootBytes, `${n.name}'s ca.pem is pki/ca.pem byte for byte`);
    // The replica's own client certificate (what db1 verifies on the replication link) carries the chain too.
    assert.equal((await certsIn(join(n.dest, 'client-cert.pem'))).length, 2, `${n.name}'s client-cert.pem`);

    await assertServedChain(n, root, intermediate, join(c.pki, 'ca.pem'));

    // The server's ssl_ca is the root alone: it can only verify app if app sends its intermediate.
    const login = await mariadbLogin(c, n);
    assert.equal(login.code, 0, `${n.name}: mariadb client failed: ${login.stderr}`);
    assert.equal(login.stdout.trim(), 'app@%');
  }
  const appChain = await certsIn(c.appFiles.cert);
  assert.equal(appChain.length, 2, "app's client-cert.pem holds leaf + intermediate");
  // The control: app's leaf alone (no intermediate) does not verify against the servers' root-only ssl_ca.
  const leafOnly = join(c.dir, 'app-leaf-only.pem');
  await writeFile(leafOnly, appChain[0]!.toString());
  const refused = await mariadbLogin(c, c.primary, leafOnly);
  assert.notEqual(refused.code, 0, `a client certificate without its intermediate logged in: ${refused.stdout}`);
  assert.doesNotMatch(refused.stdout, /app@%/);
  assert.match(refused.stderr, /^ERROR (2013|2026|1045) /m, 'refused by the server, not a client-side file error');

  const st = await replicationHealthy(c);
  assert.equal(st.Master_SSL_Allowed, 'Yes');
});

test('Java: keytool reads a key entry of leaf, intermediate, root; a JSSE client with a root-only trust store verifies the chain and presents its own, which a Node server with the root alone accepts', async () => {
  const dir = await tempDir(scope, 'dbtls-intermediate-java-');
  const [inv] = await Promise.all([
    writeInventory(dir, {
      caCommonName: 'Java Chain CA',
      nodes: [{ name: 'db1', host: '127.0.0.1', localhost: true }],
      clients: [{ name: 'japp', keystore: 'pkcs12' }],
      intermediate: true,
    }),
    prepareJava('TlsClient.java'),
  ]);
  const issued = await dbtls(['issue', '-i', inv]);
  assert.equal(issued.code, 0, issued.stdout + issued.stderr);
  const pki = join(dir, 'pki');
  const pem = (rel: string) => readFile(join(pki, rel), 'utf8');
  const storepass = (await pem('storepass')).trim();
  const keystore = join(pki, 'clients/japp/keystore.p12');
  const truststore = join(pki, 'clients/japp/truststore.p12');

  const keys = await keytoolList(keystore, storepass, 'PKCS12');
  assert.equal(keys.code, 0, keys.stderr);
  assert.match(keys.stdout, /Entry type: PrivateKeyEntry/);
  assert.match(keys.stdout, /Certificate chain length: 3/);
  assert.deepEqual(
    [...keys.stdout.matchAll(/^Owner: (.*)$/gm)].map((m) => m[1]),
    ['CN=japp', 'CN=Java Chain CA Intermediate', 'CN=Java Chain CA'],
    'leaf, intermediate, root',
  );
  const trust = await keytoolList(truststore, storepass, 'PKCS12');
  assert.equal(trust.code, 0, trust.stderr);
  assert.match(trust.stdout, /Your keystore contains 1 entry/);
  assert.match(trust.stdout, /Entry type: trustedCertEntry/);
  assert.deepEqual(
    [...trust.stdout.matchAll(/^Owner: (.*)$/gm)].map((m) => m[1]),
    ['CN=Java Chain CA'],
    'the root alone',
  );

  const serverChain = certsOf(await pem('nodes/db1/server-cert.pem'));
  assert.equal(serverChain.length, 2, 'server-cert.pem holds leaf + intermediate');
  assert.equal(certsOf(await pem('ca.pem')).length, 1);
  const intermediate = new X509Certificate(await pem('intermediate.pem'));
  const seen: { authorized: boolean; error?: string; chain: string[] }[] = [];
  const tlsErrors: string[] = [];
  const srv = createServer(
    {
      cert: await pem('nodes/db1/server-cert.pem'),
      key: await pem('nodes/db1/server-key.pem'),
      ca: await pem('ca.pem'),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (sock: TLSSocket) => {
      const chain: string[] = [];
      for (let p: DetailedPeerCertificate | undefined = sock.getPeerCertificate(true); p?.subject;) {
        chain.push(`CN=${p.subject.CN}`);
        if (p.issuerCertificate === p) break;
        p = p.issuerCertificate;
      }
      seen.push({
        authorized: sock.authorized,
        ...(sock.authorizationError ? { error: String(sock.authorizationError) } : {}),
        chain,
      });
      sock.end('hello from node\n');
    },
  );
  srv.on('tlsClientError', (e: NodeJS.ErrnoException) => void tlsErrors.push(e.code ?? e.message));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  scope.after(() => new Promise((r) => srv.close(r)));
  const { port } = srv.address() as AddressInfo;
  const java = await runJava(
    'TlsClient.java',
    ['127.0.0.1', String(port), '127.0.0.1', keystore, 'PKCS12', storepass, truststore, 'PKCS12', storepass],
    { timeoutMs: 30_000 },
  );
  assert.equal(java.code, 0, `Java client failed:\n${java.stdout}\n${java.stderr}\nserver: ${tlsErrors.join(', ')}`);
  assert.match(java.stdout, /^peer=CN=db1$/m, 'Java verified db1 (leaf + intermediate) against the root');
  assert.match(java.stdout, /^line=hello from node$/m);
  assert.deepEqual(tlsErrors, []);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.authorized, true, `the server verified Java's chain: ${JSON.stringify(seen[0])}`);
  // The server trusts the root alone: Java sent its intermediate, which Node chained to the root.
  assert.deepEqual(seen[0]!.chain, ['CN=japp', 'CN=Java Chain CA Intermediate', 'CN=Java Chain CA']);
  assert.equal(intermediate.subject, 'CN=Java Chain CA Intermediate');
});

test('rotate intermediate under load: zero failed connections, every node serving a leaf of the new intermediate, trust files unchanged, replication reconnecting, check clean', async (t) => {
  const c = await bed();
  const root = await pkiCert(c, 'ca.pem');
  const rootBytes = await readFile(join(c.pki, 'ca.pem'));
  const oldIntermediate = await pkiCert(c, 'intermediate.pem');
  const trustBefore = await Promise.all(c.nodes.map((n) => readFile(n.files.ca)));
  const servedBefore = await Promise.all(c.nodes.map((n) => servedCertificate(n.port)));
  const loop = startAppLoop(scope, c);
  await loop.waitForRounds(3);

  const began = Date.now();
  const r = await dbtls(['rotate', 'intermediate', '-i', c.inv, '--yes', '--json'], { timeoutMs: 180_000 });
  const took = Date.now() - began;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.ok, true);
  assert.deepEqual(report.failed, []);
  assert.notEqual(report.new.serial, report.old.serial);
  await loop.waitForRounds(3);

  const newIntermediate = await pkiCert(c, 'intermediate.pem');
  assert.notEqual(newIntermediate.fingerprint256, oldIntermediate.fingerprint256);
  assert.equal(newIntermediate.serialNumber.toLowerCase(), String(report.new.serial).replace(/:/g, '').toLowerCase());
  assert.ok(newIntermediate.verify(root.publicKey), 'the new intermediate is signed by the root');
  assert.deepEqual(await readFile(join(c.pki, 'ca.pem')), rootBytes, 'pki/ca.pem (the root) is unchanged');

  for (const [i, n] of c.nodes.entries()) {
    const served = await servedCertificate(n.port);
    assert.notEqual(served.serial, servedBefore[i]!.serial, `${n.name} serves a new leaf`);
    const leaf = new X509Certificate(served.pem);
    assert.ok(leaf.checkIssued(newIntermediate), `${n.name}'s leaf names the new intermediate as issuer`);
    assert.ok(leaf.verify(newIntermediate.publicKey), `${n.name}'s leaf is signed by the new intermediate`);
    assert.ok(!leaf.verify(oldIntermediate.publicKey), `${n.name}'s leaf is not the old intermediate's`);
    assert.deepEqual(await readFile(n.files.ca), trustBefore[i], `${n.name}'s ca.pem is unchanged byte for byte`);
    // The whole served chain verifies against the root alone, and the intermediate sent is the new one.
    await assertServedChain(n, root, newIntermediate, n.files.ca);
  }

  const s = await loop.stop();
  assert.equal(s.failed, 0, JSON.stringify(s.errors, null, 1));
  assert.ok(s.ok > 20, `the loop kept connecting (${s.ok})`);
  for (const [i, n] of c.nodes.entries()) {
    const seen = s.targets[targetKey({ host: '127.0.0.1', port: n.port })]!.serials;
    assert.deepEqual(
      seen,
      [servedBefore[i]!.serial, (await servedCertificate(n.port)).serial],
      `${n.name}: the loop saw the old leaf, then the new`,
    );
  }
  await replicationHealthy(c);
  // A new replication connection: db2 verifies db1's new chain, db1 verifies db2's new client chain.
  await c.replica.server.sql('STOP SLAVE IO_THREAD; START SLAVE IO_THREAD');
  const st = await waitReplicating(c.replica.server);
  assert.equal(st.Master_SSL_Verify_Server_Cert, 'Yes');
  assert.equal(st.Last_IO_Errno, '0', st.Last_IO_Error);
  await replicationHealthy(c);

  const check = await dbtls(['check', '-i', c.inv]);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  t.diagnostic(`rotate intermediate took ${took} ms; load loop ${s.ok} ok, ${s.failed} failed`);
});
