// transport: local — the node is a folder on this machine (<root>/<path on the node>): what the
// examples, `make demo` and single-host setups use. Same guarantees as over SSH, through the store:
// temporary files are created exclusively (O_EXCL, never through a link) with their final mode and
// owner set on the open file, existing files are read without following links, and a node's set is
// renamed into place by synchronous calls back to back (nothing else of this process runs between).
import { linkSync, renameSync, unlinkSync } from 'node:fs';
import { lstat, readdir, unlink, mkdir } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { execFile } from 'node:child_process';
import { DbtlsError } from '../errors.js';
import { childEnv } from '../child-env.js';
import { syncDir, writeTemp } from '../store/atomic-write.js';
import { readFileNoFollow } from '../store/safe-fs.js';
import { resolveGroup, resolveOwner } from '../setup/owner.js';
import {
  backupName,
  isBackupOf,
  isStaleTemp,
  type CommandResult,
  type InstalledFile,
  type InstallRequest,
  type NodeFs,
} from './transport.js';

export function localNodeFs(root: string, backups: number, now: () => Date = () => new Date()): NodeFs {
  const at = (remote: string) => join(root, remote);
  const swept = new Map<string, Promise<void>>();
  /** Once per folder: temporary files an interrupted run left there go (as over SSH). */
  const sweep = (dir: string) => {
    if (!swept.has(dir)) {
      swept.set(
        dir,
        (async () => {
          for (const name of await readdir(dir)) {
            const st = await lstat(join(dir, name)).catch(() => undefined);
            if (st?.isFile() && isStaleTemp(name, st.mtimeMs, now().getTime()))
              await unlink(join(dir, name)).catch(() => undefined);
          }
        })(),
      );
    }
    return swept.get(dir)!;
  };
  /** The file's bytes without following a link; null when nothing is there. */
  const readAt = async (path: string, remote: string): Promise<Buffer | null> => {
    const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (!st) return null;
    if (!st.isFile())
      throw new DbtlsError(
        'remote-not-file',
        `${remote} under ${root} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: refused`,
        { hint: 'remove it (or put the real file there) and push again' },
      );
    return readFileNoFollow(path);
  };
  return {
    read: (remote) => readAt(at(remote), remote),

    async installSet(reqs: InstallRequest[]) {
      const staged: Array<{ path: string; temp: string; existed: boolean; remote: string }> = [];
      try {
        // 1. Every file under a temporary name, with its final mode and owner, read back.
        for (const req of reqs) {
          const path = at(req.remote);
          await mkdir(dirname(path), { recursive: true, mode: 0o755 });
          await sweep(dirname(path));
          const owner = req.owner ? await resolveOwner(req.owner) : undefined;
          if (owner && req.group) owner.gid = await resolveGroup(req.group);
          const existed = req.exists ?? (await readAt(path, req.remote)) !== null;
          const temp = await writeTemp(path, req.data, { mode: req.mode, ...(owner ? { owner } : {}) });
          staged.push({ path, temp, existed, remote: req.remote });
          if (!(await readFileNoFollow(temp)).equals(req.data))
            throw new DbtlsError('local-verify', `${req.remote} does not read back as written under ${root}`);
        }
      } catch (e) {
        for (const s of staged) await unlink(s.temp).catch(() => undefined);
        throw e;
      }
      // 2. Backups, then the renames: synchronous, back to back. A backup that cannot be made fails
      // the set before any rename (link(2) never follows a link at the source).
      const files: InstalledFile[] = [];
      try {
        for (const s of staged) {
          const backup = s.existed
            ? posix.join(posix.dirname(s.remote), backupName(posix.basename(s.remote), now()))
            : undefined;
          if (backup) linkSync(s.path, at(backup));
          files.push({ remote: s.remote, created: !s.existed, ...(backup ? { backup } : {}) });
        }
      } catch (e) {
        for (const f of files)
          if (f.backup)
            try {
              unlinkSync(at(f.backup));
            } catch {
              /* gone */
            }
        for (const s of staged) await unlink(s.temp).catch(() => undefined);
        throw e;
      }
      let renamed = 0;
      try {
        for (const s of staged) {
          renameSync(s.temp, s.path);
          renamed++;
        }
      } catch (e) {
        // Half a set is never left: what was renamed goes back.
        restoreSync(files.slice(0, renamed));
        for (const s of staged.slice(renamed)) await unlink(s.temp).catch(() => undefined);
        throw e;
      }
      for (const dir of new Set(staged.map((s) => dirname(s.path)))) await syncDir(dir);
      return files;
    },

    async restore(files) {
      restoreSync(files);
      for (const dir of new Set(files.map((f) => dirname(at(f.remote))))) await syncDir(dir);
    },

    async prune(files) {
      for (const f of files) {
        const path = at(f.remote);
        const old = (await readdir(dirname(path))).filter((n) => isBackupOf(basename(path), n)).sort();
        for (const n of old.slice(0, Math.max(0, old.length - backups)))
          await unlink(join(dirname(path), n)).catch(() => undefined);
      }
    },
    run: runLocal,
    async close() {},
  };

  /** Backups renamed back over the new files, new files removed: synchronous, back to back. */
  function restoreSync(files: InstalledFile[]): void {
    const errors: unknown[] = [];
    for (const f of files) {
      try {
        const path = at(f.remote);
        if (f.backup) renameSync(at(f.backup), path);
        else if (f.created) unlinkSync(path);
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length)
      throw new DbtlsError(
        'rollback-failed',
        `could not put back ${errors.length} file(s) under ${root}: ${(errors[0] as Error).message}`,
      );
  }
}

/** A command line run by /bin/sh here (a local node is this machine), with the allowlisted environment only. */
export function runLocal(command: string, timeoutMs = 60_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', command],
      { timeout: timeoutMs, maxBuffer: 4 << 20, env: childEnv() },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : null
          : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && code === null ? err.message : '') });
      },
    );
  });
}
