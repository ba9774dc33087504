// A real Java TLS client (test/java/TlsClient.java, OpenJDK's JSSE) against a Node `tls` server that
// demands a client certificate: the key store and trust store Java loads are written by dbtls's own
// JKS and PKCS#12 writers from `dbtls issue` certificates, and Java checks the server's name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import { prepareJava, runJava } from '../helpers/java.js';
import type { RunResult } from '../helpers/run.js';
import { fileScope, once } from '../helpers/scope.js';
import { JAVA_TYPES, makeJavaPki, type JavaPki as Pki, type JavaType } from '../helpers/java-pki.js';

const scope = fileScope();

const TYPES = JAVA_TYPES;
const STOREPASS = 'Kst0re-pass!';
const TRUSTPASS = 'Trust-st0re#';

// Node db1 on 127.0.0.1 (SANs DNS:db1, IP:127.0.0.1, DNS:localhost) and a client "app".
const makePki = (caCommonName: string) =>
  makeJavaPki(scope, { caCommonName, localhost: true, storepass: STOREPASS, trustpass: TRUSTPASS });

// The Java client compiles (javac, ~1.4 s) while dbtls issues the certificates.
const cluster = once(async () => (await Promise.all([makePki('Test Cluster CA'), prepareJava('TlsClient.java')]))[0]);
// An unrelated CA that even has the same name: only its key differs.
const stranger = once(() => makePki('Test Cluster CA'));

interface ServerSaw {
  /** Client common names of connections the server accepted (authorized against the CA). */
  accepted: string[];
  /** Handshake failures on the server side (e.g. a client certificate it does not trust). */
  clientErrors: string[];
}

interface Attempt {
  java: RunResult;
  server: ServerSaw;
}

interface ClientStores {
  keystore: string;
  keystoreType: JavaType;
  truststore: string;
  truststoreType: JavaType;
  /** Default: the test's own passwords. */
  storepass?: string;
  trustpass?: string;
}

/**
 * A Node TLS server with db1's certificate that requires a client certificate from the cluster CA
 * and sends one line; the Java client dials 127.0.0.1 and checks the server as SERVERNAME.
 */
async function attempt(servername: string, stores: ClientStores): Promise<Attempt> {
  const pki = await cluster();
  const server: ServerSaw = { accepted: [], clientErrors: [] };
  const srv = createServer(
    {
      key: await pki.pem('nodes/db1/server-key.pem'),
      cert: await pki.pem('nodes/db1/server-cert.pem'),
      ca: await pki.pem('ca.pem'),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (sock: TLSSocket) => {
      if (sock.authorized) server.accepted.push(String(sock.getPeerCertificate().subject?.CN));
      sock.end('hello from node\n');
    },
  );
  srv.on('tlsClientError', (e: NodeJS.ErrnoException) => void server.clientErrors.push(e.code ?? e.message));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  try {
    const java = await runJava(
      'TlsClient.java',
      [
        '127.0.0.1',
        String(port),
        servername,
        stores.keystore,
        stores.keystoreType,
        stores.storepass ?? STOREPASS,
        stores.truststore,
        stores.truststoreType,
        stores.trustpass ?? TRUSTPASS,
      ],
      { timeoutMs: 30_000 },
    );
    return { java, server };
  } finally {
    await new Promise((r) => srv.close(r));
  }
}

function same(pki: Pki, type: JavaType): ClientStores {
  return { keystore: pki.keystore[type], keystoreType: type, truststore: pki.truststore[type], truststoreType: type };
}

/** Java's key=value output lines. */
function fields(r: RunResult): Map<string, string> {
  return new Map(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
  );
}

// 127.0.0.1 with JKS, localhost with PKCS12: the IP and the DNS SAN are both checked by Java.
for (const [type, servername] of [
  ['JKS', '127.0.0.1'],
  ['PKCS12', 'localhost'],
] as const) {
  test(`${type}: Java completes mutual TLS with dbtls's key store and trust store, verifying ${servername}`, async () => {
    const { java, server } = await attempt(servername, same(await cluster(), type));
    assert.equal(java.code, 0, `Java client failed:\n${java.stdout}\n${java.stderr}`);
    const out = fields(java);
    assert.match(out.get('protocol') ?? '', /^TLSv1\.[23]$/);
    assert.match(out.get('cipher') ?? '', /^TLS_/);
    assert.equal(out.get('peer'), 'CN=db1');
    assert.equal(out.get('line'), 'hello from node');
    // The server verified the certificate Java presented from the key store: the client "app".
    assert.deepEqual(server.accepted, ['app']);
  });
}

test('Java checks the server name: a name not in the SANs is refused (endpoint identification is on)', async () => {
  const { java, server } = await attempt('db9.example.com', same(await cluster(), 'JKS'));
  assert.equal(java.code, 1, java.stdout);
  assert.match(java.stderr, /SSLHandshakeException: No subject alternative DNS name matching db9\.example\.com/);
  assert.deepEqual(server.accepted, []);
});

for (const type of TYPES) {
  test(`${type}: a trust store holding another CA makes Java refuse the server`, async () => {
    const stores = { ...same(await cluster(), type), truststore: (await stranger()).truststore[type] };
    const { java, server } = await attempt('127.0.0.1', stores);
    assert.equal(java.code, 1, java.stdout);
    assert.match(java.stderr, /SSLHandshakeException: PKIX path (building|validation) failed/);
    assert.doesNotMatch(java.stdout, /line=/);
    assert.deepEqual(server.accepted, []);
  });
}

test('a key store with a certificate from another CA is refused by the server', async () => {
  // Java trusts the server (cluster CA) and presents "app" from the other CA: same subject, same
  // issuer name (so Java's key manager offers it), but not signed by the cluster CA.
  const stores = { ...same(await cluster(), 'PKCS12'), keystore: (await stranger()).keystore.PKCS12 };
  const { java, server } = await attempt('127.0.0.1', stores);
  assert.notEqual(java.code, 0, `the server accepted a foreign client certificate:\n${java.stdout}`);
  assert.doesNotMatch(java.stdout, /line=/);
  assert.deepEqual(server.accepted, []);
  // The refusal came from the server during TLS, not from Java failing to load its stores.
  assert.ok(server.clientErrors.length > 0, `the server saw no TLS attempt; Java said:\n${java.stderr}`);
  assert.doesNotMatch(java.stderr, /KeyStoreException|UnrecoverableKey|IOException: (keystore|Invalid keystore)/i);
});

test('the client stores `dbtls issue` makes (keystore: pkcs12) work as they are, with the kept store password', async () => {
  const { issued } = await cluster();
  const stores: ClientStores = {
    keystore: issued.keystore,
    keystoreType: 'PKCS12',
    truststore: issued.truststore,
    truststoreType: 'PKCS12',
    storepass: issued.storepass,
    trustpass: issued.storepass,
  };
  const { java, server } = await attempt('127.0.0.1', stores);
  assert.equal(java.code, 0, `Java client failed:\n${java.stdout}\n${java.stderr}`);
  assert.equal(fields(java).get('line'), 'hello from node');
  assert.deepEqual(server.accepted, ['app']);
});
