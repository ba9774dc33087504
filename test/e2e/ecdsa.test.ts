// ECDSA end to end with real servers and clients: a cluster issued with P-256 leaves under a P-384 CA
// (`leaf.keyType: p256`, `ca.keyType: p384`) is pushed to two real MariaDB servers through loopback
// sshd. Each serves its EC certificate, verified mysql2 connections log in with the EC client
// certificate, and the replica replicates over verified TLS with its EC client certificate. Then
// MariaDB Connector/J verifies an EC server and logs in with the EC key store dbtls wrote, which
// keytool opens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { startLoadLoop, targetKey } from '../helpers/load-loop.js';
import { checkReplicates, servedCertificate, slaveStatus, startTlsCluster } from '../helpers/tls-cluster.js';
import { keytoolList, prepareJava, requireConnectorJ, runJava } from '../helpers/java.js';
import { makeJavaPki } from '../helpers/java-pki.js';
import { startMariadb } from '../helpers/mariadb.js';

const scope = fileScope();
const bed = once(() => startTlsCluster(scope, null, { leafKeyType: 'p256', caKeyType: 'p384' }));

const curveOf = (pem: string | Buffer) => new X509Certificate(pem).publicKey.asymmetricKeyDetails?.namedCurve;

async function signatureAlgorithm(pem: string): Promise<string | undefined> {
  const r = await run('openssl', ['x509', '-noout', '-text'], { input: pem, timeoutMs: 10_000 });
  return /Signature Algorithm: (\S+)/.exec(r.stdout)?.[1];
}

test('MariaDB serves P-256 leaves signed by a P-384 CA; verified clients log in with EC client certificates; the replica replicates with its own', async () => {
  const c = await bed();
  for (const n of c.nodes) {
    const served = await servedCertificate(n.port);
    assert.equal(curveOf(served.pem), 'prime256v1', `${n.name} serves its P-256 certificate`);
    assert.equal(await signatureAlgorithm(served.pem), 'ecdsa-with-SHA384', `${n.name}: signed by the P-384 CA`);
  }
  const ca = await run('openssl', ['x509', '-noout', '-text', '-in', join(c.pki, 'ca.pem')], { timeoutMs: 10_000 });
  assert.match(ca.stdout, /NIST CURVE: P-384/);

  const st = await slaveStatus(c.replica.server);
  assert.deepEqual(
    [st.Slave_IO_Running, st.Master_SSL_Verify_Server_Cert, st.Last_IO_Errno],
    ['Yes', 'Yes', '0'],
    JSON.stringify(st),
  );
  assert.equal(curveOf(await readFile(join(c.replica.dest, 'client-cert.pem'), 'utf8')), 'prime256v1');
  await checkReplicates(c);

  // mysql2 verifies each server (CA and name) and logs in as app with its P-256 certificate.
  const loop = startLoadLoop({
    targets: c.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    files: c.appFiles,
    write: { host: '127.0.0.1', port: c.primary.port, table: c.table },
    maxMs: 30_000,
  });
  scope.after(() => loop.stop());
  await loop.waitUntil((s) => Date.now() - Date.parse(s.startedAt) >= 2_000, '2 s of load', 10_000);
  const s = await loop.stop();
  assert.equal(s.failed, 0, JSON.stringify(s.errors, null, 1));
  for (const n of c.nodes) assert.ok(s.targets[targetKey({ host: '127.0.0.1', port: n.port })]!.ok >= 5, n.name);
  assert.equal(curveOf(await readFile(c.appFiles.cert, 'utf8')), 'prime256v1');
  await checkReplicates(c);
});

test("Connector/J verifies a P-256 server and logs in with dbtls's P-256 PKCS#12 key store; keytool reads it", async () => {
  const storepass = 'Kst0re-pass_1';
  const [pki, jar] = await Promise.all([
    makeJavaPki(scope, { storepass, trustpass: 'Trust-st0re_2', leafKeyType: 'p256' }),
    requireConnectorJ(),
    prepareJava('ConnectorJ.java'),
  ]);
  const listed = await keytoolList(pki.issued.keystore, pki.issued.storepass, 'PKCS12');
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /256-bit EC \(secp256r1\) key/);
  const db = await startMariadb(scope, {
    ssl: {
      ca: join(pki.dir, 'ca.pem'),
      cert: join(pki.dir, 'nodes/db1/server-cert.pem'),
      key: join(pki.dir, 'nodes/db1/server-key.pem'),
    },
  });
  await db.sql("CREATE USER 'app'@'%' REQUIRE X509; GRANT USAGE ON *.* TO 'app'@'%'");
  const url = [
    `jdbc:mariadb://127.0.0.1:${db.port}/?user=app`,
    'useSsl=true',
    `trustStore=file:${pki.issued.truststore}`,
    `trustStorePassword=${pki.issued.storepass}`,
    'trustStoreType=PKCS12',
    `keyStore=file:${pki.issued.keystore}`,
    `keyStorePassword=${pki.issued.storepass}`,
    'keyStoreType=PKCS12',
    'connectTimeout=10000',
  ].join('&');
  const r = await runJava('ConnectorJ.java', [url], { classpath: [jar], timeoutMs: 30_000 });
  assert.equal(r.code, 0, `Connector/J failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /current_user=app@%/);
  assert.match(r.stdout, /Ssl_version=TLSv1\.[23]/);
});
