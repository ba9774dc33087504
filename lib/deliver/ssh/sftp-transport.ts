// transport: ssh — SFTP over ssh2, no remote shell needed. Files are replaced atomically: a
// temporary file in the destination folder, written and read back through one handle, a hard-linked
// backup of the old one, posix-rename into place. With `become: sudo` the file goes to a private
// temporary folder and one `sudo -n sh -c` installs it; every argument of every remote command goes
// through shellCommand() (the root scripts: sudo-scripts.ts). The connection itself (host keys,
// identities, retries) is connect.ts.
//
// Speed: a node's files travel at once over the one SFTP channel, and the requests on one handle are
// sent without waiting for each answer (the server processes a handle's requests in order), so a
// file costs about five round trips however many files there are.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import { DbtlsError, inputError } from '../../errors.js';
import { limiter } from '../../concurrency.js';
import { TEMP_MARK } from '../../store/atomic-write.js';
import { shellCommand } from '../quote.js';
import { connect, run, type SshOptions } from './connect.js';
import { SUDO_INSTALL_SET, SUDO_PRUNE, SUDO_READ, SUDO_RESTORE } from './sudo-scripts.js';
import {
  backupName,
  isBackupOf,
  isStaleTemp,
  type InstalledFile,
  type InstallRequest,
  type NodeFs,
} from '../transport.js';
import { sanitizeForTerminal } from '../../text/sanitize.js';
import type { NodeSpec } from '../../inventory/model.js';

export type { SshOptions } from './connect.js';

function sftpOf(conn: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => conn.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

const NO_SUCH_FILE = 2;
const op = <T>(fn: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));

/** Remote commands at once per connection: sshd allows 10 sessions by default (MaxSessions), SFTP is one. */
const MAX_EXECS = 4;

/** Waits for every one of several pipelined requests, then throws the first failure (none left dangling). */
async function allOf(requests: Array<Promise<unknown>>): Promise<void> {
  const settled = await Promise.allSettled(requests);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

export async function sshNodeFs(node: NodeSpec, opts: SshOptions): Promise<NodeFs> {
  const conn = await connect(node, opts);
  // A connection cut mid-operation leaves ssh2's callbacks unanswered: every operation races it.
  const closed = new Promise<never>((_, reject) => {
    const fail = () =>
      reject(
        new DbtlsError(
          'ssh-closed',
          `${node.name}: the connection to ${node.host}:${node.ssh.port} closed during the transfer`,
        ),
      );
    conn.once('close', fail);
    conn.once('error', fail);
  });
  closed.catch(() => undefined);
  const p = <T>(fn: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> =>
    Promise.race([op(fn), closed]);
  const slot = limiter(MAX_EXECS);
  const exec = (command: string) => slot(() => Promise.race([run(conn, command), closed]));
  const sftp = await Promise.race([sftpOf(conn), closed]);
  const now = opts.now ?? (() => new Date());
  const stamp = () => backupName('', now()).slice('.dbtls-bak-'.length);

  /** Once per connection: lookups of the same name, folder or staging area are shared. */
  const memo = <T>() => {
    const cache = new Map<string, Promise<T>>();
    return (key: string, make: () => Promise<T>): Promise<T> => {
      if (!cache.has(key)) cache.set(key, make());
      return cache.get(key)!;
    };
  };
  const idOnce = memo<number>();
  const number = async (command: string[], pick: (out: string) => string, what: string): Promise<number> => {
    const r = await exec(shellCommand(command));
    const n = Number(pick(r.stdout.toString()).trim());
    if (r.code !== 0 || !Number.isInteger(n)) throw inputError('remote-owner', `${node.name}: no ${what} on the node`);
    return n;
  };
  const uidOf = (owner?: string) =>
    idOnce(`u:${owner ?? ''}`, () =>
      number(owner ? ['id', '-u', '--', owner] : ['id', '-u'], (s) => s, owner ? `user "${owner}"` : 'uid'),
    );
  const gidOf = (owner?: string, group?: string) =>
    group
      ? idOnce(`g:${group}`, () =>
          number(['getent', 'group', '--', group], (s) => s.split(':')[2] ?? '', `group "${group}"`),
        )
      : idOnce(`ug:${owner ?? ''}`, () =>
          number(owner ? ['id', '-g', '--', owner] : ['id', '-g'], (s) => s, owner ? `user "${owner}"` : 'gid'),
        );

  const dirOnce = memo<void>();
  /** The destination folder exists (made if not), and temporary files an interrupted run left there are gone. */
  const prepareDir = (dir: string) =>
    dirOnce(dir, async () => {
      const exists = await p((cb) => sftp.stat(dir, cb)).then(
        () => true,
        () => false,
      );
      if (!exists) await mkdirp(dir);
      const entries = await p<Array<{ filename: string; attrs: { mtime: number } }>>((cb) => sftp.readdir(dir, cb));
      const stale = entries.filter((e) => isStaleTemp(e.filename, e.attrs.mtime * 1000, now().getTime()));
      await Promise.all(
        stale.map((e) => p((cb) => sftp.unlink(posix.join(dir, e.filename), cb)).catch(() => undefined)),
      );
    });
  const mkdirp = async (dir: string) => {
    const parts = dir.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const d = '/' + parts.slice(0, i).join('/');
      await p((cb) => sftp.mkdir(d, { mode: 0o755 }, cb)).catch(async (e) => {
        // Already there, or made meanwhile by another session.
        await p((cb) => sftp.stat(d, cb)).catch(() => {
          throw e;
        });
      });
    }
  };

  /** become: sudo — one private folder per connection for the files sudo installs; removed on close. */
  let stagingDir: Promise<string> | undefined;
  const staging = () =>
    (stagingDir ??= (async () => {
      const dir = (await exec(shellCommand(['mktemp', '-d']))).stdout.toString().trim();
      if (!dir.startsWith('/')) throw new DbtlsError('remote-tmp', `${node.name}: mktemp -d failed`);
      return dir;
    })());
  let staged = 0;

  /** Reads len bytes from offset 0 of an open handle (a read may return fewer than asked). */
  const readBack = async (handle: Buffer, len: number): Promise<Buffer> => {
    const buf = Buffer.alloc(len);
    let at = 0;
    while (at < len) {
      const n = await p<number>((cb) => sftp.read(handle, buf, at, len - at, at, cb));
      if (!n) break;
      at += n;
    }
    return buf.subarray(0, at);
  };

  /** One SFTP rename/link/unlink; resolves to the error instead of rejecting, so a burst can be sent at once. */
  const settle = (fn: (cb: (err: Error | null | undefined) => void) => void) =>
    p<void>(fn).then(
      () => undefined,
      (e: Error) => e,
    );

  /** A non-sudo file staged under its temporary name, written and read back through one handle. */
  const stage = async (req: InstallRequest): Promise<string> => {
    const dir = posix.dirname(req.remote);
    const base = posix.basename(req.remote);
    // Owner ids are looked up before the file exists, so its requests can go out back to back.
    const ids = req.owner || req.group ? await Promise.all([uidOf(req.owner), gidOf(req.owner, req.group)]) : undefined;
    await prepareDir(dir);
    const temp = posix.join(dir, `.${base}.${randomBytes(6).toString('hex')}${TEMP_MARK}`);
    try {
      // Created exclusively (never through a link) with the final mode before any byte is written.
      const handle = await p<Buffer>((cb) => sftp.open(temp, 'xw+', { mode: req.mode }, cb));
      let back: Buffer;
      try {
        const writing = [p((cb) => sftp.fchmod(handle, req.mode, cb))];
        // SFTP sets uid and gid together: an absent one is the owner's (or our own) current one.
        if (ids) writing.push(p((cb) => sftp.fchown(handle, ids[0], ids[1], cb)));
        writing.push(p((cb) => sftp.write(handle, req.data, 0, req.data.length, 0, cb)));
        await allOf(writing);
        const reading = readBack(handle, req.data.length);
        const syncing = p((cb) => sftp.ext_openssh_fsync(handle, cb)).catch(() => undefined);
        back = await reading;
        await syncing;
      } finally {
        await p((cb) => sftp.close(handle, cb));
      }
      if (!back.equals(req.data))
        throw new DbtlsError('remote-verify', `${node.name}: ${req.remote} does not read back as written`);
      return temp;
    } catch (e) {
      await p((cb) => sftp.unlink(temp, cb)).catch(() => undefined);
      throw e;
    }
  };

  /** Runs one of the root scripts with its arguments (each through shellCommand) under sudo -n. */
  const sudo = (script: string, name: string, args: string[]) =>
    exec(shellCommand(['sudo', '-n', 'sh', '-c', script, name, ...args]));

  const installSetSudo = async (reqs: InstallRequest[]): Promise<InstalledFile[]> => {
    const dir = await staging();
    const files = reqs.map(() => posix.join(dir, `f${staged++}`));
    try {
      await allOf(reqs.map((req, i) => p((cb) => sftp.writeFile(files[i]!, req.data, { mode: 0o600 }, cb))));
      const args = [String(opts.backups), stamp()];
      reqs.forEach((req, i) =>
        args.push(files[i]!, req.remote, req.mode.toString(8).padStart(4, '0'), req.owner ?? '', req.group ?? ''),
      );
      const r = await sudo(SUDO_INSTALL_SET, 'dbtls-install', args);
      if (r.code !== 0)
        throw new DbtlsError(
          'sudo-install',
          `${node.name}: sudo install failed: ${sanitizeForTerminal(r.stderr) || `exit ${r.code}`}`,
        );
      const out = r.stdout.toString().split('\n');
      return reqs.map((req, i) => {
        const line = out.find((l) => l === `created ${i + 1}` || l.startsWith(`backup ${i + 1} `));
        if (!line) throw new DbtlsError('sudo-install', `${node.name}: sudo install did not report ${req.remote}`);
        return line.startsWith('backup')
          ? { remote: req.remote, created: false, backup: line.slice(`backup ${i + 1} `.length) }
          : { remote: req.remote, created: true };
      });
    } finally {
      await Promise.all(files.map((f) => p((cb) => sftp.unlink(f, cb)).catch(() => undefined)));
    }
  };

  const restoreSftp = async (files: InstalledFile[]): Promise<void> => {
    // Sent together: the server carries them out in order, with no reload in between.
    const results = await Promise.all(
      files.map((f) =>
        f.backup
          ? settle((cb) => sftp.ext_openssh_rename(f.backup!, f.remote, cb))
          : f.created
            ? settle((cb) => sftp.unlink(f.remote, cb))
            : Promise.resolve(undefined),
      ),
    );
    const failed = results.filter((e) => e !== undefined);
    if (failed.length)
      throw new DbtlsError(
        'rollback-failed',
        `${node.name}: could not put back ${failed.length} file(s): ${failed[0]!.message}`,
      );
  };

  return {
    async read(remote) {
      if (node.become === 'sudo') {
        const r = await exec(shellCommand(['sudo', '-n', 'sh', '-c', SUDO_READ, 'dbtls-read', remote]));
        if (r.code === 3) return null;
        if (r.code === 5 || r.code === 6)
          throw new DbtlsError(
            'remote-not-file',
            `${node.name}: ${remote} is ${r.code === 5 ? 'a symbolic link' : 'not a regular file'}: refused`,
            { hint: 'remove it (or put the real file there) and push again' },
          );
        if (r.code !== 0)
          throw new DbtlsError(
            'remote-read',
            `${node.name}: sudo could not read ${remote}: ${sanitizeForTerminal(r.stderr)}`,
          );
        return r.stdout;
      }
      // What is there is looked at, not followed: a link under a final name is refused.
      const st = await p<{ isFile(): boolean; isSymbolicLink(): boolean }>((cb) => sftp.lstat(remote, cb)).catch(
        (e: { code?: number }) => {
          if (e.code === NO_SUCH_FILE) return null;
          throw e;
        },
      );
      if (!st) return null;
      if (!st.isFile())
        throw new DbtlsError(
          'remote-not-file',
          `${node.name}: ${remote} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: refused`,
          { hint: 'remove it (or put the real file there) and push again' },
        );
      try {
        return await p<Buffer>((cb) => sftp.readFile(remote, cb));
      } catch (e) {
        if ((e as { code?: number }).code === NO_SUCH_FILE) return null;
        throw e;
      }
    },

    async installSet(reqs) {
      if (reqs.length === 0) return [];
      if (node.become === 'sudo') return installSetSudo(reqs);
      // 1. Every file staged and read back (at once; the first failure fails the set, none renamed).
      const settled = await Promise.allSettled(reqs.map(stage));
      const temps = settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
      const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failure) {
        await Promise.all(temps.map((t) => (t ? settle((cb) => sftp.unlink(t, cb)) : undefined)));
        throw failure.reason;
      }
      const exists = await Promise.all(
        reqs.map(
          (req) =>
            req.exists ??
            p((cb) => sftp.lstat(req.remote, cb)).then(
              () => true,
              () => false,
            ),
        ),
      );
      const files: InstalledFile[] = reqs.map((req, i) =>
        exists[i]
          ? { remote: req.remote, created: false, backup: `${req.remote}.dbtls-bak-${stamp()}` }
          : { remote: req.remote, created: true },
      );
      // 2. Backups (hard links: link(2) links the entry, never follows it); one that fails stops the set.
      const linked = await Promise.all(
        files.map((f) =>
          f.backup ? settle((cb) => sftp.ext_openssh_hardlink(f.remote, f.backup!, cb)) : Promise.resolve(undefined),
        ),
      );
      const noBackup = linked.find((e) => e !== undefined);
      if (noBackup) {
        await Promise.all(
          files.map((f, i) => (f.backup && !linked[i] ? settle((cb) => sftp.unlink(f.backup!, cb)) : undefined)),
        );
        await Promise.all(temps.map((t) => settle((cb) => sftp.unlink(t!, cb))));
        throw new DbtlsError(
          'remote-backup',
          `${node.name}: could not keep a backup before replacing the files: ${noBackup.message}`,
        );
      }
      // 3. The renames: sent back to back in one burst; the server carries them out in order.
      const renamed = await Promise.all(
        files.map((f, i) => settle((cb) => sftp.ext_openssh_rename(temps[i]!, f.remote, cb))),
      );
      const bad = renamed.findIndex((e) => e !== undefined);
      if (bad >= 0) {
        // Half a set is never left: the files that did go in are put back.
        await restoreSftp(files.filter((_, i) => !renamed[i])).catch(() => undefined);
        await Promise.all(temps.map((t, i) => (renamed[i] ? settle((cb) => sftp.unlink(t!, cb)) : undefined)));
        throw new DbtlsError(
          'remote-rename',
          `${node.name}: could not rename ${files[bad]!.remote} into place: ${renamed[bad]!.message}`,
        );
      }
      return files;
    },

    async restore(files) {
      if (files.length === 0) return;
      if (node.become === 'sudo') {
        const r = await sudo(
          SUDO_RESTORE,
          'dbtls-restore',
          files.flatMap((f) => [f.remote, f.backup ?? '']),
        );
        if (r.code !== 0)
          throw new DbtlsError(
            'rollback-failed',
            `${node.name}: could not put every file back: ${sanitizeForTerminal(r.stderr) || `exit ${r.code}`}`,
          );
        return;
      }
      await restoreSftp(files);
    },

    async prune(files) {
      const withBackup = files.filter((f) => f.backup);
      if (withBackup.length === 0) return;
      if (node.become === 'sudo') {
        await sudo(SUDO_PRUNE, 'dbtls-prune', [String(opts.backups), ...withBackup.map((f) => f.remote)]);
        return;
      }
      const dirs = new Map<string, Promise<string[]>>();
      for (const f of withBackup) {
        const dir = posix.dirname(f.remote);
        if (!dirs.has(dir))
          dirs.set(
            dir,
            p<Array<{ filename: string }>>((cb) => sftp.readdir(dir, cb)).then((l) => l.map((e) => e.filename)),
          );
        const base = posix.basename(f.remote);
        const names = (await dirs.get(dir)!).filter((n) => isBackupOf(base, n)).sort();
        await Promise.all(
          names
            .slice(0, Math.max(0, names.length - opts.backups))
            .map((old) => settle((cb) => sftp.unlink(posix.join(dir, old), cb))),
        );
      }
    },

    async run(command, timeoutMs) {
      const r = await slot(() => Promise.race([run(conn, command, timeoutMs), closed]));
      return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr };
    },

    async close() {
      const dir = await stagingDir?.catch(() => undefined);
      if (dir) await exec(shellCommand(['rm', '-rf', '--', dir])).catch(() => undefined);
      sftp.end();
      conn.end();
    },
  };
}
