// The sshd harness itself, checked with ssh2 and with the real OpenSSH client: logins as root and as a
// created user, SFTP, sudo, a session cut while the listener lives on, host key rotation, stop/restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { opensshArgs, startSshd, startSshdFleet, type SshdServer } from '../helpers/sshd.js';
import { allowSudo, sudoersFile } from '../helpers/sudoers.js';
import { createTestUser } from '../helpers/unix-users.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope, once } from '../helpers/scope.js';

const scope = fileScope();
const USER = 'dbtls-sshh'; // unique to this file: files run in parallel
const T = { timeout: 60_000 };

let startMs = 0;
const fleet = once(async () => {
  const t0 = performance.now();
  const servers = await startSshdFleet(scope, 2, { users: ['root', USER] });
  startMs = performance.now() - t0;
  return servers;
});
const user = once(async () => {
  const u = await createTestUser(scope, USER);
  await allowSudo(scope, u);
  return u;
});

interface Login {
  username?: string;
  /** The blob the verifier accepts (default: the server's current host key). */
  blob?: Buffer;
  readyTimeout?: number;
}

// An ssh2 connection that accepts only the expected host key blob.
function sshConnect(s: SshdServer, login: Login = {}): Promise<Client> {
  const blob = login.blob ?? s.hostKey.blob;
  const cfg: ConnectConfig = {
    host: s.host,
    port: s.port,
    username: login.username ?? 'root',
    privateKey: readFileSync(s.clientKeyPath),
    hostVerifier: (key: Buffer) => key.equals(blob),
    readyTimeout: login.readyTimeout ?? 10_000,
  };
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => resolve(c));
    c.once('error', (e) => {
      // ssh2 may report more than one error for a failed attempt (a timeout, then the lost socket).
      c.on('error', () => undefined);
      c.end();
      reject(e);
    });
    c.connect(cfg);
  });
}

function exec(c: Client, cmd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    c.exec(cmd, (err, ch) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      ch.on('data', (d: Buffer) => (stdout += d.toString()));
      ch.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      ch.on('close', (code: number | null) => resolve({ code, stdout, stderr }));
    });
  });
}

function sftp(c: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => c.sftp((err, s) => (err ? reject(err) : resolve(s))));
}

async function withClient<R>(s: SshdServer, login: Login, fn: (c: Client) => Promise<R>): Promise<R> {
  const c = await sshConnect(s, login);
  try {
    return await fn(c);
  } finally {
    c.end();
  }
}

// The real OpenSSH client, with nothing from the machine's or root's ssh configuration.
function opensshTrue(s: SshdServer, knownHosts: string, extra: string[] = []) {
  return run('ssh', [...opensshArgs(s, s.clientKeyPath, knownHosts, extra), 'true'], { timeoutMs: 20_000 });
}

function portAcceptsTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

test('two servers start on their own ports and host keys, sharing one client key', T, async (t) => {
  const [a, b] = await fleet();
  t.diagnostic(`2 servers started in parallel in ${startMs.toFixed(0)} ms`);
  assert.ok(a && b);
  assert.notEqual(a.port, b.port);
  assert.notEqual(a.pid, b.pid);
  assert.equal(a.clientKeyPath, b.clientKeyPath);
  assert.ok(!a.hostKey.blob.equals(b.hostKey.blob));
  assert.equal(a.hostKey.type, 'ssh-ed25519');
  // The fingerprint the harness computes is the one OpenSSH prints.
  const fp = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${a.hostKey.path}.pub`]);
  assert.equal(fp.code, 0, fp.stderr);
  assert.equal(fp.stdout.split(' ')[1], a.hostKey.fingerprint);
  assert.match(a.knownHostsLine(), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${a.port} ssh-ed25519 AAAA`));
});

test('ssh2: root runs a command, with the host key checked', T, async () => {
  for (const s of await fleet()) {
    const r = await withClient(s, {}, (c) => exec(c, 'id -un'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'root');
  }
});

test('ssh2: a different host key is refused by the verifier', T, async () => {
  const [a, b] = await fleet();
  await assert.rejects(sshConnect(a!, { blob: b!.hostKey.blob }), /verification failed/i);
});

test('ssh2: SFTP writes and reads back a file', T, async (t) => {
  const [a] = await fleet();
  const dir = await tempDir(t, 'dbtls-sftp-');
  const file = join(dir, 'hello.pem');
  const body = Buffer.from(`-----BEGIN TEST-----\n${'x'.repeat(5000)}\n-----END TEST-----\n`);
  const back = await withClient(a!, {}, async (c) => {
    const s = await sftp(c);
    await new Promise<void>((res, rej) => s.writeFile(file, body, { mode: 0o640 }, (e) => (e ? rej(e) : res())));
    return new Promise<Buffer>((res, rej) => s.readFile(file, (e, d) => (e ? rej(e) : res(d))));
  });
  assert.ok(back.equals(body));
  assert.ok(readFileSync(file).equals(body));
});

test('a created user logs in, and sudo -n makes it root', T, async () => {
  const u = await user();
  assert.match(readFileSync(sudoersFile(USER), 'utf8'), new RegExp(`^${USER} ALL=\\(ALL\\) NOPASSWD: ALL$`, 'm'));
  const [a] = await fleet();
  const r = await withClient(a!, { username: USER }, async (c) => ({
    who: await exec(c, 'id -un; pwd'),
    sudo: await exec(c, 'sudo -n id -un'),
  }));
  assert.equal(r.who.code, 0, r.who.stderr);
  assert.deepEqual(r.who.stdout.trim().split('\n'), [USER, u.home]);
  assert.equal(r.sudo.code, 0, r.sudo.stderr);
  assert.equal(r.sudo.stdout.trim(), 'root');
});

test('a user not in AllowUsers is refused', T, async () => {
  await user();
  const s = await startSshd(scope); // root only
  await assert.rejects(sshConnect(s, { username: USER }), /authentication methods failed/i);
  assert.match(
    await s.log(),
    new RegExp(`User ${USER} from 127\\.0\\.0\\.1 not allowed because not listed in AllowUsers`),
  );
});

test('killSessions cuts an open connection mid-upload; the listener keeps serving', T, async (t) => {
  const [a] = await fleet();
  const dir = await tempDir(t, 'dbtls-cut-');
  const c = await sshConnect(a!);
  let cutAt = 0;
  const closed = new Promise<number>((resolve) => c.once('close', () => resolve(performance.now() - cutAt)));
  c.on('error', () => undefined); // ECONNRESET is expected here
  const s = await sftp(c);
  // Start an upload that never ends by itself: write, wait for 'drain', write again, until cut.
  const ws = s.createWriteStream(join(dir, 'big.bin'));
  ws.on('error', () => undefined);
  const chunk = Buffer.alloc(64 * 1024, 7);
  let written = 0;
  let pumping = true;
  const pump = (): void => {
    while (pumping && !ws.destroyed) {
      written += chunk.length;
      if (!ws.write(chunk)) return void ws.once('drain', pump);
    }
  };
  pump();
  try {
    const deadline = Date.now() + 10_000;
    while (written < 256 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(written >= 256 * 1024, 'the upload did not get going');
    assert.ok(a!.sessionPids().length >= 1, 'the open connection has a session process');
    const listener = a!.pid;
    cutAt = performance.now();
    const killed = await a!.killSessions();
    assert.ok(killed.length >= 1);
    assert.ok(!killed.includes(listener));
    const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 5_000).unref())]);
    t.diagnostic(
      `${(written / 1048576).toFixed(1)} MiB queued; client saw 'close' ${ms.toFixed(0)} ms after the cut started`,
    );
    assert.ok(ms >= 0, 'ssh2 client did not close within 5 s');
    assert.ok(a!.running);
    assert.equal(a!.pid, listener);
    assert.deepEqual(a!.sessionPids(), []);
  } finally {
    pumping = false;
    ws.destroy();
    c.end();
  }
  const r = await withClient(a!, {}, (c2) => exec(c2, 'echo again'));
  assert.equal(r.stdout.trim(), 'again');
});

test('the real OpenSSH client logs in with plain and hashed known_hosts, and refuses others', T, async (t) => {
  const [a, b] = await fleet();
  const dir = await tempDir(t, 'dbtls-kh-');
  const plain = join(dir, 'plain');
  await writeFile(plain, `${a!.knownHostsLine()}\n`);
  const ok = await opensshTrue(a!, plain);
  assert.equal(ok.code, 0, ok.stderr);

  const hashed = join(dir, 'hashed');
  const line = a!.knownHostsLine('127.0.0.1', { hashed: true });
  assert.match(line, /^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
  await writeFile(hashed, `${line}\n`);
  const okHashed = await opensshTrue(a!, hashed);
  assert.equal(okHashed.code, 0, okHashed.stderr);

  // b's key listed for a's address: a changed host key.
  const wrong = join(dir, 'wrong');
  await writeFile(wrong, `[127.0.0.1]:${a!.port} ${b!.hostKey.publicLine}\n`);
  const refused = await opensshTrue(a!, wrong);
  assert.equal(refused.code, 255);
  assert.match(refused.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);

  const revoked = join(dir, 'revoked');
  await writeFile(revoked, `${a!.knownHostsLine('127.0.0.1', { marker: '@revoked' })}\n${a!.knownHostsLine()}\n`);
  const rev = await opensshTrue(a!, revoked);
  assert.equal(rev.code, 255);
  assert.match(rev.stderr, /REVOKED/);
});

test('an RSA host key works with ssh2 and ssh', T, async (t) => {
  const s = await startSshd(scope, { hostKeyType: 'rsa' });
  assert.equal(s.hostKey.type, 'ssh-rsa');
  const r = await withClient(s, {}, (c) => exec(c, 'id -un'));
  assert.equal(r.stdout.trim(), 'root');
  const kh = join(await tempDir(t, 'dbtls-kh-'), 'known_hosts');
  await writeFile(kh, `${s.knownHostsLine()}\n`);
  const ok = await opensshTrue(s, kh);
  assert.equal(ok.code, 0, ok.stderr);
});

test('rotateHostKey: same port, new key; the old key no longer verifies', T, async () => {
  const [, b] = await fleet();
  const before = b!.hostKey;
  const port = b!.port;
  const t0 = performance.now();
  const after = await b!.rotateHostKey();
  const ms = performance.now() - t0;
  assert.ok(ms < 5_000, `rotation took ${ms} ms`);
  assert.equal(b!.port, port);
  assert.ok(!after.blob.equals(before.blob));
  assert.notEqual(after.fingerprint, before.fingerprint);
  assert.ok(b!.hostKey.blob.equals(after.blob));
  await assert.rejects(sshConnect(b!, { blob: before.blob }), /verification failed/i);
  const r = await withClient(b!, {}, (c) => exec(c, 'true; echo ok'));
  assert.equal(r.stdout.trim(), 'ok');
});

test('stop frees the port (and kills its sessions); restart comes back on it with the same key', T, async () => {
  const [, b] = await fleet();
  const port = b!.port;
  const blob = b!.hostKey.blob;
  const open = await sshConnect(b!);
  const closed = new Promise<void>((r) => open.once('close', () => r()));
  open.on('error', () => undefined);
  const oldPid = b!.pid;
  await b!.stop();
  assert.equal(b!.running, false);
  await closed; // the session died with the server
  assert.equal(await portAcceptsTcp(port), false);
  assert.equal(await canBind(port), true);
  await b!.stop(); // twice is fine

  await b!.restart();
  assert.equal(b!.port, port);
  assert.notEqual(b!.pid, oldPid);
  assert.ok(b!.hostKey.blob.equals(blob));
  const r = await withClient(b!, {}, (c) => exec(c, 'id -un'));
  assert.equal(r.stdout.trim(), 'root');
  await b!.stop();
  assert.equal(await canBind(port), true);
});

test('kill: SIGSTOP makes the node hang, SIGKILL makes it crash; stop still cleans up', T, async () => {
  const s = await startSshd(scope);
  s.kill('SIGSTOP');
  const t0 = performance.now();
  await assert.rejects(sshConnect(s, { readyTimeout: 1_000 }), /timed out/i);
  assert.ok(performance.now() - t0 < 3_000);
  s.kill('SIGCONT');
  const open = await sshConnect(s);
  const closed = new Promise<void>((r) => open.once('close', () => r()));
  open.on('error', () => undefined);
  s.kill('SIGKILL'); // the listener dies; like a real sshd, its session lives on
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(s.running, false);
  assert.equal(await portAcceptsTcp(s.port), false);
  const r = await exec(open, 'echo still');
  assert.equal(r.stdout.trim(), 'still');
  await s.stop(); // …until stop() takes the orphaned session down
  await closed;
  await s.restart();
  const again = await withClient(s, {}, (c) => exec(c, 'id -un'));
  assert.equal(again.stdout.trim(), 'root');
});

test('createTestUser refuses names that are not test names', T, async () => {
  await assert.rejects(createTestUser(scope, 'root'), /must match/);
  await assert.rejects(allowSudo(scope, 'nobody'), /must match/);
});
