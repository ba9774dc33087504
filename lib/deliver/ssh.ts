// transport: ssh — SFTP over ssh2. Files are replaced atomically: a temporary file in the
// destination folder, a hard-linked backup of the old one, posix-rename into place. With
// `become: sudo` the file goes to a private temporary folder and one `sudo -n sh -c` installs it;
// every argument of every remote command goes through shellCommand(). The connection itself
// (host keys, identities, retries) is ssh-connect.ts.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import { DbtlsError } from '../errors.js';
import { shellCommand } from './quote.js';
import { connect, run, type SshOptions } from './ssh-connect.js';
import { backupName, isBackupOf, type InstallRequest, type NodeFs } from './transport.js';
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
  'tmp="$dir/.$base.dbtls-tmp.$$"',
  'install -m "$mode" -- "$src" "$tmp"',
  'if [ -n "$owner" ]; then chown -- "$owner${group:+:$group}" "$tmp"; elif [ -n "$group" ]; then chgrp -- "$group" "$tmp"; fi',
  'if [ -e "$dst" ] && [ "$keep" -gt 0 ]; then ln -f -- "$dst" "$dst.dbtls-bak-$stamp"; fi',
  'mv -f -- "$tmp" "$dst"',
  'ls -1d -- "$dst".dbtls-bak-* 2>/dev/null | sort | head -n -"$keep" | while IFS= read -r old; do rm -f -- "$old"; done',
].join('\n');

const SUDO_READ = 'if [ -e "$1" ]; then cat -- "$1"; else exit 3; fi';

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
  const exec = (c: Client, command: string) => Promise.race([run(c, command), closed]);
  const sftp = await Promise.race([sftpOf(conn), closed]);
  const now = opts.now ?? (() => new Date());
  const stamp = () => backupName('', now()).slice('.dbtls-bak-'.length);
  const ids = new Map<string, number>();
  const remoteId = async (flag: '-u' | '-g', name: string): Promise<number> => {
    const key = `${flag}${name}`;
    if (!ids.has(key)) {
      const r = await exec(conn, flag === '-u' ? shellCommand(['id', '-u', '--', name]) : shellCommand(['getent', 'group', '--', name]));
      const n = Number(flag === '-u' ? r.stdout.toString().trim() : r.stdout.toString().split(':')[2]);
      if (r.code !== 0 || !Number.isInteger(n)) throw new DbtlsError('remote-owner', `${node.name}: no ${flag === '-u' ? 'user' : 'group'} "${name}" on the node`, { kind: 'input' });
      ids.set(key, n);
    }
    return ids.get(key)!;
  };
  const made = new Set<string>();
  const mkdirp = async (dir: string) => {
    // Once per folder per connection: a node's files mostly share one.
    if (made.has(dir)) return;
    made.add(dir);
    const parts = dir.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const d = '/' + parts.slice(0, i).join('/');
      try {
        await p((cb) => sftp.stat(d, cb));
      } catch {
        await p((cb) => sftp.mkdir(d, { mode: 0o755 }, cb)).catch(async (e) => {
          // Another session may have made it meanwhile.
          await p((cb) => sftp.stat(d, cb)).catch(() => { throw e; });
        });
      }
    }
  };

  return {
    async read(remote) {
      if (node.become === 'sudo') {
        const r = await exec(conn, shellCommand(['sudo', '-n', 'sh', '-c', SUDO_READ, 'dbtls-read', remote]));
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
        const dir = (await exec(conn, shellCommand(['mktemp', '-d']))).stdout.toString().trim();
        if (!dir.startsWith('/')) throw new DbtlsError('remote-tmp', `${node.name}: mktemp -d failed`);
        try {
          const staged = posix.join(dir, 'file');
          await p((cb) => sftp.writeFile(staged, req.data, { mode: 0o600 }, cb));
          const r = await exec(conn, shellCommand(['sudo', '-n', 'sh', '-c', SUDO_INSTALL, 'dbtls-install', staged, req.remote, req.mode.toString(8).padStart(4, '0'), req.owner ?? '', req.group ?? '', String(opts.backups), stamp()]));
          if (r.code !== 0) throw new DbtlsError('sudo-install', `${node.name}: sudo install of ${req.remote} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
        } finally {
          await exec(conn, shellCommand(['rm', '-rf', '--', dir])).catch(() => undefined);
        }
        return;
      }
      const dir = posix.dirname(req.remote);
      const base = posix.basename(req.remote);
      await mkdirp(dir);
      const temp = posix.join(dir, `.${base}.${randomBytes(6).toString('hex')}.dbtls-tmp`);
      let backedUp = false;
      try {
        // Created with the final mode (and corrected for the remote umask) before any byte is written.
        const handle = await p<Buffer>((cb) => sftp.open(temp, 'wx', { mode: req.mode }, cb));
        try {
          await p((cb) => sftp.fchmod(handle, req.mode, cb));
          if (req.owner || req.group) {
            // SFTP sets uid and gid together: an absent one is the owner's (or our own) current one.
            const self = async (flag: '-u' | '-g') => Number((await exec(conn, shellCommand(['id', flag]))).stdout.toString().trim());
            const uid = req.owner ? await remoteId('-u', req.owner) : await self('-u');
            const gid = req.group
              ? await remoteId('-g', req.group)
              : req.owner
                ? Number((await exec(conn, shellCommand(['id', '-g', '--', req.owner]))).stdout.toString().trim())
                : await self('-g');
            await p((cb) => sftp.fchown(handle, uid, gid, cb));
          }
          await p((cb) => sftp.write(handle, req.data, 0, req.data.length, 0, cb));
          await p((cb) => sftp.ext_openssh_fsync(handle, cb)).catch(() => undefined);
        } finally {
          await p((cb) => sftp.close(handle, cb));
        }
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
      for (const old of names.slice(0, Math.max(0, names.length - opts.backups))) await p((cb) => sftp.unlink(posix.join(dir, old), cb)).catch(() => undefined);
    },

    async close() {
      sftp.end();
      conn.end();
    },
  };
}
