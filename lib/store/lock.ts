// One run at a time per directory: an exclusive lock file holding the owner's PID and host.
// A lock left by a process that no longer exists on this host is taken over.
import { open, readFile, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
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
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await fh.writeFile(`${process.pid} ${hostname()}\n`);
      await fh.close();
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
