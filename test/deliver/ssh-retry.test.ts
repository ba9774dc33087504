// Retries with backoff, on connection errors only, against real OpenSSH: a node whose sshd comes up
// only after the first attempt was refused is reached (and each retry reported on stderr); a hung
// sshd times out per --connect-timeout and is retried; authentication failures are never retried
// (sshd's own log counts the connections); the flags are checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { dbtls } from '../helpers/run.js';
import { cliPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/scope.js';
import { createClientKey, startSshd, type SshdServer } from '../helpers/sshd.js';

const scope = fileScope();
const T = { timeout: 120_000 };

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SSH_AUTH_SOCK; // only the inventory's keys may log in
  return env;
}

interface NodeDoc {
  name: string;
  port: number;
  user?: string;
  identityFile: string;
}

/** An inventory of NODES on 127.0.0.1 and a known_hosts with SERVERS; files to push with --files. */
async function setup(dir: string, nodes: NodeDoc[], servers: SshdServer[]) {
  const kh = join(dir, 'known_hosts');
  await writeFile(kh, servers.map((s) => s.knownHostsLine()).join('\n') + '\n');
  const inv = join(dir, 'inventory.yml');
  const doc = nodes.map((n) => ({
    name: n.name,
    host: '127.0.0.1',
    roles: ['mariadb'],
    ssh: { port: n.port, user: n.user ?? 'root', identityFile: n.identityFile },
  }));
  await writeFile(inv, stringify({ cluster: 'retry', pki: './pki', ssh: { knownHostsFile: kh }, nodes: doc }));
  const payload = join(dir, 'payload.txt');
  await writeFile(payload, 'delivered\n');
  return { inv, files: ['--files', payload, '--dest', join(dir, 'remote')] };
}

const connections = async (s: SshdServer) => ((await s.log()).match(/Connection from /g) ?? []).length;
const retryLines = (stderr: string) => stderr.split('\n').filter((l) => /; retrying in /.test(l));

test(
  'a node whose sshd starts only after the first attempt was refused is reached; the retry is reported',
  T,
  async (t) => {
    const dir = await tempDir(t);
    const server = await startSshd(scope);
    const { inv, files } = await setup(
      dir,
      [{ name: 'late', port: server.port, identityFile: server.clientKeyPath }],
      [server],
    );
    await server.stop(); // its port and host key are kept for restart()

    const child = spawn(
      process.execPath,
      [cliPath, 'push', '-i', inv, ...files, '--retries', '6', '--retry-delay', '0.2'],
      { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    t.after(() => {
      clearTimeout(killer);
      child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const firstRetry = new Promise<void>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (/retrying/.test(stderr)) resolve();
      });
      child.once('close', () => reject(new Error(`push ended before any retry: ${stdout}${stderr}`)));
    });
    const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    await firstRetry;
    await server.restart();
    const code = await exit;
    assert.equal(code, 0, stdout + stderr);
    const lines = retryLines(stderr);
    assert.ok(lines.length >= 1);
    assert.equal(
      lines[0],
      `late: attempt 1 of 7 failed (connect ECONNREFUSED 127.0.0.1:${server.port}); retrying in 200 ms`,
    );
    assert.match(stdout, /^late: ok, 1 uploaded/m);
    assert.equal(await readFile(join(dir, 'remote', 'payload.txt'), 'utf8'), 'delivered\n');
  },
);

test(
  'authentication failures (a user sshd refuses, a key it does not know) are not retried: one connection each',
  T,
  async (t) => {
    const dir = await tempDir(t);
    const [target, control] = await Promise.all([startSshd(scope), startSshd(scope)]);
    const stranger = await createClientKey(scope);
    const { inv, files } = await setup(
      dir,
      [
        { name: 'wronguser', port: target.port, user: 'nobody', identityFile: target.clientKeyPath },
        { name: 'wrongkey', port: target.port, identityFile: stranger.path },
        { name: 'fine', port: control.port, identityFile: control.clientKeyPath },
      ],
      [target, control],
    );
    const before = await connections(target);
    const r = await dbtls(
      ['push', '-i', inv, ...files, '--retries', '3', '--retry-delay', '0.05', '--concurrency', '1'],
      { env: cleanEnv() },
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual(retryLines(r.stderr), []);
    assert.match(
      r.stdout,
      new RegExp(`^wronguser: FAILED: wronguser: nobody@127\\.0\\.0\\.1:${target.port} refused every key`, 'm'),
    );
    assert.match(
      r.stdout,
      new RegExp(`^wrongkey: FAILED: wrongkey: root@127\\.0\\.0\\.1:${target.port} refused every key`, 'm'),
    );
    assert.match(r.stdout, /^fine: ok, 1 uploaded/m);
    assert.equal((await connections(target)) - before, 2, "sshd's log: one connection per failing node");
  },
);

test(
  '--connect-timeout: a server that accepts but never answers times out, is retried, then fails alone',
  T,
  async (t) => {
    const dir = await tempDir(t);
    const [hung, fine] = await Promise.all([startSshd(scope), startSshd(scope)]);
    const { inv, files } = await setup(
      dir,
      [
        { name: 'hung', port: hung.port, identityFile: hung.clientKeyPath },
        { name: 'fine', port: fine.port, identityFile: fine.clientKeyPath },
      ],
      [hung, fine],
    );
    hung.kill('SIGSTOP'); // the kernel still completes TCP handshakes; no SSH banner comes
    t.after(() => hung.kill('SIGCONT'));
    const started = Date.now();
    const r = await dbtls(
      ['push', '-i', inv, ...files, '--connect-timeout', '0.5', '--retries', '1', '--retry-delay', '0.05'],
      { env: cleanEnv() },
    );
    const elapsed = Date.now() - started;
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual(retryLines(r.stderr), [
      'hung: attempt 1 of 2 failed (Timed out while waiting for handshake); retrying in 50 ms',
    ]);
    assert.match(
      r.stdout,
      /^hung: FAILED: hung: cannot connect to 127\.0\.0\.1:\d+: Timed out while waiting for handshake \(2 attempts\)$/m,
    );
    assert.match(r.stdout, /^fine: ok/m);
    assert.ok(elapsed >= 1_000 && elapsed < 15_000, `two 0.5 s timeouts, not the default 15 s: ${elapsed} ms`);

    // With --json, no retry lines: the report is the output.
    const j = await dbtls(
      [
        'push',
        '-i',
        inv,
        ...files,
        '--json',
        '--node',
        'hung',
        '--connect-timeout',
        '0.3',
        '--retries',
        '1',
        '--retry-delay',
        '0.05',
      ],
      { env: cleanEnv() },
    );
    assert.equal(j.code, 1);
    assert.deepEqual(retryLines(j.stderr), []);
    assert.equal(JSON.parse(j.stdout).nodes[0].error.code, 'ssh-connect');
  },
);

test('bad --connect-timeout, --retries and --retry-delay values are usage errors (exit 2)', T, async (t) => {
  const dir = await tempDir(t);
  const { inv } = await setup(dir, [{ name: 'n', port: 22, identityFile: join(dir, 'k') }], []);
  const cases: Array<[string[], RegExp]> = [
    [
      ['--retries', '-1'],
      /^error: option '--retries <n>' argument '-1' is invalid\. It must be a whole number from 0 to 100\.$/m,
    ],
    [['--retries', 'many'], /option '--retries <n>' argument 'many' is invalid\. It must be a whole number/],
    [
      ['--retries', '1000'],
      /option '--retries <n>' argument '1000' is invalid\. It must be a whole number from 0 to 100/,
    ],
    [
      ['--connect-timeout', '0'],
      /option '--connect-timeout <seconds>' argument '0' is invalid\. It must be a number of seconds above 0/,
    ],
    [
      ['--connect-timeout', '5s'],
      /option '--connect-timeout <seconds>' argument '5s' is invalid\. It must be a number of seconds/,
    ],
    [
      ['--retry-delay', 'soon'],
      /option '--retry-delay <seconds>' argument 'soon' is invalid\. It must be a number of seconds/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await dbtls(['push', '-i', inv, ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
  const apply = await dbtls(['apply', '-i', inv, '--retries', 'x']);
  assert.equal(apply.code, 2);
  assert.match(apply.stderr, /option '--retries <n>' argument 'x' is invalid\. It must be a whole number/);
});
