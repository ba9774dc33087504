// One run at a time per directory: an exclusive lock file holding the owner's PID, host and a random
// token. The lock appears with its content already in it: it is written to a private, random name
// (O_CREAT|O_EXCL|O_NOFOLLOW, 0600, so nothing planted at a predictable name is ever opened), then
// hard-linked into place, which fails if the lock exists. A run killed at any moment never leaves an
// empty lock nobody can judge.
//
// A lock left by a process that no longer exists on this host is taken over, under an exclusive
// guard (<lock>.takeover, O_EXCL): inside it the lock is read again and removed only if it is still
// the very file (same inode, same content) that was judged stale, so two runs that both saw a dead
// owner cannot both win. A guard left by a killed run is reported, never taken over blindly.
import { link, lstat, open, readdir, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { DbtlsError, inputError, isDbtlsError } from '../errors.js';
import { checkTrustedDir, type TrustOptions } from './trust.js';

export interface Lock {
  path: string;
  release(): Promise<void>;
}

export interface LockOptions extends TrustOptions {
  /** While another live run holds the lock, try again for this long (polling) before giving up. */
  waitMs?: number;
  /** Called after a lock was judged stale, before it is taken over (tests widen the race with it). */
  onStale?: () => Promise<void>;
}

/** A lock holds one short line; anything longer is not a dbtls lock. */
const MAX_LOCK_BYTES = 512;
const ATTEMPTS = 4;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockFile {
  text: string;
  dev: number;
  ino: number;
}

/** Reads a lock (or guard) without following a link and without bound; undefined when it is gone. */
async function readLock(path: string): Promise<LockFile | undefined> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') {
      throw inputError(
        'lock-refused',
        `${path} is a symbolic link, not a dbtls lock; dbtls does not follow it`,
        { file: path },
        `someone planted it: check who, then remove ${path}`,
      );
    }
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > MAX_LOCK_BYTES) {
      throw inputError(
        'lock-refused',
        `${path} is not a dbtls lock (${st.isFile() ? `${st.size} bytes` : 'not a regular file'})`,
        { file: path },
        `check what it is, then remove ${path}`,
      );
    }
    const buf = Buffer.alloc(MAX_LOCK_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0 || (n += bytesRead) >= buf.length) break;
    }
    return { text: buf.subarray(0, Math.min(n, MAX_LOCK_BYTES)).toString('utf8'), dev: st.dev, ino: st.ino };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Creates PATH exclusively (never through a link) holding TEXT; false when something is there. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    await fh.writeFile(text);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw e;
  }
  await fh.close();
  return true;
}

function owner(text: string): { pid: number; host: string; pidText: string } {
  const [pidText = '', host = ''] = text.trim().split(' ');
  return { pid: Number(pidText), host, pidText };
}

function isStale(text: string): boolean {
  const { pid, host } = owner(text);
  return host === hostname() && Number.isInteger(pid) && pid > 0 && !alive(pid);
}

function held(path: string, text: string): DbtlsError {
  const { pidText, host } = owner(text);
  return new DbtlsError(
    'locked',
    `${path} is held by another dbtls run (pid ${/^\d+$/.test(pidText) ? pidText : '?'} on ${host && /^[\w.-]+$/.test(host) ? host : '?'})`,
    {
      hint: 'wait for it to finish; if no dbtls is running, remove the lock file',
    },
  );
}

/**
 * Removes LOCK if it is still the file judged stale (same inode and content), under the guard.
 * Returns normally whether or not it was removed; the caller tries to link again.
 */
async function takeOver(path: string, judged: LockFile, token: string): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await createExclusive(guard, token))) {
    const g = await readLock(guard);
    if (g === undefined) return; // the other run just finished its takeover: try again
    if (!isStale(g.text)) throw held(path, g.text);
    throw new DbtlsError(
      'lock-takeover-left',
      `${guard} was left by a dbtls run (pid ${owner(g.text).pidText || '?'}) killed while taking over a stale lock`,
      {
        hint: `check that no dbtls is running, then remove ${guard} (and ${path} if it is stale)`,
      },
    );
  }
  try {
    const now = await readLock(path);
    if (now && now.dev === judged.dev && now.ino === judged.ino && now.text === judged.text) await unlink(path);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/**
 * Removes private names (<lock>.<24 hex>) left by runs killed between creating and unlinking them:
 * only regular files owned by the euid whose writer is dead. Called while holding the lock.
 */
async function sweepPrivateNames(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = basename(path) + '.';
  const names = await readdir(dir).catch(() => [] as string[]);
  const me = typeof process.geteuid === 'function' ? process.geteuid() : 0;
  for (const n of names) {
    if (!n.startsWith(prefix) || !/^[0-9a-f]{24}$/.test(n.slice(prefix.length))) continue;
    const p = join(dir, n);
    const st = await lstat(p).catch(() => undefined);
    if (!st || !st.isFile() || st.uid !== me) continue;
    const f = await readLock(p).catch(() => undefined);
    if (f && isStale(f.text)) await unlink(p).catch(() => undefined);
  }
}

const WAIT_POLL_MS = 100;

/**
 * Takes the lock; with waitMs, a lock held by another live run is waited for (bounded), so a short
 * holder (push reading its snapshot) delays the next run instead of failing it.
 */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<Lock> {
  const deadline = Date.now() + (opts.waitMs ?? 0);
  for (;;) {
    try {
      return await acquireLockOnce(path, opts);
    } catch (e) {
      if (!isDbtlsError(e) || e.code !== 'locked' || Date.now() >= deadline) throw e;
      await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
    }
  }
}

async function acquireLockOnce(path: string, opts: LockOptions): Promise<Lock> {
  await checkTrustedDir(dirname(path), { allowOwner: opts.allowOwner, what: 'it' });
  const token = `${process.pid} ${hostname()} ${randomBytes(16).toString('hex')}\n`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const mine = `${path}.${randomBytes(12).toString('hex')}`;
    if (!(await createExclusive(mine, token))) continue; // 96 random bits taken: planted, try another
    let won = false;
    try {
      await link(mine, path);
      won = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      await unlink(mine).catch(() => undefined);
    }
    if (won) {
      const st = await lstat(path);
      await sweepPrivateNames(path);
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          // Remove the lock only while it is still ours.
          const now = await readLock(path).catch(() => undefined);
          if (now && now.ino === st.ino && now.dev === st.dev && now.text === token)
            await unlink(path).catch(() => undefined);
        },
      };
    }
    const judged = await readLock(path);
    if (judged === undefined) continue; // released meanwhile
    if (!isStale(judged.text)) throw held(path, judged.text);
    await opts.onStale?.();
    await takeOver(path, judged, token);
  }
  throw new DbtlsError('locked', `could not take ${path}: other dbtls runs kept taking it`, { hint: 'try again' });
}
