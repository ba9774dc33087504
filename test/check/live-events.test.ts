// `check --live` as it goes: liveCheck tells each probe's start (a node with a port to connect to)
// and its result (every node), against a MySQL-speaking TLS server on 127.0.0.1 serving the node's
// issued certificate, a port nobody listens on, and a node of transport local; on a terminal the
// CLI shows one task per node whose title ends as that node's result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { liveCheck, type ProbeEvent } from '../../lib/check/live.js';
import { runIssue } from '../../lib/issue/issue.js';
import { loadInventory } from '../../lib/inventory/load.js';
import { cliPath } from '../helpers/paths.js';
import { run } from '../helpers/run.js';
import { fileScope } from '../helpers/scope.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';
import { which } from '../helpers/which.js';
import { fakeMysql } from '../probe/fake-servers.js';

const scope = fileScope();

/** A port that was free a moment ago: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** db1 serves its issued certificate, db2's port is closed, db3 is transport local (nothing to probe). */
async function cluster() {
  const dir = await tempDir(scope, 'dbtls-live-events-');
  // The server's certificate is issued after the inventory (which needs the server's port): the
  // fake reads its TLS options at each connection, so they are filled in below.
  const tls: SecureContextOptions = {};
  const db1 = await fakeMysql(scope, { tls });
  const db2Port = await closedPort();
  const inv = await writeInventory(dir, {
    nodes: [
      { name: 'db1', host: '127.0.0.1', port: db1.port, transport: 'ssh', ssh: { port: 22 } },
      { name: 'db2', host: '127.0.0.1', port: db2Port, transport: 'ssh', ssh: { port: 22 } },
      { name: 'db3', host: '10.9.0.3' },
    ],
  });
  const c = await loadInventory(inv);
  await runIssue(c);
  tls.cert = await readFile(join(c.pki, 'nodes/db1/server-cert.pem'), 'utf8');
  tls.key = await readFile(join(c.pki, 'nodes/db1/server-key.pem'), 'utf8');
  return { inv, c, db1Port: db1.port, db2Port, served: new X509Certificate(tls.cert) };
}

const bed = cluster();

test("liveCheck emits probe-start for each node it connects to and probe-done with each node's result", async () => {
  const { c, db1Port, db2Port, served } = await bed;
  const events: ProbeEvent[] = [];
  const results = await liveCheck(c, { timeoutMs: 5000, onEvent: (e) => events.push(e) });

  const of = (node: string) => events.filter((e) => (e.type === 'probe-start' ? e.node : e.result.node) === node);
  assert.deepEqual(
    of('db1').map((e) => e.type),
    ['probe-start', 'probe-done'],
  );
  assert.deepEqual(of('db1')[0], { type: 'probe-start', node: 'db1', host: '127.0.0.1', port: db1Port });
  const db1 = of('db1')[1] as Extract<ProbeEvent, { type: 'probe-done' }>;
  assert.equal(db1.result.status, 'ok', db1.result.problem);
  assert.equal(db1.result.served?.fingerprint256, served.fingerprint256, 'the result says what the server served');

  assert.deepEqual(
    of('db2').map((e) => e.type),
    ['probe-start', 'probe-done'],
  );
  assert.deepEqual(of('db2')[0], { type: 'probe-start', node: 'db2', host: '127.0.0.1', port: db2Port });
  assert.equal((of('db2')[1] as Extract<ProbeEvent, { type: 'probe-done' }>).result.status, 'unreachable');

  // Nothing to connect to: no start, but its result still comes.
  assert.deepEqual(
    of('db3').map((e) => e.type),
    ['probe-done'],
  );
  assert.equal((of('db3')[0] as Extract<ProbeEvent, { type: 'probe-done' }>).result.status, 'not-probed');

  // What the events carried is what the call returns, one result per node.
  const done = events
    .filter((e): e is Extract<ProbeEvent, { type: 'probe-done' }> => e.type === 'probe-done')
    .map((e) => e.result);
  assert.deepEqual(
    [...done].sort((a, b) => a.node.localeCompare(b.node)),
    results,
  );
});

test("check --live on a terminal: one task per node, whose title ends as its probe's result, ok or failed", async (t) => {
  const script = await which('script');
  if (!script) return t.skip('no script(1) to give the CLI a terminal');
  const { inv, db1Port, db2Port, served } = await bed;
  // script(1) runs the CLI on a pseudo-terminal (a wide one, so listr does not wrap the titles).
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.CI;
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = `stty cols 200 rows 50; ${[process.execPath, cliPath, 'check', '-i', inv, '--live', '--probe-timeout', '5'].map(quote).join(' ')}`;
  const r = await run(script, ['-qfec', cmd, '/dev/null'], { env, timeoutMs: 60_000 });
  assert.equal(r.code, 1, 'db2 cannot be reached');
  // eslint-disable-next-line no-control-regex
  const screen = r.stdout.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  const serial = served.serialNumber.toLowerCase();
  const last = (node: string) =>
    screen
      .split('\n')
      .filter((l) => new RegExp(` ${node} 127\\.0\\.0\\.1:`).test(l))
      .at(-1) ?? '';
  assert.match(
    last('db1'),
    new RegExp(`^✔ live ok +db1 127\\.0\\.0\\.1:${db1Port}  serial ${serial} TLSv1\\.[23]$`, 'i'),
    screen,
  );
  assert.match(last('db2'), new RegExp(`^✖ live UNREACHABLE +db2 127\\.0\\.0\\.1:${db2Port}  `), screen);
  assert.match(screen, /^live: 1 node\(s\) need attention$/m);
});
