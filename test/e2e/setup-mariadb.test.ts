// `dbtls setup` against a real MariaDB: the certificates it writes must serve TLS, authenticate an
// X509 user, and pass (or, without SANs, fail) the client's server-certificate verification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { startMariadb, type ClientOptions, type MariadbServer } from '../helpers/mariadb.js';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope, once } from '../helpers/scope.js';

// Certificate sets and servers are shared by the tests below (a server per distinct set), made on
// first use and cleaned up newest-first when the file ends.
const scope = fileScope();

const FILES = [
  'ca.pem',
  'ca-key.pem',
  'server-cert.pem',
  'server-key.pem',
  'client-cert.pem',
  'client-key.pem',
  'private_key.pem',
  'public_key.pem',
];

async function setup(extra: string[]): Promise<string> {
  const dir = await tempDir(scope, 'dbtls-setup-');
  const r = await dbtls(['setup', '--datadir', dir, ...extra]);
  assert.equal(r.code, 0, `dbtls setup failed:\n${r.stdout}\n${r.stderr}`);
  return dir;
}

const SANS = ['--san', '127.0.0.1', '--san', 'localhost'];
const certs = once(() => setup(SANS));
const otherCerts = once(() => setup(SANS)); // a second, unrelated CA
const noSanCerts = once(() => setup([]));

// A server using DIR's server certificate, with an account that must present a client certificate.
async function serve(dir: string): Promise<MariadbServer> {
  const db = await startMariadb(scope, {
    ssl: { ca: join(dir, 'ca.pem'), cert: join(dir, 'server-cert.pem'), key: join(dir, 'server-key.pem') },
  });
  await db.sql("CREATE USER 'x509user'@'%' REQUIRE X509; GRANT USAGE ON *.* TO 'x509user'@'%'");
  return db;
}
const server = once(async () => serve(await certs()));
const noSanServer = once(async () => serve(await noSanCerts()));

interface AsUser {
  caDir: string;
  certDir?: string; // omit to connect without a client certificate
  verify?: boolean; // --ssl-verify-server-cert: check the dialled host against the SAN (default on)
}

// MariaDB's client has no --ssl-mode: a CA file turns TLS on and checks the chain; the host name
// is only checked with --ssl-verify-server-cert.
function asX509User({ caDir, certDir, verify = true }: AsUser): string[] {
  return [
    '--user=x509user',
    `--ssl-ca=${join(caDir, 'ca.pem')}`,
    ...(certDir
      ? [`--ssl-cert=${join(certDir, 'client-cert.pem')}`, `--ssl-key=${join(certDir, 'client-key.pem')}`]
      : []),
    ...(verify ? ['--ssl-verify-server-cert'] : []),
  ];
}

/** Connects and returns the session's TLS status variables (Ssl_cipher, Ssl_version, …). */
async function tlsStatus(db: MariadbServer, args: string[], opts?: ClientOptions): Promise<Map<string, string>> {
  const r = await db.client(
    [...args, '--batch', '--skip-column-names', '-e', "SHOW SESSION STATUS LIKE 'Ssl_%'"],
    opts,
  );
  assert.equal(r.code, 0, `connection failed: ${r.stderr}`);
  return new Map(
    r.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t', 2) as [string, string]),
  );
}

function assertEncrypted(status: Map<string, string>): void {
  assert.match(status.get('Ssl_cipher') ?? '', /^\S+$/, 'Ssl_cipher is empty: the session is not encrypted');
  assert.match(status.get('Ssl_version') ?? '', /^TLSv1\.[23]$/);
}

test('dbtls setup writes the mysql_ssl_rsa_setup file set', async () => {
  const dir = await certs();
  for (const f of FILES) await access(join(dir, f));
});

test('an X509 user with the client certificate connects to 127.0.0.1 over verified TLS', async () => {
  const dir = await certs();
  assertEncrypted(await tlsStatus(await server(), asX509User({ caDir: dir, certDir: dir })));
});

test('the X509 user without a client certificate is refused', async () => {
  const dir = await certs();
  const r = await (await server()).client([...asX509User({ caDir: dir }), '-e', 'SELECT 1']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Access denied for user 'x509user'/);
});

test('verifying the server against another dbtls CA is refused', async () => {
  const [dir, other] = [await certs(), await otherCerts()];
  const r = await (await server()).client([...asX509User({ caDir: other, certDir: dir }), '-e', 'SELECT 1']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /ERROR 2026 .*certificate/); // 2026 = TLS error (here: unknown issuer)
});

test('dialling localhost over TCP passes server-certificate verification (SAN localhost)', async () => {
  const dir = await certs();
  const status = await tlsStatus(await server(), asX509User({ caDir: dir, certDir: dir }), { host: 'localhost' });
  assertEncrypted(status);
});

test('certificates made without --san fail server-certificate verification at 127.0.0.1', async () => {
  const dir = await noSanCerts();
  const db = await noSanServer();
  // Control: same CA chain and client certificate, no host check: works, so only the SAN is at fault.
  assertEncrypted(await tlsStatus(db, asX509User({ caDir: dir, certDir: dir, verify: false })));
  const r = await db.client([...asX509User({ caDir: dir, certDir: dir }), '-e', 'SELECT 1']);
  assert.notEqual(r.code, 0, 'a certificate without SANs passed --ssl-verify-server-cert');
  assert.match(r.stderr, /ERROR 2026 .*certificate/); // 10.11: "Validation of SSL server certificate failed"
});
