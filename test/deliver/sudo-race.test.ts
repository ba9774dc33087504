// `become: sudo` into a folder the file owner can write: root stages each file in its own private
// folder and follows no name that user can swap. A user racing every temporary name it sees (and the
// final names) with symbolic links to a root-owned file outside never gets that file chowned,
// chmodded or overwritten, and never leaves a node with a mixed pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/scope.js';
import { startSshd } from '../helpers/sshd.js';
import { allowSudo } from '../helpers/sudoers.js';
import { createTestUser } from '../helpers/unix-users.js';
import { writeInventory } from '../helpers/inventory.js';

const scope = fileScope();

/**
 * As `user`, until told to stop (SIGTERM) or for `seconds` at most: every temporary entry in `dir` is
 * moved aside and replaced by a link to `target`. Prints how many rounds it made.
 */
const ATTACK = String.raw`
d=$1 target=$2 end=$(( $(date +%s) + $3 )) n=0 stop=0
trap 'stop=1' TERM
while [ "$stop" -eq 0 ] && [ "$(date +%s)" -lt "$end" ] && [ "$n" -lt 200000 ]; do
  n=$((n+1))
  for e in "$d"/.*dbtls-tmp* "$d"/*.pem; do
    case "$e" in *.moved|*'*'*) continue;; esac
    [ -L "$e" ] && continue
    [ -e "$e" ] || continue
    case "$e" in *.pem) [ $((n % 7)) -eq 0 ] || continue;; esac
    mv -f -- "$e" "$e.moved" 2>/dev/null && ln -s -- "$target" "$e" 2>/dev/null
  done
done
echo "$n"
`;

test(
  "become: sudo with a hostile owner racing every temporary name: the root-owned file outside stays root's and unchanged",
  { timeout: 600_000 },
  async (t) => {
    const [owner, deploy] = await Promise.all([
      createTestUser(scope, 'dbtls-racer'),
      createTestUser(scope, 'dbtls-deploy2'),
    ]);
    await allowSudo(scope, deploy);
    const server = await startSshd(scope, { users: [deploy.name] });
    const dir = await tempDir(t);
    await chmod(dir, 0o755);
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, server.knownHostsLine() + '\n');
    const key = join(dir, 'deploy-key');
    await writeFile(key, await readFile(server.clientKeyPath), { mode: 0o600 });
    await chown(key, deploy.uid, deploy.gid);
    // Root's file outside, and a root folder holding a file named like the staged ones.
    const outside = join(dir, 'outside');
    await mkdir(outside, { mode: 0o755 });
    const precious = join(outside, 'f');
    await writeFile(precious, 'precious\n', { mode: 0o644 });
    // The destination folder belongs to the owner (a mysql-like user who can write it).
    const dest = join(dir, 'srv', 'ssl');
    await mkdir(dest, { recursive: true, mode: 0o755 });
    await chown(dest, owner.uid, owner.gid);
    const inv = await writeInventory(dir, {
      nodes: [
        {
          name: 'db1',
          host: '127.0.0.1',
          roles: ['mariadb'],
          transport: 'ssh',
          dest,
          become: 'sudo',
          owner: owner.name,
          ssh: { port: server.port, user: deploy.name, identityFile: key, knownHostsFile: knownHosts },
        },
      ],
    });
    assert.equal((await dbtls(['issue', '-i', inv])).code, 0);

    const attacker = (target: string, seconds: number) => {
      const child = spawn(
        'runuser',
        ['-u', owner.name, '--', 'sh', '-c', ATTACK, 'attack', dest, target, String(seconds)],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const rounds = new Promise<number>((resolve) => child.on('close', () => resolve(Number(out.trim()))));
      // runuser passes SIGTERM on to the shell, whose trap ends the loop after its round.
      return { rounds, stop: () => child.kill('SIGTERM') };
    };
    const PUSHES = 10;
    let ok = 0;
    for (const target of [precious, outside]) {
      const loops = attacker(target, 120);
      for (let i = 0; i < PUSHES / 2; i++) {
        assert.equal((await dbtls(['issue', '-i', inv, '--force', '--node', 'db1'])).code, 0);
        const r = await dbtls(['push', '-i', inv, '--json'], { timeoutMs: 120_000 });
        if (r.code === 0) ok++;
        else assert.equal(r.code, 1, r.stdout + r.stderr);
      }
      loops.stop();
      assert.ok((await loops.rounds) > 0, 'the attacker ran');
      const st = await stat(precious);
      assert.deepEqual(
        [st.uid, st.gid, st.mode & 0o7777],
        [0, 0, 0o644],
        `${precious} is still root's, mode 0644 (target ${target})`,
      );
      assert.equal(await readFile(precious, 'utf8'), 'precious\n', 'and unchanged');
      assert.equal((await stat(outside)).uid, 0);
    }
    // With the attacker gone, a push puts a whole consistent set in place, as the owner's regular files.
    // (Names the attacker left as links are refused, not followed: they are cleared first.)
    await run(['find', dest, '-maxdepth', '1', '-type', 'l', '-delete']);
    const last = await dbtls(['push', '-i', inv, '--json'], { timeoutMs: 120_000 });
    assert.equal(last.code, 0, last.stdout + last.stderr);
    for (const f of ['server-cert.pem', 'server-key.pem', 'ca.pem']) {
      const st = await lstat(join(dest, f));
      assert.ok(st.isFile(), `${f} is a regular file`);
      assert.equal(st.uid, owner.uid, `${f} is the owner's`);
    }
    const cert = new X509Certificate(await readFile(join(dest, 'server-cert.pem')));
    assert.ok(cert.checkPrivateKey(createPrivateKey(await readFile(join(dest, 'server-key.pem')))));
    t.diagnostic(`${ok} of ${PUSHES} raced pushes went through; the others were refused`);
  },
);

function run(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' }).on('close', (c) =>
      c === 0 ? resolve() : reject(new Error(`${argv.join(' ')}: exit ${c}`)),
    ),
  );
}
