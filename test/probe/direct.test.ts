// `dbtls probe --direct`: a port that is TLS from its first byte and admits only clients with a
// certificate of its CA, as Galera's gcomm port does — played here by `openssl s_server -Verify`,
// serving a node certificate dbtls issued. With the node's client certificate the probe verifies;
// without one the server refuses the handshake; the flags that do not go together are usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { dbtls } from '../helpers/run.js';
import { issuedPki } from '../helpers/issued-pki.js';
import { fileScope } from '../helpers/scope.js';
import { freePort } from '../helpers/mariadb.js';
import { normalizeSerial } from '../helpers/load-loop.js';

const scope = fileScope();
const issued = issuedPki(scope, { nodes: [{ name: 'g1', host: '127.0.0.1', roles: ['mariadb', 'galera'] }] });

/** openssl s_server on 127.0.0.1:PORT with g1's server certificate, requiring a client certificate of the CA. */
async function tlsFirstServer(
  t: { after(fn: () => unknown): void },
  pki: string,
  extra: string[] = [],
): Promise<number> {
  const port = await freePort();
  const node = join(pki, 'nodes', 'g1');
  const child = spawn(
    'openssl',
    [
      's_server',
      '-accept',
      `127.0.0.1:${port}`,
      '-cert',
      join(node, 'server-cert.pem'),
      '-key',
      join(node, 'server-key.pem'),
      '-CAfile',
      join(pki, 'ca.pem'),
      '-Verify',
      '1',
      '-verify_return_error',
      '-quiet',
      ...extra,
    ],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  );
  t.after(() => child.kill('SIGKILL'));
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((res) => {
      const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), res(true)));
      s.on('error', () => res(false));
    });
    if (up) return port;
    await sleep(50);
  }
  throw new Error('openssl s_server did not listen');
}

test('probe --direct with the node client certificate: the served certificate, verified; without one a TLS 1.2 server refuses', async (t) => {
  const c = await issued(t);
  const port = await tlsFirstServer(t, c.pki);
  const node = join(c.pki, 'nodes', 'g1');
  const ca = join(c.pki, 'ca.pem');
  const args = ['probe', `127.0.0.1:${port}`, '--direct', '--ca', ca];
  const ok = await dbtls([
    ...args,
    '--cert',
    join(node, 'client-cert.pem'),
    '--key',
    join(node, 'client-key.pem'),
    '--json',
  ]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const r = JSON.parse(ok.stdout);
  const want = normalizeSerial(new X509Certificate(await readFile(join(node, 'server-cert.pem'))).serialNumber);
  assert.equal(r.leaf.serialHex, want);
  assert.equal(r.verified.chain, true);
  assert.equal(r.serverVersion, undefined, 'no MySQL greeting on a TLS-first port');
  assert.ok(!ok.stdout.includes('PRIVATE KEY'), 'the key is never printed');
  const plain = await dbtls([...args, '--cert', join(node, 'client-cert.pem'), '--key', join(node, 'client-key.pem')]);
  assert.match(plain.stdout, /^server\s+127\.0\.0\.1:\d+\s+\(TLS from the first byte\)$/m);

  // Under TLS 1.3 the server's certificate comes before it asks for the client's: a probe without
  // one still reads what is served. Under TLS 1.2 the server refuses the handshake first.
  const bare13 = await dbtls([...args, '--json']);
  assert.equal(JSON.parse(bare13.stdout).leaf.serialHex, want, bare13.stdout + bare13.stderr);
  const port12 = await tlsFirstServer(t, c.pki, ['-tls1_2']);
  const bare12 = await dbtls(['probe', `127.0.0.1:${port12}`, '--direct', '--ca', ca, '--json']);
  assert.equal(bare12.code, 1, bare12.stdout);
  assert.match(bare12.stdout, /probe-tls-failed/);
  assert.match(bare12.stdout, /handshake failed/);
});

test('probe: --cert without --key, or --cert without --direct, is a usage error (exit 2)', async (t) => {
  const c = await issued(t);
  const cert = join(c.pki, 'nodes', 'g1', 'client-cert.pem');
  const key = join(c.pki, 'nodes', 'g1', 'client-key.pem');
  const lone = await dbtls(['probe', '127.0.0.1:1', '--direct', '--cert', cert]);
  assert.equal(lone.code, 2);
  assert.match(lone.stderr, /--cert and --key go together/);
  const mysql = await dbtls(['probe', '127.0.0.1:1', '--cert', cert, '--key', key]);
  assert.equal(mysql.code, 2);
  assert.match(mysql.stderr, /--cert and --key are for --direct/);
});
