// After a failed reload the node gets its previous files back (byte for byte; files that were new are
// removed) and the run says so; --no-rollback leaves the new ones. The reload's stderr reaches the
// terminal sanitized. Over the local transport and over a real sshd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/scope.js';
import { startSshd } from '../helpers/sshd.js';
import { writeInventory, type TestNode } from '../helpers/inventory.js';

const scope = fileScope();

/** name → bytes of every file in the folder and below, backups and temporary files left out. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || /\.dbtls-(bak|tmp)/.test(e.name)) continue;
    const path = join(e.parentPath, e.name);
    out.set(path.slice(dir.length), (await readFile(path)).toString('base64'));
  }
  return out;
}

// A reload that fails loudly, with escapes and a forged line in its stderr.
const FAILING = String.raw`printf '\033[2J\033]0;pwned\007boom\nFAKE: all nodes ok\n' >&2; exit 3`;

for (const transport of ['local', 'ssh'] as const) {
  test(`${transport}: a failed reload puts the previous files back byte for byte and says so; --no-rollback keeps the new ones`, async (t) => {
    const dir = await tempDir(t);
    const root = join(dir, 'nodes');
    let node: TestNode = { name: 'db1', host: '10.0.0.11', roles: ['mariadb'] };
    let dest = join(root, 'db1/etc/mysql/ssl');
    if (transport === 'ssh') {
      const server = await startSshd(scope, { users: ['root'] });
      const knownHosts = join(dir, 'known_hosts');
      await writeFile(knownHosts, server.knownHostsLine() + '\n');
      dest = join(dir, 'remote', 'db1');
      node = {
        ...node,
        host: '127.0.0.1',
        transport: 'ssh',
        dest,
        ssh: { port: server.port, user: 'root', identityFile: server.clientKeyPath, knownHostsFile: knownHosts },
      };
    }
    const inv = await writeInventory(dir, { nodes: [{ ...node, reload: FAILING }] });
    const first = await dbtls(['apply', '-i', inv, '--local-root', root, '--reload', 'never']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    // One file was not there before this push: rollback must remove it again.
    await rm(join(dest, 'ca.pem'));
    const before = await snapshot(dest);
    assert.equal((await dbtls(['issue', '-i', inv, '--force'])).code, 0);

    const r = await dbtls(['push', '-i', inv, '--local-root', root, '--reload', 'changed'], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /db1: rolled back [1-9]\d* files/);
    assert.deepEqual(await snapshot(dest), before, 'the node is as it was before the push');
    await assert.rejects(readFile(join(dest, 'ca.pem')), { code: 'ENOENT' }, 'the new file is removed');
    // The node's stderr arrives as one plain line: no escape reaches the terminal, no forged line.
    assert.ok(!r.stdout.includes('\u001b') && !r.stderr.includes('\u001b'), JSON.stringify(r.stdout));
    assert.ok(!/^FAKE/m.test(r.stdout), r.stdout);
    assert.match(r.stdout, /boom FAKE: all nodes ok/);

    const json = await dbtls(['push', '-i', inv, '--local-root', root, '--reload', 'changed', '--json']);
    assert.equal(json.code, 1);
    const n = JSON.parse(json.stdout).nodes[0];
    assert.deepEqual(n.rolledBack, n.uploaded, 'every uploaded file is put back');
    assert.ok(n.rolledBack.includes(`${transport === 'ssh' ? dest : '/etc/mysql/ssl'}/ca.pem`));
    assert.match(n.error.message, /rolled back/);
    assert.deepEqual(await snapshot(dest), before);

    const kept = await dbtls([
      'push',
      '-i',
      inv,
      '--local-root',
      root,
      '--reload',
      'changed',
      '--no-rollback',
      '--json',
    ]);
    assert.equal(kept.code, 1);
    assert.equal(JSON.parse(kept.stdout).nodes[0].rolledBack, undefined);
    assert.notDeepEqual(await snapshot(dest), before, '--no-rollback leaves the new files');
    assert.equal(
      await readFile(join(dest, 'server-key.pem'), 'utf8'),
      await readFile(join(dir, 'pki/nodes/db1/server-key.pem'), 'utf8'),
    );
  });
}

test('reload commands see none of the secrets dbtls holds in its environment (apply over local, and over ssh)', async (t) => {
  const server = await startSshd(scope, { users: ['root'] });
  const dir = await tempDir(t);
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, server.knownHostsLine() + '\n');
  const root = join(dir, 'nodes');
  const inv = await writeInventory(dir, {
    nodes: [
      { name: 'db1', host: '10.0.0.11', roles: ['mariadb'], reload: `env > ${join(dir, 'env-local')}` },
      {
        name: 'db2',
        host: '127.0.0.1',
        roles: ['mariadb'],
        transport: 'ssh',
        dest: join(dir, 'remote'),
        reload: `env > ${join(dir, 'env-ssh')}`,
        ssh: { port: server.port, user: 'root', identityFile: server.clientKeyPath, knownHostsFile: knownHosts },
      },
    ],
  });
  const secrets = {
    DBTLS_CA_PASSPHRASE: 'ca-Secret-7781',
    DBTLS_SSH_PASSPHRASE: 'ssh-Secret-7782',
    DBTLS_STOREPASS: 'store-Secret-7783',
  };
  const r = await dbtls(['apply', '-i', inv, '--local-root', root, '--reload', 'always', '--json'], {
    env: { ...process.env, ...secrets },
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const f of ['env-local', 'env-ssh']) {
    const env = await readFile(join(dir, f), 'utf8');
    assert.match(env, /^PATH=/m, `${f} is an environment dump`);
    for (const [k, v] of Object.entries(secrets)) {
      assert.ok(!env.includes(v), `${f} holds ${k}'s value`);
      assert.ok(!env.includes(k), `${f} names ${k}`);
    }
  }
});
