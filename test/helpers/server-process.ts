// The life of a server a test spawned (mariadbd, a Galera node): when it exits, a SIGKILL if the
// test process exits first, and a stop that asks politely before it kills.
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves when C exits; until then, the test process exiting (e.g. a test timeout) kills it. */
export function watchExit(c: ChildProcess): Promise<void> {
  const killOnExit = (): void => void c.kill('SIGKILL');
  process.once('exit', killOnExit);
  return new Promise((resolve) =>
    c.once('exit', () => {
      process.off('exit', killOnExit);
      resolve();
    }),
  );
}

/** SIGTERM, then SIGKILL after GRACE_MS; nothing when C is not running. Safe to call twice. */
export async function stopProcess(c: ChildProcess | null, exited: Promise<void>, graceMs: number): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
  c.kill('SIGTERM'); // signals c.pid; unlike process.kill, no throw if it just exited
  // The timer is cancelled once the server exits, so it cannot hold the test process open.
  const timer = new AbortController();
  const done = await Promise.race([
    exited.then(() => true),
    sleep(graceMs, false, { signal: timer.signal }).catch(() => false),
  ]);
  timer.abort();
  if (!done) {
    c.kill('SIGKILL');
    await exited;
  }
}
