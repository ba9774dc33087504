// `dbtls push` over SSH to real OpenSSH sshd instances on 127.0.0.1: delivery, idempotency, host-key
// discipline, a node that is down, a wrong user, a connection killed in the middle of an upload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile, mkdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope, once } from '../helpers/scope.js';
import { startSshdFleet, type SshdServer } from '../helpers/sshd.js';
import { writeInventory, type TestNode } from '../helpers/inventory.js';

const scope = fileScope();
const fleet = once(() => startSshdFleet(scope, 6));

interface Setup {
  dir: string;
  inv: string;
  knownHosts: string;
  servers: SshdServer[];
  nodes: TestNode[];
}

/** Six mariadb nodes, each one sshd on 127.0.0.1 and its own dest folder (they share this machine). */
async function setup(t: Parameters<typeof tempDir>[0], opts: { known?: boolean } = {}): Promise<Setup> {
  const servers = await fleet();
  const dir = await tempDir(t);
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, opts.known === false ? '' : servers.map((s) => s.knownHostsLine()).join('\n') + '\n');
  const nodes: TestNode[] = servers.map((s, i) => ({
    name: `db${i + 1}`,
    host: '127.0.0.1',
    roles: ['mariadb'],
    dest: join(dir, 'remote', `db${i + 1}`, 'ssl'),
    transport: 'ssh',
    ssh: { port: s.port, user: 'root', identityFile: s.clientKeyPath, knownHostsFile: knownHosts },
  }));
  const inv = await writeInventory(dir, { nodes, clients: ['app'] });
  return { dir, inv, knownHosts, servers, nodes };
}

async function push(inv: string, extra: string[] = []) {
  const r = await dbtls(['push', '-i', inv, '--json', ...extra], { timeoutMs: 120_000 });
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : undefined };
}

async function prepare(s: Setup): Promise<void> {
  assert.equal((await dbtls(['issue', '-i', s.inv])).code, 0);
  assert.equal((await dbtls(['render', '-i', s.inv])).code, 0);
}

test('six nodes over SSH: delivered, modes kept; a second push uploads nothing; one re-issued node is the only upload, with a backup', async (t) => {
  const s = await setup(t);
  await prepare(s);
  const first = await push(s.inv);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(first.report.nodes.length, 6);
  for (const n of s.nodes) {
    const files = (await readdir(n.dest!)).sort();
    assert.deepEqual(
      files,
      ['ca.pem', 'client-cert.pem', 'client-key.pem', 'dbtls', 'server-cert.pem', 'server-key.pem'],
      n.name,
    );
    assert.equal(
      await readFile(join(n.dest!, 'server-cert.pem'), 'utf8'),
      await readFile(join(s.dir, 'pki/nodes', n.name, 'server-cert.pem'), 'utf8'),
    );
    assert.equal((await stat(join(n.dest!, 'server-key.pem'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(n.dest!, 'ca.pem'))).mode & 0o777, 0o644);
  }
  const second = await push(s.inv);
  assert.equal(second.report.changed, false);
  assert.ok(
    second.report.nodes.every(
      (n: { uploaded: string[]; unchanged: string[] }) => n.uploaded.length === 0 && n.unchanged.length === 8,
    ),
  );

  const changed = structuredClone(s.nodes);
  changed[2]!.sans = ['db3.example.com'];
  await writeInventory(s.dir, { nodes: changed, clients: ['app'] });
  await prepare(s);
  const third = await push(s.inv);
  const uploads = Object.fromEntries(
    third.report.nodes.map((n: { node: string; uploaded: string[] }) => [
      n.node,
      n.uploaded.map((p: string) => p.split('/').pop()).sort(),
    ]),
  );
  assert.deepEqual(uploads.db3, ['server-cert.pem', 'server-key.pem']);
  for (const other of ['db1', 'db2', 'db4', 'db5', 'db6']) assert.deepEqual(uploads[other], [], other);
  assert.equal((await readdir(s.nodes[2]!.dest!)).filter((n) => n.startsWith('server-key.pem.dbtls-bak-')).length, 1);
});

test('host keys: unknown refused without --accept-new, added with it; a changed key is always refused with both fingerprints', async (t) => {
  const s = await setup(t, { known: false });
  await prepare(s);
  const strict = await push(s.inv, ['--node', 'db1']);
  assert.equal(strict.code, 1);
  assert.equal(strict.report.nodes[0].error.code, 'host-key-unknown');
  assert.match(
    strict.report.nodes[0].error.message,
    new RegExp(s.servers[0]!.hostKey.fingerprint.replace(/[+/]/g, '\\$&')),
  );
  const accepted = await push(s.inv, ['--node', 'db1', '--accept-new']);
  assert.equal(accepted.code, 0, accepted.stdout);
  assert.match(accepted.stderr, /db1: added its host key SHA256:/);
  assert.match(
    await readFile(s.knownHosts, 'utf8'),
    new RegExp(`\\[127\\.0\\.0\\.1\\]:${s.servers[0]!.port} ssh-ed25519 `),
  );

  const server = s.servers[0]!;
  const old = server.hostKey.fingerprint;
  await server.rotateHostKey();
  try {
    const changed = await push(s.inv, ['--node', 'db1', '--accept-new']);
    assert.equal(changed.code, 1);
    const err = changed.report.nodes[0].error;
    assert.equal(err.code, 'host-key-changed');
    assert.ok(err.message.includes(old) && err.message.includes(server.hostKey.fingerprint), err.message);
  } finally {
    // Later tests expect the fleet's keys in their known_hosts: they read hostKey fresh, so nothing to undo.
  }
});

test('a node that is down fails alone (exit 1, named); after it is back a rerun converges; a wrong user is an auth error for that node only', async (t) => {
  const s = await setup(t);
  await prepare(s);
  const down = s.servers[3]!;
  await down.stop();
  try {
    const r = await push(s.inv);
    assert.equal(r.code, 1);
    assert.deepEqual(r.report.failed, ['db4']);
    assert.equal(r.report.nodes.filter((n: { ok: boolean }) => n.ok).length, 5);
    assert.equal(r.report.nodes.find((n: { node: string }) => n.node === 'db4').error.code, 'ssh-connect');
  } finally {
    await down.restart();
  }
  const again = await push(s.inv);
  assert.equal(again.code, 0, again.stdout);
  assert.ok(again.report.nodes.find((n: { node: string }) => n.node === 'db4').uploaded.length > 0);

  const wrong = structuredClone(s.nodes);
  wrong[1]!.ssh!.user = 'nobody';
  await writeInventory(s.dir, { nodes: wrong, clients: ['app'] });
  const auth = await push(s.inv);
  assert.equal(auth.code, 1);
  assert.deepEqual(auth.report.failed, ['db2']);
  assert.equal(auth.report.nodes.find((n: { node: string }) => n.node === 'db2').error.code, 'ssh-auth');
});

test('a connection killed in the middle of an upload leaves the whole old file or the whole new one; the next push sweeps the stale temporary file', async (t) => {
  const s = await setup(t);
  const server = s.servers[4]!;
  const src = join(s.dir, 'src');
  await mkdir(src);
  const dest = join(s.dir, 'remote', 'big');
  const size = 64 << 20;
  const oldData = Buffer.alloc(size, 'o');
  const newData = Buffer.alloc(size, 'n');
  await writeFile(join(src, 'big.bin'), oldData);
  const only = ['--node', 'db5', '--files', join(src, 'big.bin'), '--dest', dest];
  assert.equal((await push(s.inv, only)).code, 0);
  await writeFile(join(src, 'big.bin'), newData);

  // Wait (bounded) until the new file is half-way in its temporary name, then cut the connection.
  const running = push(s.inv, only);
  let partial = 0;
  for (let i = 0; i < 1000 && partial === 0; i++) {
    for (const name of await readdir(dest)) {
      if (!name.endsWith('.dbtls-tmp')) continue;
      const st = await stat(join(dest, name)).catch(() => undefined);
      if (st && st.size > 0 && st.size < size) partial = st.size;
    }
    if (partial === 0) await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(partial > 0, 'the upload was never seen in flight');
  const killed = await server.killSessions();
  assert.ok(killed.length > 0);
  const r = await running;
  assert.equal(r.code, 1, 'the cut upload is reported as a failure');
  assert.ok((await readFile(join(dest, 'big.bin'))).equals(oldData), 'the old file is whole and untouched');

  // The cut left its temporary file. Aged past the point where a concurrent run could still be
  // writing it, the next push removes it; a fresh one (someone else's, in flight) is left alone.
  const temps = async () => (await readdir(dest)).filter((n) => n.endsWith('.dbtls-tmp')).sort();
  const leftover = await temps();
  assert.equal(leftover.length, 1, `one temporary file left by the cut: ${leftover}`);
  const hourAgo = new Date(Date.now() - 3600_000);
  await utimes(join(dest, leftover[0]!), hourAgo, hourAgo);
  const inFlight = '.other.pem.0123456789ab.dbtls-tmp';
  await writeFile(join(dest, inFlight), 'x');

  const fin = await push(s.inv, only);
  assert.equal(fin.code, 0, fin.stdout);
  assert.ok((await readFile(join(dest, 'big.bin'))).equals(newData), 'the next push completes it');
  assert.deepEqual(await temps(), [inFlight], 'the stale temporary file is gone, the fresh one kept');
});
