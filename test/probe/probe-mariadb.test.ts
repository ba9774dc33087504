// `dbtls probe` against real MariaDB servers: what it reports must be what the server really serves
// (the files it was started with, the manifest, and `openssl s_client -starttls mysql`), and the two
// verdicts (chain against a CA bundle, certificate against a name) must each fail for their reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeSslFiles, startMariadb } from '../helpers/mariadb.js';
import { dbtls, run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope, once } from '../helpers/scope.js';
import { writeInventory } from '../helpers/inventory.js';
import { probe } from '../../lib/probe/probe.js';
import { DbtlsError } from '../../lib/errors.js';
import type { Manifest } from '../../lib/store/manifest.js';

const scope = fileScope();

// A node certificate from `dbtls issue` (so the manifest records it), served by a real MariaDB.
const cluster = once(async () => {
  const dir = await tempDir(scope, 'dbtls-probe-');
  const inv = await writeInventory(dir, {
    nodes: [{ name: 'db1', host: '127.0.0.1', sans: ['db1.example.com'], localhost: true }],
  });
  const r = await dbtls(['issue', '-i', inv]);
  assert.equal(r.code, 0, r.stderr);
  const pki = join(dir, 'pki');
  const files = nodeSslFiles(pki, 'db1');
  const manifest = JSON.parse(await readFile(join(pki, 'manifest.json'), 'utf8')) as Manifest;
  const record = manifest.certificates.find((c) => c.id === 'nodes/db1/server');
  assert.ok(record, 'the manifest records nodes/db1/server');
  const db = await startMariadb(scope, { ssl: files });
  return { dir, files, record, db };
});

// An unrelated CA (mysql_ssl_rsa_setup style), and a bundle of it plus the right one, as during a CA rotation.
const otherCa = once(async () => {
  const dir = await tempDir(scope, 'dbtls-probe-other-');
  const r = await dbtls(['setup', '--datadir', dir, '--san', '127.0.0.1']);
  assert.equal(r.code, 0, r.stderr);
  return join(dir, 'ca.pem');
});

async function openssl(args: string[], input?: string): Promise<string> {
  const r = await run('openssl', args, { input, timeoutMs: 20_000 });
  assert.equal(r.code, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const serialOf = async (pemFile: string) =>
  (await openssl(['x509', '-noout', '-serial', '-in', pemFile])).trim().replace(/^serial=/, '');

interface ProbeJson {
  ok: boolean;
  host: string;
  port: number;
  servername: string;
  serverVersion: string;
  ca: string;
  tls: { protocol: string; cipher: string };
  leaf: {
    subject: string;
    issuer: string;
    sans: string[];
    serialHex: string;
    notAfter: string;
    fingerprint256: string;
  };
  chain: Array<{ subject: string; fingerprint256: string }>;
  verified: { chain: boolean; chainError?: string; name: boolean; nameError?: string };
}

async function probeJson(args: string[]): Promise<{ code: number | null; json: ProbeJson; stderr: string }> {
  const r = await dbtls(['probe', ...args, '--json'], { timeoutMs: 30_000 });
  let json: ProbeJson;
  try {
    json = JSON.parse(r.stdout) as ProbeJson;
  } catch {
    assert.fail(`--json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

test('probe reports the served leaf: the serial in the files and the manifest, subject, SANs, TLS version; verified (exit 0)', async () => {
  const { files, record, db } = await cluster();
  const { code, json, stderr } = await probeJson([`127.0.0.1:${db.port}`, '--ca', files.ca]);
  assert.equal(code, 0, stderr);
  assert.equal(json.ok, true);
  assert.deepEqual(json.verified, { chain: true, name: true });

  // The same serial as the file the server was started with (OpenSSL prints it upper case) and
  // exactly the manifest's string, so check --live can compare them as they are.
  assert.equal(json.leaf.serialHex, (await serialOf(files.cert)).toLowerCase());
  assert.equal(json.leaf.serialHex, record.serial);
  assert.equal(json.leaf.fingerprint256, record.fingerprint256);
  assert.equal(json.leaf.subject, record.subject);
  assert.deepEqual([...json.leaf.sans].sort(), [...record.sans].sort());
  assert.ok(json.leaf.sans.includes('IP:127.0.0.1') && json.leaf.sans.includes('DNS:db1.example.com'));
  assert.equal(json.leaf.issuer, 'CN=Test Cluster CA');
  assert.equal(json.leaf.notAfter, record.notAfter);

  assert.match(json.tls.protocol, /^TLSv1\.[23]$/);
  assert.match(json.tls.cipher, /^[A-Z0-9_-]+$/);
  // MariaDB announces "5.5.5-" + VERSION() in its greeting (the prefix keeps old replicas happy).
  const version = (await db.sql('SELECT VERSION()')).trim();
  assert.ok(json.serverVersion.endsWith(version), `${json.serverVersion} vs ${version}`);
  assert.equal(json.host, '127.0.0.1');
  assert.equal(json.port, db.port);
  assert.equal(json.servername, '127.0.0.1');
  assert.equal(json.ca, files.ca);
});

test('probe and `openssl s_client -starttls mysql` see the same certificate and the same chain', async () => {
  const { files, db } = await cluster();
  const r = await run(
    'openssl',
    ['s_client', '-starttls', 'mysql', '-connect', `127.0.0.1:${db.port}`, '-showcerts', '-CAfile', files.ca],
    {
      input: '',
      timeoutMs: 20_000,
    },
  );
  const served = r.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g) ?? [];
  assert.ok(served.length >= 1, `openssl s_client saw no certificate:\n${r.stdout}\n${r.stderr}`);
  const fingerprints: string[] = [];
  for (const pem of served)
    fingerprints.push(
      (await openssl(['x509', '-noout', '-fingerprint', '-sha256'], pem)).trim().replace(/^.*Fingerprint=/, ''),
    );

  const { json } = await probeJson([`127.0.0.1:${db.port}`, '--ca', files.ca]);
  const opensslSerial = (await openssl(['x509', '-noout', '-serial'], served[0])).trim().replace(/^serial=/, '');
  assert.equal(json.leaf.serialHex, opensslSerial.toLowerCase());
  // Exactly what the server sent, in its order: not completed with the CA from --ca.
  assert.deepEqual(
    json.chain.map((c) => c.fingerprint256),
    fingerprints,
  );
});

test('the library: probe() resolves with the served chain and verdicts; serialHex is the manifest serial', async () => {
  const { files, record, db } = await cluster();
  const ca = await readFile(files.ca);
  const good = await probe(
    { host: '127.0.0.1', port: db.port },
    { ca, servername: 'db1.example.com', timeoutMs: 5_000 },
  );
  assert.equal(good.ok, true);
  assert.equal(good.leaf.serialHex, record.serial);
  assert.equal(good.chain[0], good.leaf);
  assert.equal(good.sni, 'db1.example.com');
  assert.equal(good.servername, 'db1.example.com');

  const byIp = await probe({ host: '127.0.0.1', port: db.port }, { ca, timeoutMs: 5_000 });
  assert.equal(byIp.sni, undefined, 'no SNI for an IP address');
  assert.equal(byIp.ok, true);
});

test('against another CA the chain does not verify: exit 1, with the reason; the name still does', async () => {
  const { db } = await cluster();
  const { code, json } = await probeJson([`127.0.0.1:${db.port}`, '--ca', await otherCa()]);
  assert.equal(code, 1);
  assert.equal(json.ok, false);
  assert.equal(json.verified.chain, false);
  assert.match(json.verified.chainError ?? '', /CN=Test Cluster CA.*not a trusted CA/);
  assert.equal(json.verified.name, true);

  // The human form says the same, on the "ca" line.
  const human = await dbtls(['probe', `127.0.0.1:${db.port}`, '--ca', await otherCa()], { timeoutMs: 30_000 });
  assert.equal(human.code, 1);
  assert.match(human.stdout, /^ca +FAILED .*not a trusted CA/m);
  assert.match(human.stdout, /^name +ok/m);
  assert.match(human.stdout, /^result +NOT verified$/m);
});

test('without --ca the system root CAs do not know a private CA: exit 1', async () => {
  const { db } = await cluster();
  const { code, json } = await probeJson([`127.0.0.1:${db.port}`]);
  assert.equal(code, 1);
  assert.equal(json.verified.chain, false);
  assert.equal(json.ca, 'the system root CAs');
});

test('a CA bundle of (another CA + the right CA), as during a CA rotation, verifies', async () => {
  const { dir, files, db } = await cluster();
  const bundle = join(dir, 'bundle.pem');
  await writeFile(bundle, (await readFile(await otherCa(), 'utf8')) + (await readFile(files.ca, 'utf8')));
  const { code, json, stderr } = await probeJson([`127.0.0.1:${db.port}`, '--ca', bundle]);
  assert.equal(code, 0, stderr);
  assert.equal(json.verified.chain, true);
});

test('a name the certificate is not made out to fails the name check: exit 1, with the reason; the chain still verifies', async () => {
  const { files, db } = await cluster();
  for (const name of ['db2.example.com', '127.0.0.2']) {
    const { code, json } = await probeJson([`127.0.0.1:${db.port}`, '--ca', files.ca, '--servername', name]);
    assert.equal(code, 1, name);
    assert.equal(json.verified.chain, true, name);
    assert.equal(json.verified.name, false, name);
    assert.match(json.verified.nameError ?? '', new RegExp(name.replace(/\./g, '\\.')));
  }
  const human = await dbtls(['probe', `127.0.0.1:${db.port}`, '--ca', files.ca, '--servername', 'db2.example.com'], {
    timeoutMs: 30_000,
  });
  assert.equal(human.code, 1);
  assert.match(
    human.stdout,
    /^name +FAILED: name db2\.example\.com is not among the certificate.s DNS SANs \(DNS:db1, DNS:db1\.example\.com, DNS:localhost\)$/m,
  );
  // Names in the certificate pass, dialling by IP.
  for (const name of ['db1.example.com', 'localhost', 'db1']) {
    const { code, json } = await probeJson([`127.0.0.1:${db.port}`, '--ca', files.ca, '--servername', name]);
    assert.equal(code, 0, `${name}: ${JSON.stringify(json.verified)}`);
  }
});

test('dialling localhost reaches the IPv4-only server and checks the name localhost', async () => {
  const { files, db } = await cluster();
  const r = await dbtls(['probe', `localhost:${db.port}`, '--ca', files.ca], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^server +localhost:\d+ +5\.5\.5-.*MariaDB/m);
  assert.match(r.stdout, /^tls +TLSv1\.[23] +\S+$/m);
  assert.match(r.stdout, /^serial +[0-9a-f]+$/m);
  assert.match(r.stdout, /^name +ok, made out to localhost$/m);
  assert.match(r.stdout, /^result +verified$/m);
});

// MariaDB 10.11 started without ssl options: does it still offer TLS? (11.4 would make its own
// certificate; 10.11 does not.)
const plain = once(() => startMariadb(scope));

test('a MariaDB without TLS: "does not offer TLS", exit 1', async () => {
  const db = await plain();
  const haveSsl = (await db.sql('SELECT @@have_ssl')).trim();
  assert.notEqual(haveSsl, 'YES', 'this MariaDB offers TLS without ssl options; the test needs one that does not');
  const r = await dbtls(['probe', `127.0.0.1:${db.port}`, '--timeout', '5'], { timeoutMs: 30_000 });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr.split('\n')[0]!,
    new RegExp(`^dbtls: 127\\.0\\.0\\.1:${db.port}: the server does not offer TLS`),
  );
  await assert.rejects(
    probe({ host: '127.0.0.1', port: db.port }, { timeoutMs: 5_000 }),
    (e) => e instanceof DbtlsError && e.code === 'probe-no-tls',
  );
});

// Runs after the test above, on the same server: it leaves no account that may connect from 127.0.0.1.
test("a server refusing before the greeting (host not allowed): the server's error code and message, exit 1", async () => {
  const db = await plain();
  // With no account for 127.0.0.1 (root@localhost stays, over the socket), MariaDB answers a TCP
  // connection from there with an ERR packet instead of a greeting, as it does for a blocked host.
  const hosts = (await db.sql("SELECT DISTINCT host FROM mysql.user WHERE host <> 'localhost'"))
    .split('\n')
    .filter(Boolean);
  for (const h of hosts) {
    for (const u of (await db.sql(`SELECT user FROM mysql.user WHERE host = '${h}'`)).split('\n').filter(Boolean))
      await db.sql(`DROP USER '${u}'@'${h}'`);
  }
  const r = await dbtls(['probe', `127.0.0.1:${db.port}`, '--timeout', '5'], { timeoutMs: 30_000 });
  assert.equal(r.code, 1, r.stdout);
  assert.match(
    r.stderr,
    /^dbtls: 127\.0\.0\.1:\d+: the server refused the connection: ERROR 1130: Host '127\.0\.0\.1' is not allowed to connect/,
  );
  const json = await dbtls(['probe', `127.0.0.1:${db.port}`, '--json'], { timeoutMs: 30_000 });
  assert.equal(json.code, 1);
  assert.deepEqual(
    {
      ok: (JSON.parse(json.stdout) as { ok: boolean }).ok,
      code: (JSON.parse(json.stdout) as { error: { code: string } }).error.code,
    },
    { ok: false, code: 'probe-server-error' },
  );
});
