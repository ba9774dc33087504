// The lock (issue 12, finding 2): nothing is opened by a predictable name that could be a planted
// symlink, and a stale lock taken over by many runs at once has exactly one winner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { acquireLock } from '../../lib/store/lock.js';
import { isDbtlsError } from '../../lib/errors.js';
import { tempDir } from '../helpers/tmp.js';

/** A PID that existed and is gone now (a finished child), so its lock is stale. */
function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}

test("symlinks planted at the lock's predictable names are never followed; their targets stay as they were", async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, '.dbtls.lock');
  const target = join(dir, 'target');
  await writeFile(target, 'precious\n', { mode: 0o600 });
  // The old private name was <lock>.<pid>: plant it for this PID and the next few hundred.
  for (let pid = process.pid; pid < process.pid + 300; pid++) await symlink(target, `${lock}.${pid}`);
  await symlink(target, `${lock}.takeover`);
  const held = await acquireLock(lock);
  assert.equal(await readFile(target, 'utf8'), 'precious\n');
  assert.match(await readFile(lock, 'utf8'), new RegExp(`^${process.pid} ${hostname()} [0-9a-f]{32}\n$`));
  await held.release();
  assert.equal(await readFile(target, 'utf8'), 'precious\n');

  // A stale lock with a planted guard: refused, the guard not followed nor removed.
  await writeFile(lock, `${deadPid()} ${hostname()}\n`);
  await assert.rejects(
    acquireLock(lock),
    (e: unknown) =>
      isDbtlsError(e) && e.code === 'lock-refused' && e.message.includes(`${lock}.takeover`) && e.exitCode === 2,
  );
  assert.ok((await lstat(`${lock}.takeover`)).isSymbolicLink());

  // The lock itself a symlink: refused, not read through, not removed.
  const { unlink } = await import('node:fs/promises');
  await unlink(lock);
  await symlink(target, lock);
  await assert.rejects(
    acquireLock(lock),
    (e: unknown) => isDbtlsError(e) && e.code === 'lock-refused' && e.exitCode === 2,
  );
  assert.ok((await lstat(lock)).isSymbolicLink());
  assert.equal(await readFile(target, 'utf8'), 'precious\n');
});

test('a guard left by a run killed mid-takeover is reported by name (exit 1), not taken over', async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, '.dbtls.lock');
  await writeFile(lock, `${deadPid()} ${hostname()}\n`);
  await writeFile(`${lock}.takeover`, `${deadPid()} ${hostname()} 00\n`, { mode: 0o600 });
  await assert.rejects(
    acquireLock(lock),
    (e: unknown) =>
      isDbtlsError(e) &&
      e.code === 'lock-takeover-left' &&
      e.exitCode === 1 &&
      e.message.includes(`${lock}.takeover`) &&
      /remove/.test(e.hint ?? ''),
  );
});

test('many runs taking over one stale lock at once: exactly one wins', async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, '.dbtls.lock');
  const lockModule = pathToFileURL(join(import.meta.dirname, '..', '..', 'lib', 'store', 'lock.js')).href;
  // Each child: waits for "go", tries the lock once (the stale check widened by a random delay), then
  // says "won" and holds it until its stdin closes, or says "lost <code>" and exits.
  const script = join(dir, 'child.mjs');
  await writeFile(
    script,
    `
const { acquireLock } = await import(process.argv[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
process.stdin.setEncoding('utf8');
let input = '';
process.stdin.on('data', async (d) => {
  input += d;
  if (input !== 'go\\n') return;
  try {
    await acquireLock(process.argv[3], { onStale: () => sleep(Math.random() * 40) });
    process.stdout.write('won\\n');
  } catch (e) {
    process.stdout.write('lost ' + (e.code ?? e.message) + '\\n');
    process.exit(0);
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write('ready\\n');
`,
  );
  for (let round = 0; round < 5; round++) {
    await writeFile(lock, `${deadPid()} ${hostname()}\n`);
    const children = Array.from({ length: 8 }, () =>
      spawn(process.execPath, [script, lockModule, lock], { stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const said = children.map((c) => {
      let out = '';
      c.stdout!.setEncoding('utf8');
      return {
        ready: new Promise<void>((r) =>
          c.stdout!.on('data', (d: string) => ((out += d), out.startsWith('ready\n') && r())),
        ),
        outcome: new Promise<string>((r) => {
          c.stdout!.on('data', () => /(won|lost \S+)\n$/.test(out) && r(/(won|lost \S+)\n$/.exec(out)![1]!));
          c.on('close', () => r(/(won|lost \S+)\n$/.exec(out)?.[1] ?? 'died'));
        }),
      };
    });
    await Promise.all(said.map((s) => s.ready));
    for (const c of children) c.stdin!.write('go\n');
    const outcomes = await Promise.all(said.map((s) => s.outcome));
    for (const c of children) c.stdin!.end();
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on('close', r)))));
    assert.equal(outcomes.filter((o) => o === 'won').length, 1, `round ${round}: ${outcomes.join(', ')}`);
    assert.deepEqual(
      outcomes.filter((o) => o !== 'won').map((o) => o.split(' ')[0]),
      Array(7).fill('lost'),
      `round ${round}: ${outcomes.join(', ')}`,
    );
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('.dbtls.lock.')),
      [],
      'no private names or guard left',
    );
  }
});

test("private names left by killed runs are removed by the next holder; a live run's and other users' are kept", async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, '.dbtls.lock');
  const dead = `${lock}.${'a'.repeat(24)}`;
  const live = `${lock}.${'b'.repeat(24)}`;
  const theirs = `${lock}.${'c'.repeat(24)}`;
  await writeFile(dead, `${deadPid()} ${hostname()} 00\n`, { mode: 0o600 });
  await writeFile(live, `${process.pid} ${hostname()} 00\n`, { mode: 0o600 });
  await writeFile(theirs, `${deadPid()} ${hostname()} 00\n`, { mode: 0o600 });
  const { chown } = await import('node:fs/promises');
  await chown(theirs, 4242, 4242);
  const held = await acquireLock(lock);
  await held.release();
  assert.deepEqual((await readdir(dir)).sort(), [live, theirs].map((p) => p.slice(dir.length + 1)).sort());
});

test('waitMs: a lock held by a live run is waited for until it is released; without it the second run fails at once', async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, '.dbtls.lock');
  const first = await acquireLock(lock);
  await assert.rejects(acquireLock(lock), (e: unknown) => isDbtlsError(e) && e.code === 'locked');
  let released = false;
  setTimeout(() => void first.release().then(() => (released = true)), 300);
  const second = await acquireLock(lock, { waitMs: 10_000 });
  assert.equal(released, true, 'the second run got the lock only after the first released it');
  await assert.rejects(
    acquireLock(lock, { waitMs: 200 }),
    (e: unknown) => isDbtlsError(e) && e.code === 'locked',
    'a bounded wait ends with locked',
  );
  await second.release();
});
