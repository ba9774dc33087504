// Encrypted identity files against real OpenSSH: keys made by `ssh-keygen -N` (ed25519 in OpenSSH
// format, RSA in the old PEM format), each the only key its sshd accepts. The passphrase comes from
// DBTLS_SSH_PASSPHRASE or --ssh-passphrase-file; a missing or wrong one fails that node alone, with an
// error naming the file, before any connection; the passphrase never appears in any output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { dbtls, run, type RunResult } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope, once } from '../helpers/scope.js';
import { startSshd, type ClientKey, type SshdServer } from '../helpers/sshd.js';

const scope = fileScope();
const T = { timeout: 120_000 };

// Characters a careless quoting would trip on, and a distinctive string to look for in the output.
const PASSPHRASE = `dbtls-Pass "phrase" $(x) 'q' ; 7`;
const WRONG = 'dbtls-wrong-passphrase-Q9';

async function encryptedKey(dir: string, type: 'ed25519' | 'rsa'): Promise<ClientKey> {
  const path = join(dir, `id_${type}_enc`);
  const args = type === 'rsa' ? ['-t', 'rsa', '-b', '2048', '-m', 'PEM'] : ['-t', 'ed25519'];
  const r = await run('ssh-keygen', ['-q', ...args, '-N', PASSPHRASE, '-C', `dbtls-enc-${type}`, '-f', path], {
    timeoutMs: 30_000,
  });
  assert.equal(r.code, 0, r.stderr);
  return { type, path, publicPath: `${path}.pub`, publicLine: (await readFile(`${path}.pub`, 'utf8')).trim() };
}

interface Lab {
  dir: string;
  inv: string;
  servers: SshdServer[];
  keys: ClientKey[];
}

/** db1: encrypted ed25519; db2: encrypted RSA (PEM); db3: a plain key. Issued and rendered once. */
const lab = once(async (): Promise<Lab> => {
  const dir = await mkdtemp(join(tmpdir(), 'dbtls-identity-'));
  scope.after(() => rm(dir, { recursive: true, force: true }));
  const keys = [await encryptedKey(dir, 'ed25519'), await encryptedKey(dir, 'rsa')];
  assert.match(await readFile(keys[0]!.path, 'utf8'), /BEGIN OPENSSH PRIVATE KEY/);
  assert.match(await readFile(keys[1]!.path, 'utf8'), /Proc-Type: 4,ENCRYPTED/);
  const servers = await Promise.all([
    startSshd(scope, { clientKey: keys[0]! }),
    startSshd(scope, { clientKey: keys[1]! }),
    startSshd(scope),
  ]);
  const kh = join(dir, 'known_hosts');
  await writeFile(kh, servers.map((s) => s.knownHostsLine()).join('\n') + '\n');
  const identity = [keys[0]!.path, keys[1]!.path, servers[2]!.clientKeyPath];
  const nodes = servers.map((s, i) => ({
    name: `db${i + 1}`,
    host: '127.0.0.1',
    roles: ['mariadb'],
    dest: join(dir, 'remote', `db${i + 1}`),
    ssh: { port: s.port, identityFile: identity[i] },
  }));
  const inv = join(dir, 'inventory.yml');
  await writeFile(
    inv,
    stringify({
      cluster: 'keys',
      pki: './pki',
      ca: { commonName: 'Keys Test CA' },
      ssh: { user: 'root', knownHostsFile: kh },
      nodes,
    }),
  );
  assert.equal((await dbtls(['issue', '-i', inv])).code, 0);
  assert.equal((await dbtls(['render', '-i', inv])).code, 0);
  return { dir, inv, servers, keys };
});

const outputs: RunResult[] = [];

async function push(l: Lab, opts: { env?: string; file?: string; json?: boolean } = {}) {
  const env = { ...process.env };
  delete env.SSH_AUTH_SOCK; // only the inventory's keys may log in
  delete env.DBTLS_SSH_PASSPHRASE;
  if (opts.env !== undefined) env.DBTLS_SSH_PASSPHRASE = opts.env;
  const json = opts.json ?? true;
  const args = [
    'push',
    '-i',
    l.inv,
    ...(json ? ['--json'] : []),
    ...(opts.file ? ['--ssh-passphrase-file', opts.file] : []),
    '--retries',
    '2',
    '--retry-delay',
    '0.05',
  ];
  const r = await dbtls(args, { timeoutMs: 60_000, env });
  outputs.push(r);
  return { ...r, report: json ? JSON.parse(r.stdout) : undefined };
}

const byNode = (report: { nodes: Array<{ node: string; ok: boolean; error?: { code: string; message: string } }> }) =>
  Object.fromEntries(report.nodes.map((n) => [n.node, n]));
const logins = async (s: SshdServer) => ((await s.log()).match(/Accepted publickey for root/g) ?? []).length;
const connections = async (s: SshdServer) => ((await s.log()).match(/Connection from /g) ?? []).length;

test(
  'encrypted keys (OpenSSH ed25519, PEM RSA) open with DBTLS_SSH_PASSPHRASE and with --ssh-passphrase-file',
  T,
  async (t) => {
    const l = await lab();
    const before = await Promise.all(l.servers.map(logins));
    const viaEnv = await push(l, { env: PASSPHRASE });
    assert.equal(viaEnv.code, 0, viaEnv.stdout + viaEnv.stderr);
    assert.ok(viaEnv.report.nodes.every((n: { ok: boolean; uploaded: string[] }) => n.ok && n.uploaded.length > 0));

    const file = join(await tempDir(t), 'passphrase');
    await writeFile(file, `${PASSPHRASE}\n`, { mode: 0o600 });
    const viaFile = await push(l, { file, json: false });
    assert.equal(viaFile.code, 0, viaFile.stdout + viaFile.stderr);
    assert.match(viaFile.stdout, /^3 nodes ok, 0 files uploaded$/m);
    // Each server accepts only its own key: two logins each means each encrypted key was decrypted and used.
    assert.deepEqual(
      (await Promise.all(l.servers.map(logins))).map((n, i) => n - before[i]!),
      [2, 2, 2],
    );
  },
);

test(
  'a missing passphrase fails the encrypted-key nodes alone, naming the file, without connecting or retrying',
  T,
  async () => {
    const l = await lab();
    const conns = await Promise.all(l.servers.map(connections));
    const r = await push(l);
    assert.equal(r.code, 1);
    const nodes = byNode(r.report);
    assert.equal(nodes.db3!.ok, true, 'the node with a plain key is unaffected');
    for (const [name, key] of [
      ['db1', l.keys[0]!],
      ['db2', l.keys[1]!],
    ] as const) {
      assert.equal(nodes[name]!.error!.code, 'ssh-identity-passphrase');
      assert.equal(
        nodes[name]!.error!.message,
        `${name}: identity file ${key.path} is encrypted and no passphrase was given: set DBTLS_SSH_PASSPHRASE or pass --ssh-passphrase-file`,
      );
    }
    const plain = await push(l, { json: false });
    assert.equal(plain.code, 1);
    assert.match(plain.stdout, /^db1: FAILED: db1: identity file .* is encrypted and no passphrase was given/m);
    assert.match(plain.stdout, /^db3: ok/m);
    assert.doesNotMatch(plain.stderr, /retrying/);
    const after = await Promise.all(l.servers.map(connections));
    assert.deepEqual(after.slice(0, 2), conns.slice(0, 2), 'the encrypted-key nodes were never contacted');
  },
);

test(
  'a wrong passphrase (environment or file) is a clear per-node error, exit 1, the other node delivered',
  T,
  async (t) => {
    const l = await lab();
    const file = join(await tempDir(t), 'wrong');
    await writeFile(file, `${WRONG}\n`);
    for (const r of [await push(l, { env: WRONG }), await push(l, { file })]) {
      assert.equal(r.code, 1);
      const nodes = byNode(r.report);
      assert.equal(nodes.db3!.ok, true);
      for (const [name, key] of [
        ['db1', l.keys[0]!],
        ['db2', l.keys[1]!],
      ] as const) {
        assert.equal(nodes[name]!.error!.code, 'ssh-identity-passphrase');
        assert.equal(
          nodes[name]!.error!.message,
          `${name}: the passphrase given (DBTLS_SSH_PASSPHRASE or --ssh-passphrase-file) does not decrypt identity file ${key.path}`,
        );
      }
    }
    // An empty passphrase file is a usage error, before anything is read or sent.
    const empty = join(await tempDir(t), 'empty');
    await writeFile(empty, '\n');
    const e = await push(l, { file: empty, json: false });
    assert.equal(e.code, 2);
    assert.match(e.stderr, /--ssh-passphrase-file .* is empty/);
  },
);

test("an identity file that is missing or not a private key is that node's error", T, async (t) => {
  const l = await lab();
  const dir = await tempDir(t);
  const inv = join(dir, 'inventory.yml');
  const kh = join(dir, 'known_hosts');
  await writeFile(kh, l.servers[2]!.knownHostsLine() + '\n');
  const nodes = [
    {
      name: 'gone',
      host: '127.0.0.1',
      roles: ['mariadb'],
      dest: join(dir, 'a'),
      ssh: { port: l.servers[2]!.port, identityFile: join(dir, 'no-such-key') },
    },
    {
      name: 'pub',
      host: '127.0.0.1',
      roles: ['mariadb'],
      dest: join(dir, 'b'),
      ssh: { port: l.servers[2]!.port, identityFile: l.keys[0]!.publicPath },
    },
    {
      name: 'fine',
      host: '127.0.0.1',
      roles: ['mariadb'],
      dest: join(dir, 'c'),
      ssh: { port: l.servers[2]!.port, identityFile: l.servers[2]!.clientKeyPath },
    },
  ];
  await writeFile(inv, stringify({ cluster: 'keys2', pki: './pki', ssh: { knownHostsFile: kh }, nodes }));
  const env = { ...process.env };
  delete env.SSH_AUTH_SOCK;
  const r = await dbtls(['push', '-i', inv, '--json', '--files', kh, '--dest', join(dir, 'out')], { env });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const report = byNode(JSON.parse(r.stdout));
  assert.deepEqual(report.gone!.error, {
    code: 'ssh-identity',
    message: `gone: cannot read identity file ${join(dir, 'no-such-key')}: no such file`,
  });
  assert.equal(report.pub!.error!.code, 'ssh-identity');
  assert.match(report.pub!.error!.message, /^pub: identity file .*\.pub (holds a public key|is not a private key)/);
  assert.equal(report.fine!.ok, true);
});

test('the passphrase appears in no output of any run above', () => {
  assert.ok(outputs.length >= 6);
  for (const r of outputs) {
    for (const secret of [PASSPHRASE, WRONG]) {
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `${secret} leaked: ${r.stdout}${r.stderr}`);
    }
  }
});
