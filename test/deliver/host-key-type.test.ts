// --accept-new adds keys of unknown hosts only. A known host offering a key of a type never seen for
// it (OpenSSH would call that "new" and add it beside the known one) is refused, naming the host, the
// offered type and the known ones; known_hosts is left as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/scope.js';
import { startSshd } from '../helpers/sshd.js';
import { writeInventory } from '../helpers/inventory.js';

const scope = fileScope();

test("--accept-new refuses a known host's key of a new type (named), and writes nothing to known_hosts", async (t) => {
  const server = await startSshd(scope, { users: ['root'] }); // offers ssh-ed25519
  const dir = await tempDir(t);
  const rsa = join(dir, 'other_rsa');
  assert.equal((await run('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', rsa])).code, 0);
  const knownHosts = join(dir, 'known_hosts');
  const known = `[127.0.0.1]:${server.port} ${(await readFile(`${rsa}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ')}\n`;
  await writeFile(knownHosts, known);
  const file = join(dir, 'payload.txt');
  await writeFile(file, 'x\n');
  const inv = await writeInventory(dir, {
    nodes: [
      {
        name: 'db1',
        host: '127.0.0.1',
        transport: 'ssh',
        dest: join(dir, 'remote'),
        ssh: { port: server.port, user: 'root', identityFile: server.clientKeyPath, knownHostsFile: knownHosts },
      },
    ],
  });
  const r = await dbtls(['push', '-i', inv, '--files', file, '--dest', join(dir, 'remote'), '--accept-new', '--json']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const err = JSON.parse(r.stdout).nodes[0].error;
  assert.equal(err.code, 'host-key-new-type');
  assert.ok(
    err.message.includes(`127.0.0.1:${server.port}`) &&
      err.message.includes('ssh-ed25519') &&
      err.message.includes('ssh-rsa') &&
      err.message.includes(server.hostKey.fingerprint),
    err.message,
  );
  assert.equal(await readFile(knownHosts, 'utf8'), known, 'known_hosts unchanged');
  await assert.rejects(readFile(join(dir, 'remote', 'payload.txt')), { code: 'ENOENT' });
});
