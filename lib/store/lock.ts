// One run at a time per directory: an exclusive lock file holding the owner's PID and host.
// A lock left by a process that no longer exists on this host is taken over. The lock appears with
// its content already in it (written to a private name, then hard-linked into place, which fails if
// the lock exists), so a run killed at any moment never leaves an empty lock nobody can judge.
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { DbtlsError } from '../errors.js';

export interface Lock {
  path: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireLock(path: string): Promise<Lock> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const mine = `${path}.${process.pid}`;
      await writeFile(mine, `${process.pid} ${hostname()}\n`, { mode: 0o600 });
      try {
        await link(mine, path);
      } finally {
        await unlink(mine).catch(() => undefined);
      }
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          await unlink(path).catch(() => undefined);
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const [pidText, host] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
    const pid = Number(pidText);
    const stale = host === hostname() && Number.isInteger(pid) && pid > 0 && !alive(pid);
    if (!stale || attempt > 0) {
      throw new DbtlsError('locked', `${path} is held by another dbtls run (pid ${pidText || '?'} on ${host || '?'})`, {
        hint: 'wait for it to finish; if no dbtls is running, remove the lock file',
      });
    }
    await unlink(path).catch(() => undefined);
  }
  throw new DbtlsError('locked', `could not take ${path}`);
}
