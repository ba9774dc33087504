// MariaDB Connector/J 2.7 (Debian's libmariadb-java) against a real MariaDB serving a `dbtls issue`
// node certificate: the driver verifies the server with a trust store and presents a key store, both
// written by dbtls's JKS and PKCS#12 writers, to an account that REQUIRE X509. Host name
// verification stays on (disableSslHostnameVerification is never set).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { prepareJava, requireConnectorJ, runJava } from '../helpers/java.js';
import { startMariadb, type MariadbServer } from '../helpers/mariadb.js';
import type { RunResult } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { JAVA_TYPES, makeJavaPki, type JavaType } from '../helpers/java-pki.js';

const scope = fileScope();

const TYPES = JAVA_TYPES;
// Only characters that need no escaping in a JDBC URL (2.7 splits options on '&' and '=').
const STOREPASS = 'Kst0re-pass_1';
const TRUSTPASS = 'Trust-st0re_2';

// Node db1 on 127.0.0.1 (SANs DNS:db1, IP:127.0.0.1; not localhost) and a client "app".
const makePki = () => makeJavaPki(scope, { storepass: STOREPASS, trustpass: TRUSTPASS });

const cluster = once(makePki);
const stranger = once(makePki); // another CA with the same name, subjects and SANs

// One server for the file, started while the driver program compiles.
const server = once(async (): Promise<MariadbServer> => {
  const [pki] = await Promise.all([cluster(), prepareJava('ConnectorJ.java')]);
  const db = await startMariadb(scope, {
    ssl: {
      ca: join(pki.dir, 'ca.pem'),
      cert: join(pki.dir, 'nodes/db1/server-cert.pem'),
      key: join(pki.dir, 'nodes/db1/server-key.pem'),
    },
  });
  await db.sql("CREATE USER 'app'@'%' REQUIRE X509; GRANT USAGE ON *.* TO 'app'@'%'");
  return db;
});

interface Connect {
  host?: string;
  truststore: string;
  truststoreType: JavaType;
  keystore?: string;
  keystoreType?: JavaType;
}

/** The JDBC URL: Connector/J 2.7 option names, with the stores as file: URLs. */
function jdbcUrl(port: number, c: Connect): string {
  const opts = [
    'user=app',
    'useSsl=true',
    `trustStore=file:${c.truststore}`,
    `trustStorePassword=${TRUSTPASS}`,
    `trustStoreType=${c.truststoreType}`,
    ...(c.keystore
      ? [`keyStore=file:${c.keystore}`, `keyStorePassword=${STOREPASS}`, `keyStoreType=${c.keystoreType}`]
      : []),
    'connectTimeout=10000',
  ];
  return `jdbc:mariadb://${c.host ?? '127.0.0.1'}:${port}/?${opts.join('&')}`;
}

async function connect(c: Connect): Promise<RunResult> {
  const [db, jar] = await Promise.all([server(), requireConnectorJ()]);
  return runJava('ConnectorJ.java', [jdbcUrl(db.port, c)], { classpath: [jar], timeoutMs: 30_000 });
}

function fields(r: RunResult): Map<string, string> {
  return new Map(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
  );
}

for (const type of TYPES) {
  test(`${type}: Connector/J verifies the server with dbtls's trust store and logs in to a REQUIRE X509 account with its key store`, async () => {
    const pki = await cluster();
    const r = await connect({
      truststore: pki.truststore[type],
      truststoreType: type,
      keystore: pki.keystore[type],
      keystoreType: type,
    });
    assert.equal(r.code, 0, `Connector/J failed:\n${r.stdout}\n${r.stderr}`);
    const out = fields(r);
    assert.match(out.get('Ssl_cipher') ?? '', /^[A-Z0-9_-]+$/, 'the session is not encrypted');
    assert.match(out.get('Ssl_version') ?? '', /^TLSv1\.[23]$/);
    assert.equal(out.get('current_user'), 'app@%');
    assert.match(out.get('driver') ?? '', /^2\.7\./);
  });
}

test('mixed: a JKS trust store with a PKCS12 key store works too', async () => {
  const pki = await cluster();
  const r = await connect({
    truststore: pki.truststore.JKS,
    truststoreType: 'JKS',
    keystore: pki.keystore.PKCS12,
    keystoreType: 'PKCS12',
  });
  assert.equal(r.code, 0, `Connector/J failed:\n${r.stdout}\n${r.stderr}`);
  assert.equal(fields(r).get('current_user'), 'app@%');
});

test('without the key store the REQUIRE X509 account is refused (TLS itself works)', async () => {
  const pki = await cluster();
  const r = await connect({ truststore: pki.truststore.PKCS12, truststoreType: 'PKCS12' });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /Access denied for user 'app'/);
});

test('a trust store holding another CA: Connector/J refuses the server', async () => {
  const [pki, other] = [await cluster(), await stranger()];
  const r = await connect({
    truststore: other.truststore.JKS,
    truststoreType: 'JKS',
    keystore: pki.keystore.JKS,
    keystoreType: 'JKS',
  });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /PKIX path (building|validation) failed/);
  assert.doesNotMatch(r.stderr, /Access denied/);
});

test('host name verification is on: dialling localhost, which the certificate does not name, is refused', async () => {
  const pki = await cluster();
  const r = await connect({
    host: 'localhost',
    truststore: pki.truststore.JKS,
    truststoreType: 'JKS',
    keystore: pki.keystore.JKS,
    keystoreType: 'JKS',
  });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /hostname verification failed.*localhost/i);
});
