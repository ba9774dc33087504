// Mutual TLS between Node's own tls server and client with the files `dbtls setup` made: each side
// verifies the other against ca.pem, and the client checks the server's name against its SANs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

interface Files {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

async function setupFiles(t: Parameters<typeof tempDir>[0], extra: string[]): Promise<Files> {
  const dir = await tempDir(t);
  const r = await dbtls(['setup', '-d', dir, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  const read = (f: string) => readFile(join(dir, f), 'utf8');
  return {
    ca: await read('ca.pem'),
    serverCert: await read('server-cert.pem'),
    serverKey: await read('server-key.pem'),
    clientCert: await read('client-cert.pem'),
    clientKey: await read('client-key.pem'),
  };
}

interface Outcome {
  clientError?: string;
  serverSawCN?: string;
  serverAuthorized?: boolean;
  echoed?: string;
}

/** One handshake on 127.0.0.1; resolves with what each side saw. Bounded by a 5 s timeout. */
async function handshake(
  server: Files,
  client: { ca: string; cert?: string; key?: string; servername: string },
): Promise<Outcome> {
  const outcome: Outcome = {};
  const srv = createServer(
    { key: server.serverKey, cert: server.serverCert, ca: server.ca, requestCert: true, rejectUnauthorized: true },
    (sock: TLSSocket) => {
      outcome.serverAuthorized = sock.authorized;
      outcome.serverSawCN = sock.getPeerCertificate().subject?.CN as string | undefined;
      sock.end('hello');
    },
  );
  srv.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  try {
    await new Promise<void>((resolve) => {
      const sock = connect({
        host: '127.0.0.1',
        port,
        ca: client.ca,
        cert: client.cert,
        key: client.key,
        servername: client.servername,
        timeout: 5000,
      });
      let data = '';
      sock.setEncoding('utf8').on('data', (d: string) => (data += d));
      sock.on('end', () => {
        outcome.echoed = data;
        resolve();
      });
      sock.on('error', (e: NodeJS.ErrnoException) => {
        outcome.clientError = e.code ?? e.message;
        resolve();
      });
      sock.on('timeout', () => {
        outcome.clientError = 'timeout';
        sock.destroy();
        resolve();
      });
    });
  } finally {
    await new Promise((r) => srv.close(r));
  }
  return outcome;
}

test('mutual TLS: both sides verify each other against ca.pem and the server name', async (t) => {
  const f = await setupFiles(t, ['--san', 'localhost', '--san', '127.0.0.1', '--suffix', 'mtls']);
  const ok = await handshake(f, { ca: f.ca, cert: f.clientCert, key: f.clientKey, servername: 'localhost' });
  assert.equal(ok.clientError, undefined);
  assert.equal(ok.echoed, 'hello');
  assert.equal(ok.serverAuthorized, true);
  assert.equal(ok.serverSawCN, 'MySQL_Server_mtls_Auto_Generated_Client_Certificate');
});

test('mutual TLS refusals: wrong name, foreign CA, no client certificate', async (t) => {
  const f = await setupFiles(t, ['--san', 'localhost']);
  const other = await setupFiles(t, ['--san', 'localhost']);
  const wrongName = await handshake(f, {
    ca: f.ca,
    cert: f.clientCert,
    key: f.clientKey,
    servername: 'db9.example.com',
  });
  assert.equal(wrongName.clientError, 'ERR_TLS_CERT_ALTNAME_INVALID');
  const foreign = await handshake(f, { ca: other.ca, cert: f.clientCert, key: f.clientKey, servername: 'localhost' });
  assert.match(foreign.clientError ?? '', /SELF_SIGNED|UNABLE_TO_VERIFY|CERT_SIGNATURE/);
  // The server demands a certificate: without one the handshake fails and no data arrives.
  const anonymous = await handshake(f, { ca: f.ca, servername: 'localhost' });
  assert.equal(anonymous.serverAuthorized, undefined);
  assert.notEqual(anonymous.echoed, 'hello');
  // A client certificate from another CA is refused by the server.
  const strangerClient = await handshake(f, {
    ca: f.ca,
    cert: other.clientCert,
    key: other.clientKey,
    servername: 'localhost',
  });
  assert.equal(strangerClient.serverAuthorized, undefined);
  assert.notEqual(strangerClient.echoed, 'hello');
});
