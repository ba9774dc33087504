// transport: local — the node is a folder on this machine (<root>/<path on the node>): what the
// examples, `make demo` and single-host setups use. Same guarantees as over SSH, through the store.
import { chown, link, lstat, readdir, readFile, unlink, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import { DbtlsError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { resolveGroup, resolveOwner } from '../setup/owner.js';
import { backupName, isBackupOf, isStaleTemp, type CommandResult, type InstallRequest, type NodeFs } from './transport.js';

export function localNodeFs(root: string, backups: number, now: () => Date = () => new Date()): NodeFs {
  const at = (remote: string) => join(root, remote);
  const swept = new Map<string, Promise<void>>();
  /** Once per folder: temporary files an interrupted run left there go (as over SSH). */
  const sweep = (dir: string) => {
    if (!swept.has(dir)) {
      swept.set(dir, (async () => {
        for (const name of await readdir(dir)) {
          const st = await lstat(join(dir, name)).catch(() => undefined);
          if (st?.isFile() && isStaleTemp(name, st.mtimeMs, now().getTime())) await unlink(join(dir, name)).catch(() => undefined);
        }
      })());
    }
    return swept.get(dir)!;
  };
  return {
    async read(remote) {
      try {
        return await readFile(at(remote));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    async install(req: InstallRequest) {
      const path = at(req.remote);
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      await sweep(dirname(path));
      const owner = req.owner ? await resolveOwner(req.owner) : undefined;
      if (owner && req.group) owner.gid = await resolveGroup(req.group);
      // The old file stays reachable under its backup name (a hard link: no copy, no window).
      const had = await readFile(path).then(() => true, () => false);
      if (had && backups > 0) await link(path, join(dirname(path), backupName(basename(path), now()))).catch(() => undefined);
      await writeFileAtomic(path, req.data, { mode: req.mode, ...(owner ? { owner } : {}) });
      if (owner) await chown(path, owner.uid, owner.gid);
      if (!(await readFile(path)).equals(req.data)) throw new DbtlsError('local-verify', `${req.remote} does not read back as written under ${root}`);
      const old = (await readdir(dirname(path))).filter((n) => isBackupOf(basename(path), n)).sort();
      for (const n of old.slice(0, Math.max(0, old.length - backups))) await unlink(join(dirname(path), n)).catch(() => undefined);
    },
    run: runLocal,
    async close() {},
  };
}

/** A command line run by /bin/sh here (a local node is this machine). */
export function runLocal(command: string, timeoutMs = 60_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', command], { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && code === null ? err.message : '') });
    });
  });
}
