// What `dbtls probe` does when the other end is not a TLS-capable MySQL server: a closed port, a
// silent port, a plain TLS server, an HTTP server, a banner, a greeting without TLS, an ERR
// packet, a stalled TLS handshake, TLS older than 1.2 — each a clear one-line error and exit 1,
// within the --timeout. And, against a MySQL-speaking double, the SSLRequest on the wire, the SNI,
// and that the chain reported is the one served (not completed from --ca). Usage errors exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRsaKey, privateKeyToPem } from '../../lib/pki/keys.js';
import { issueCertificate, loadIssuer } from '../../lib/pki/certificate.js';
import { parseSans } from '../../lib/pki/san.js';
import { CLIENT_PROTOCOL_41, CLIENT_SSL } from '../../lib/probe/mysql-handshake.js';
import { dbtls, type RunResult } from '../helpers/run.js';
import { freePort } from '../helpers/mariadb.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/scope.js';
import {
  bytesServer,
  errPayload,
  fakeMysql,
  frame,
  greetingPayload,
  httpServer,
  MYSQL8_CAPABILITIES,
  plainTlsServer,
  silentServer,
} from './fake-servers.js';

const scope = fileScope();

const [caKey, leafKey] = await Promise.all([generateRsaKey(), generateRsaKey()]);
const ca = issueCertificate({ profile: 'ca', subject: { CN: 'Probe Test CA' }, days: 2, subjectKey: caKey });
const leaf = issueCertificate({
  profile: 'server',
  subject: { CN: 'fake1' },
  sans: parseSans(['fake1.example.com', '127.0.0.1', '::1']).sans,
  days: 1,
  subjectKey: leafKey,
  issuer: loadIssuer(ca.pem, caKey),
});
const key = privateKeyToPem(leafKey);
const dir = await tempDir(scope, 'dbtls-probe-fail-');
const caFile = join(dir, 'ca.pem');
await writeFile(caFile, ca.pem);

/** Runs `dbtls probe ARGS` and measures how long it took. */
async function timedProbe(args: string[]): Promise<RunResult & { seconds: number }> {
  const start = Date.now();
  const r = await dbtls(['probe', ...args], { timeoutMs: 30_000 });
  return { ...r, seconds: (Date.now() - start) / 1000 };
}

/** Exit 1 and exactly one line of error (plus at most a hint), nothing on stdout. */
function assertOneLineFailure(r: RunResult, message: RegExp): void {
  assert.equal(r.code, 1, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0]!, message);
  assert.ok(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith('hint: ')), r.stderr);
}

test('a closed port: "connection refused", exit 1, at once', async () => {
  const port = await freePort();
  const r = await timedProbe([`127.0.0.1:${port}`, '--timeout', '5']);
  assertOneLineFailure(r, new RegExp(`^dbtls: 127\\.0\\.0\\.1:${port}: connection refused`));
  assert.ok(r.seconds < 4, `took ${r.seconds} s`);
});

test('a port that accepts and says nothing: no greeting within --timeout 1, exit 1', async () => {
  const port = await silentServer(scope);
  const r = await timedProbe([`127.0.0.1:${port}`, '--timeout', '1']);
  assertOneLineFailure(r, /: no MySQL greeting within 1 s: the port accepts connections but sends nothing/);
  assert.ok(r.seconds >= 0.9 && r.seconds < 5, `took ${r.seconds} s`);
});

test('a plain TLS server (it waits for a ClientHello, we for a greeting): clear error, exit 1, no hang', async () => {
  const port = await plainTlsServer(scope, leaf.pem, key);
  const r = await timedProbe([`127.0.0.1:${port}`, '--timeout', '1', '--ca', caFile]);
  assertOneLineFailure(r, /: no MySQL greeting within 1 s: .*plain TLS or HTTP port/);
  assert.ok(r.seconds < 5, `took ${r.seconds} s`);
});

test('an HTTP server: clear error, exit 1, no hang; --json says the same as an object', async () => {
  const port = await httpServer(scope);
  const r = await timedProbe([`127.0.0.1:${port}`, '--timeout', '1']);
  assertOneLineFailure(r, /: no MySQL greeting within 1 s/);
  assert.ok(r.seconds < 5, `took ${r.seconds} s`);
  const j = await timedProbe([`127.0.0.1:${port}`, '--timeout', '1', '--json']);
  assert.equal(j.code, 1);
  const out = JSON.parse(j.stdout) as { ok: boolean; error: { code: string; message: string } };
  assert.equal(out.ok, false);
  assert.equal(out.error.code, 'probe-timeout');
});

test('a server that speaks first in another protocol (an SSH banner): "not a MySQL-protocol server" at once', async () => {
  const port = await bytesServer(scope, Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'));
  const r = await timedProbe([`127.0.0.1:${port}`, '--timeout', '10']);
  assertOneLineFailure(r, /: not a MySQL-protocol server: the first packet has sequence id 45/);
  assert.ok(r.seconds < 4, `took ${r.seconds} s: it waited for the timeout`);
});

test('a greeting that is not protocol 10, and one cut short before the server hangs up: "not a MySQL-protocol server"', async () => {
  const v9 = await bytesServer(scope, frame(greetingPayload({ protocol: 9 })));
  assertOneLineFailure(
    await timedProbe([`127.0.0.1:${v9}`, '--timeout', '5']),
    /not a MySQL-protocol server: protocol version 9/,
  );
  const cut = await bytesServer(scope, frame(greetingPayload()).subarray(0, 20), { close: true });
  assertOneLineFailure(
    await timedProbe([`127.0.0.1:${cut}`, '--timeout', '5']),
    /not a MySQL-protocol server: it sent 20 bytes/,
  );
  const hangUp = await bytesServer(scope, Buffer.alloc(0), { close: true });
  assertOneLineFailure(
    await timedProbe([`127.0.0.1:${hangUp}`, '--timeout', '5']),
    /closed the connection without sending a MySQL greeting/,
  );
});

test('a greeting without CLIENT_SSL: "does not offer TLS", exit 1', async () => {
  const port = await bytesServer(
    scope,
    frame(greetingPayload({ version: '8.0.36', capabilities: MYSQL8_CAPABILITIES & ~CLIENT_SSL })),
  );
  const r = await timedProbe([`127.0.0.1:${port}`]);
  assertOneLineFailure(r, /the server does not offer TLS \(no CLIENT_SSL in its greeting; server 8\.0\.36\)/);
});

test("an ERR packet instead of a greeting (blocked host): the server's code and message, and how to unblock", async () => {
  const message =
    "Host '127.0.0.1' is blocked because of many connection errors; unblock with 'mysqladmin flush-hosts'";
  const port = await bytesServer(scope, frame(errPayload(1129, message)), { close: true });
  const r = await timedProbe([`127.0.0.1:${port}`]);
  assertOneLineFailure(
    r,
    new RegExp(`the server refused the connection: ERROR 1129: ${message.replace(/[.()']/g, '.')}`),
  );
  assert.match(r.stderr, /hint: unblock the host with FLUSH HOSTS/);
});

test('a server that offers TLS but then stalls the handshake: TLS timeout, exit 1', async () => {
  const fake = await fakeMysql(scope, {}); // no tls: silent after the SSLRequest
  const r = await timedProbe([`127.0.0.1:${fake.port}`, '--timeout', '1']);
  assertOneLineFailure(r, /: the TLS handshake did not finish within 1 s/);
  assert.ok(r.seconds < 5, `took ${r.seconds} s`);
  assert.equal(fake.sslRequests.length, 1);
});

test('a server that only speaks TLS 1.1: the handshake fails with a reason, exit 1', async () => {
  const fake = await fakeMysql(scope, {
    tls: { cert: leaf.pem, key, maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' },
  });
  const r = await timedProbe([`127.0.0.1:${fake.port}`, '--timeout', '5', '--ca', caFile]);
  assertOneLineFailure(r, /: the TLS handshake failed: .*(protocol|version)/i);
});

test('STARTTLS with a MySQL-speaking server: the SSLRequest on the wire, SNI for names only, the chain as served', async () => {
  // Serves its leaf only: with --ca the reported chain must still be that one certificate.
  const leafOnly = await fakeMysql(scope, { tls: { cert: leaf.pem, key } });
  const r = await timedProbe([
    `127.0.0.1:${leafOnly.port}`,
    '--ca',
    caFile,
    '--servername',
    'fake1.example.com',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    serverVersion: string;
    chain: Array<{ subject: string }>;
    leaf: { serialHex: string };
    sni?: string;
  };
  assert.equal(out.ok, true);
  assert.equal(out.serverVersion, '8.0.36');
  assert.deepEqual(
    out.chain.map((c) => c.subject),
    ['CN=fake1'],
  );
  assert.equal(out.leaf.serialHex, leaf.serialHex.replace(/^00/, ''));
  assert.equal(out.sni, 'fake1.example.com');

  const [req] = leafOnly.sslRequests;
  assert.ok(req);
  assert.deepEqual([...req.subarray(0, 4)], [32, 0, 0, 1]);
  assert.ok(req.readUInt32LE(4) & CLIENT_SSL && req.readUInt32LE(4) & CLIENT_PROTOCOL_41);
  assert.deepEqual(leafOnly.servernames, ['fake1.example.com']);

  // By IP: no SNI (an IP address is not a valid server name), and the IP SAN matches.
  const byIp = await timedProbe([`127.0.0.1:${leafOnly.port}`, '--ca', caFile]);
  assert.equal(byIp.code, 0, byIp.stdout + byIp.stderr);
  assert.deepEqual(leafOnly.servernames, ['fake1.example.com', undefined]);

  // Serving leaf + CA: both reported, in the order sent.
  const withCa = await fakeMysql(scope, { tls: { cert: leaf.pem + ca.pem, key } });
  const full = await timedProbe([`127.0.0.1:${withCa.port}`, '--ca', caFile, '--json']);
  assert.equal(full.code, 0, full.stderr);
  assert.deepEqual(
    (JSON.parse(full.stdout) as typeof out).chain.map((c) => c.subject),
    ['CN=fake1', 'CN=Probe Test CA'],
  );
});

test('an expired certificate: the chain verdict says which certificate expired when; the human form marks it', async () => {
  const expiredKey = await generateRsaKey();
  const expired = issueCertificate({
    profile: 'server',
    subject: { CN: 'expired1' },
    sans: parseSans(['127.0.0.1']).sans,
    days: 1,
    subjectKey: expiredKey,
    issuer: loadIssuer(ca.pem, caKey),
    now: new Date(Date.now() - 10 * 86_400_000),
  });
  const fake = await fakeMysql(scope, { tls: { cert: expired.pem, key: privateKeyToPem(expiredKey) } });
  const r = await timedProbe([`127.0.0.1:${fake.port}`, '--ca', caFile]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^valid +\S+ → \S+ \(EXPIRED\)$/m);
  assert.match(
    r.stdout,
    new RegExp(
      `^ca +FAILED \\(${caFile.replace(/[.]/g, '\\.')}\\): certificate has expired \\(CERT_HAS_EXPIRED\\): CN=expired1 expired on ${expired.notAfter.toISOString().replace(/[.]/g, '\\.')}$`,
      'm',
    ),
  );
  assert.match(r.stdout, /^name +ok/m);
});

test('an IPv6 target, [::1]:PORT: connects over IPv6 and checks ::1 against the IP SANs', async () => {
  const fake = await fakeMysql(scope, { tls: { cert: leaf.pem, key }, host: '::1' });
  const r = await timedProbe([`[::1]:${fake.port}`, '--ca', caFile, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as { host: string; servername: string; sni?: string; verified: { name: boolean } };
  assert.deepEqual([out.host, out.servername, out.sni, out.verified.name], ['::1', '::1', undefined, true]);
  const human = await timedProbe([`[::1]:${fake.port}`, '--ca', caFile]);
  assert.match(human.stdout, new RegExp(`^server +\\[::1\\]:${fake.port} +8\\.0\\.36$`, 'm'));
});

test('usage errors exit 2 and say what is wrong: HOST:PORT, --timeout, an unreadable or empty --ca file (named)', async () => {
  const bad = await dbtls(['probe', 'db1:99999']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"db1:99999" is not HOST\[:PORT\]: port "99999"/);

  const timeout = await dbtls(['probe', 'db1', '--timeout', 'soon']);
  assert.equal(timeout.code, 2);
  assert.match(
    timeout.stderr,
    /option '--timeout <seconds>' argument 'soon' is invalid\. It must be a number of seconds above 0/,
  );

  const missing = join(dir, 'no-such-ca.pem');
  const unreadable = await dbtls(['probe', '127.0.0.1', '--ca', missing]);
  assert.equal(unreadable.code, 2);
  assert.equal(unreadable.stderr.split('\n')[0], `dbtls: --ca ${missing}: no such file`);

  const empty = join(dir, 'empty.pem');
  await writeFile(empty, 'not a certificate\n');
  const noCert = await dbtls(['probe', '127.0.0.1', '--ca', empty, '--json']);
  assert.equal(noCert.code, 2);
  assert.match(
    noCert.stderr,
    new RegExp(`--ca ${empty.replace(/[.]/g, '\\.')}: the CA bundle holds no PEM certificate`),
  );
  assert.equal((JSON.parse(noCert.stdout) as { error: { file: string } }).error.file, empty);

  const junk = join(dir, 'junk.pem');
  await writeFile(junk, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
  const unreadableCert = await dbtls(['probe', '127.0.0.1', '--ca', junk]);
  assert.equal(unreadableCert.code, 2);
  assert.match(unreadableCert.stderr, /junk\.pem: the CA bundle holds a certificate that cannot be read/);
});
