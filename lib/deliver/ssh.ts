// transport: ssh — SFTP over ssh2, no remote shell needed. Files are replaced atomically: a
// temporary file in the destination folder, written and read back through one handle, a hard-linked
// backup of the old one, posix-rename into place. With `become: sudo` the file goes to a private
// temporary folder and one `sudo -n sh -c` installs it; every argument of every remote command goes
// through shellCommand(). The connection itself (host keys, identities, retries) is ssh-connect.ts.
//
// Speed: a node's files travel at once over the one SFTP channel, and the requests on one handle are
// sent without waiting for each answer (the server processes a handle's requests in order), so a
// file costs about five round trips however many files there are.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import { DbtlsError } from '../errors.js';
import { limiter } from '../concurrency.js';
import { TEMP_MARK } from '../store/atomic-write.js';
import { shellCommand } from './quote.js';
import { connect, run, type SshOptions } from './ssh-connect.js';
import { backupName, isBackupOf, isStaleTemp, type InstallRequest, type NodeFs } from './transport.js';
import type { NodeSpec } from '../inventory/model.js';

export type { SshOptions } from './ssh-connect.js';

function sftpOf(conn: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => conn.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

const NO_SUCH_FILE = 2;
const op = <T>(fn: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));

/** The root script of `become: sudo`: values arrive as positional arguments, never inside the script. */
const SUDO_INSTALL = [
  'set -e',
  'src=$1 dst=$2 mode=$3 owner=$4 group=$5 keep=$6 stamp=$7',
  'dir=$(dirname -- "$dst") base=$(basename -- "$dst")',
  'mkdir -p -- "$dir"',
  // Temporary files an interrupted run left behind (older than a concurrent run could be).
  'find "$dir" -maxdepth 1 -type f -name ".*.dbtls-tmp*" -mmin +10 -exec rm -f -- {} + 2>/dev/null || true',
  'tmp="$dir/.$base.dbtls-tmp.$$"',
  'install -m "$mode" -- "$src" "$tmp"',
  'if [ -n "$owner" ]; then chown -- "$owner${group:+:$group}" "$tmp"; elif [ -n "$group" ]; then chgrp -- "$group" "$tmp"; fi',
  'cmp -s -- "$src" "$tmp" || { rm -f -- "$tmp"; echo "$tmp does not read back as written" >&2; exit 4; }',
  'if [ -e "$dst" ] && [ "$keep" -gt 0 ]; then ln -f -- "$dst" "$dst.dbtls-bak-$stamp"; fi',
  'mv -f -- "$tmp" "$dst"',
  'ls -1d -- "$dst".dbtls-bak-* 2>/dev/null | sort | head -n -"$keep" | while IFS= read -r old; do rm -f -- "$old"; done',
].join('\n');

const SUDO_READ = 'if [ -e "$1" ]; then cat -- "$1"; else exit 3; fi';

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
    const fail = () => reject(new DbtlsError('ssh-closed', `${node.name}: the connection to ${node.host}:${node.ssh.port} closed during the transfer`));
    conn.once('close', fail);
    conn.once('error', fail);
  });
  closed.catch(() => undefined);
  const p = <T>(fn: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> => Promise.race([op(fn), closed]);
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
    if (r.code !== 0 || !Number.isInteger(n)) throw new DbtlsError('remote-owner', `${node.name}: no ${what} on the node`, { kind: 'input' });
    return n;
  };
  const uidOf = (owner?: string) => idOnce(`u:${owner ?? ''}`, () => number(owner ? ['id', '-u', '--', owner] : ['id', '-u'], (s) => s, owner ? `user "${owner}"` : 'uid'));
  const gidOf = (owner?: string, group?: string) =>
    group
      ? idOnce(`g:${group}`, () => number(['getent', 'group', '--', group], (s) => s.split(':')[2] ?? '', `group "${group}"`))
      : idOnce(`ug:${owner ?? ''}`, () => number(owner ? ['id', '-g', '--', owner] : ['id', '-g'], (s) => s, owner ? `user "${owner}"` : 'gid'));

  const dirOnce = memo<void>();
  /** The destination folder exists (made if not), and temporary files an interrupted run left there are gone. */
  const prepareDir = (dir: string) =>
    dirOnce(dir, async () => {
      const exists = await p((cb) => sftp.stat(dir, cb)).then(() => true, () => false);
      if (!exists) await mkdirp(dir);
      const entries = await p<Array<{ filename: string; attrs: { mtime: number } }>>((cb) => sftp.readdir(dir, cb));
      const stale = entries.filter((e) => isStaleTemp(e.filename, e.attrs.mtime * 1000, now().getTime()));
      await Promise.all(stale.map((e) => p((cb) => sftp.unlink(posix.join(dir, e.filename), cb)).catch(() => undefined)));
    });
  const mkdirp = async (dir: string) => {
    const parts = dir.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const d = '/' + parts.slice(0, i).join('/');
      await p((cb) => sftp.mkdir(d, { mode: 0o755 }, cb)).catch(async (e) => {
        // Already there, or made meanwhile by another session.
        await p((cb) => sftp.stat(d, cb)).catch(() => { throw e; });
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

  return {
    async read(remote) {
      if (node.become === 'sudo') {
        const r = await exec(shellCommand(['sudo', '-n', 'sh', '-c', SUDO_READ, 'dbtls-read', remote]));
        if (r.code === 3) return null;
        if (r.code !== 0) throw new DbtlsError('remote-read', `${node.name}: sudo could not read ${remote}: ${r.stderr.trim()}`);
        return r.stdout;
      }
      try {
        return await p<Buffer>((cb) => sftp.readFile(remote, cb));
      } catch (e) {
        if ((e as { code?: number }).code === NO_SUCH_FILE) return null;
        throw e;
      }
    },

    async install(req: InstallRequest) {
      if (node.become === 'sudo') {
        const file = posix.join(await staging(), `f${staged++}`);
        try {
          await p((cb) => sftp.writeFile(file, req.data, { mode: 0o600 }, cb));
          const r = await exec(shellCommand(['sudo', '-n', 'sh', '-c', SUDO_INSTALL, 'dbtls-install', file, req.remote, req.mode.toString(8).padStart(4, '0'), req.owner ?? '', req.group ?? '', String(opts.backups), stamp()]));
          if (r.code !== 0) throw new DbtlsError('sudo-install', `${node.name}: sudo install of ${req.remote} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
        } finally {
          await p((cb) => sftp.unlink(file, cb)).catch(() => undefined);
        }
        return;
      }
      const dir = posix.dirname(req.remote);
      const base = posix.basename(req.remote);
      // Owner ids are looked up before the file exists, so its requests can go out back to back.
      const ids = req.owner || req.group ? await Promise.all([uidOf(req.owner), gidOf(req.owner, req.group)]) : undefined;
      await prepareDir(dir);
      const temp = posix.join(dir, `.${base}.${randomBytes(6).toString('hex')}${TEMP_MARK}`);
      let backedUp = false;
      try {
        // Created with the final mode (and corrected for the remote umask) before any byte is written.
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
        if (!back.equals(req.data)) throw new DbtlsError('remote-verify', `${node.name}: ${req.remote} does not read back as written`);
        const exists = req.exists ?? (await p((cb) => sftp.stat(req.remote, cb)).then(() => true, () => false));
        backedUp = exists && opts.backups > 0 && (await p((cb) => sftp.ext_openssh_hardlink(req.remote, `${req.remote}.dbtls-bak-${stamp()}`, cb)).then(() => true, () => false));
        await p((cb) => sftp.ext_openssh_rename(temp, req.remote, cb));
      } catch (e) {
        await p((cb) => sftp.unlink(temp, cb)).catch(() => undefined);
        throw e;
      }
      // Old backups can only have grown in number when this run made one.
      if (!backedUp) return;
      const names = (await p<Array<{ filename: string }>>((cb) => sftp.readdir(dir, cb))).map((f) => f.filename).filter((n) => isBackupOf(base, n)).sort();
      await Promise.all(names.slice(0, Math.max(0, names.length - opts.backups)).map((old) => p((cb) => sftp.unlink(posix.join(dir, old), cb)).catch(() => undefined)));
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
