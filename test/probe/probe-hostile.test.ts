// A hostile server must not reach the operator's terminal: its ERR message, its version string (and
// what `check --live` shows of them) are printed as one printable, bounded line — no escape that
// clears the screen, no newline that forges a "verified" line, not 60 KB of filler. --json keeps the
// server's text exactly (JSON escapes control characters itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRsaKey, privateKeyToPem } from '../../lib/pki/keys.js';
import { issueCertificate, loadIssuer } from '../../lib/pki/certificate.js';
import { parseSans } from '../../lib/pki/san.js';
import { CLIENT_SSL } from '../../lib/probe/mysql-handshake.js';
import { dbtls, type RunResult } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/scope.js';
import { writeInventory } from '../helpers/inventory.js';
import {
  bytesServer,
  errServer,
  fakeMysql,
  frame,
  greetingPayload,
  hostileText,
  MYSQL8_CAPABILITIES,
} from './fake-servers.js';

const scope = fileScope();
const dir = await tempDir(scope, 'dbtls-probe-hostile-');

// C0 controls but the newline that ends each line, DEL, C1 controls, bidi overrides and isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Every line printable and at most MAX characters; at most LINES lines. */
function assertTerminalSafe(text: string, max: number, lines: number): void {
  const m = UNSAFE.exec(text);
  assert.equal(
    m,
    null,
    `control character U+${m?.[0].codePointAt(0)!.toString(16).padStart(4, '0')} in the output: ${JSON.stringify(text.slice(0, 300))}`,
  );
  const all = text.trimEnd().split('\n');
  assert.ok(all.length <= lines, `${all.length} lines:\n${text.slice(0, 2000)}`);
  for (const l of all) assert.ok(l.length <= max, `a line of ${l.length} characters`);
}

const probe = (args: string[]): Promise<RunResult> =>
  dbtls(['probe', ...args, '--timeout', '5'], { timeoutMs: 30_000 });

test('an ERR message with escapes, forged lines and 60 KB: one clean bounded line, exit 1; --json keeps it exactly', async () => {
  const hostile = hostileText();
  const port = await errServer(scope, 1040, hostile);
  const r = await probe([`127.0.0.1:${port}`]);
  assert.equal(r.code, 1, r.stderr.slice(0, 500));
  assert.equal(r.stdout, '');
  assertTerminalSafe(r.stderr, 1200, 2);
  assert.match(
    r.stderr,
    /^dbtls: 127\.0\.0\.1:\d+: the server refused the connection: ERROR 1040: \[?.*result verified dbtls: all 8 nodes ok/,
  );
  // The forged verdict is inside the error line, never a line of its own.
  assert.doesNotMatch(r.stderr, /^(result|dbtls: all)/m);
  assert.match(r.stderr, /characters in all\)/);
  assert.ok(!r.stderr.includes('TAIL-END'), 'the 60 KB tail was cut');

  const j = await probe([`127.0.0.1:${port}`, '--json']);
  assert.equal(j.code, 1);
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(j.stdout, /[\u0000-\u0009\u000b-\u001f]/, 'JSON escapes C0 controls');
  const out = JSON.parse(j.stdout) as { ok: boolean; error: { code: string; message: string } };
  assert.equal(out.error.code, 'probe-server-error');
  assert.ok(out.error.message.endsWith(`ERROR 1040: ${hostile}`), 'the server message, byte for byte');
});

test('a 100 KB ERR packet is refused unread as not MySQL: bounded too', async () => {
  const port = await errServer(scope, 1040, hostileText(100_000));
  const r = await probe([`127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assertTerminalSafe(r.stderr, 1200, 2);
  assert.match(r.stderr, /not a MySQL-protocol server: the first packet claims \d+ bytes/);
});

test('a 60 KB server version without TLS: the error line is bounded', async () => {
  const version = '8.0.36-' + 'x'.repeat(60_000) + '-END';
  const port = await bytesServer(
    scope,
    frame(greetingPayload({ version, capabilities: MYSQL8_CAPABILITIES & ~CLIENT_SSL })),
  );
  const r = await probe([`127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assertTerminalSafe(r.stderr, 1200, 2);
  assert.match(r.stderr, /does not offer TLS/);
  assert.ok(!r.stderr.includes('-END'));
});

test("a 60 KB server version over TLS: the report's lines are bounded; --json has the version whole", async () => {
  const [caKey, leafKey] = await Promise.all([generateRsaKey(), generateRsaKey()]);
  const ca = issueCertificate({ profile: 'ca', subject: { CN: 'Hostile Test CA' }, days: 2, subjectKey: caKey });
  const leaf = issueCertificate({
    profile: 'server',
    subject: { CN: 'evil' },
    sans: parseSans(['127.0.0.1']).sans,
    days: 1,
    subjectKey: leafKey,
    issuer: loadIssuer(ca.pem, caKey),
  });
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.pem);
  const version = '8.0.36-' + 'y'.repeat(60_000) + '-END';
  const srv = await fakeMysql(scope, {
    greeting: frame(greetingPayload({ version })),
    tls: { cert: leaf.pem, key: privateKeyToPem(leafKey) },
  });
  const r = await probe([`127.0.0.1:${srv.port}`, '--ca', caFile]);
  assert.equal(r.code, 0, r.stderr);
  assertTerminalSafe(r.stdout, 400, 20);
  assert.match(r.stdout, /^server +127\.0\.0\.1:\d+ +8\.0\.36-y+… \(\d+ characters in all\)$/m);
  assert.match(r.stdout, /^result +verified$/m);

  const j = await probe([`127.0.0.1:${srv.port}`, '--ca', caFile, '--json']);
  assert.equal((JSON.parse(j.stdout) as { serverVersion: string }).serverVersion, version);
});

test('check --live: a node answering with a hostile ERR shows one clean bounded line', async () => {
  const port = await errServer(scope, 1129, hostileText());
  const work = await tempDir(scope, 'dbtls-live-hostile-');
  const inv = await writeInventory(work, {
    nodes: [{ name: 'db1', host: '127.0.0.1', port, transport: 'ssh', ssh: { port: 22 } }],
  });
  const issued = await dbtls(['issue', '-i', inv]);
  assert.equal(issued.code, 0, issued.stderr);
  const r = await dbtls(['check', '-i', inv, '--live', '--probe-timeout', '5'], { timeoutMs: 60_000 });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assertTerminalSafe(r.stdout, 1300, 20);
  assertTerminalSafe(r.stderr, 1300, 5);
  assert.match(r.stdout, /^live UNREACHABLE +db1 127\.0\.0\.1:\d+ .*ERROR 1129/m);
  assert.doesNotMatch(r.stdout, /^(result|dbtls: all)/m);
});
