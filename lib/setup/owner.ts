// --uid NAME: the user the generated files are given to. Like mysql_ssl_rsa_setup, it is honoured only
// when running as root; the group is the user's primary group. `id` asks NSS, so LDAP users work too.
import { execFile } from 'node:child_process';
import { inputError } from '../errors.js';
import { childEnv } from '../child-env.js';
import type { FileOwner } from '../store/atomic-write.js';

function idOf(flag: '-u' | '-g', user: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('id', [flag, '--', user], { timeout: 5000, env: childEnv() }, (err, stdout) => {
      const n = Number(stdout.trim());
      resolve(err || !Number.isInteger(n) ? undefined : n);
    });
  });
}

export async function resolveOwner(user: string): Promise<FileOwner> {
  if (!/^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/.test(user)) {
    throw inputError('bad-uid', `--uid "${user}" is not a valid user name`, { field: '--uid' });
  }
  const [uid, gid] = await Promise.all([idOf('-u', user), idOf('-g', user)]);
  if (uid === undefined || gid === undefined) {
    throw inputError('unknown-user', `--uid: no such user "${user}"`, { field: '--uid' });
  }
  return { uid, gid };
}

export function runningAsRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/** A group's gid, from NSS (`getent group`). */
export async function resolveGroup(group: string): Promise<number> {
  if (!/^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/.test(group))
    throw inputError('bad-group', `"${group}" is not a valid group name`, { field: 'group' });
  const gid = await new Promise<number | undefined>((resolve) => {
    execFile('getent', ['group', '--', group], { timeout: 5000, env: childEnv() }, (err, stdout) => {
      const n = Number(stdout.split(':')[2]);
      resolve(err || !Number.isInteger(n) ? undefined : n);
    });
  });
  if (gid === undefined) throw inputError('unknown-group', `no such group "${group}"`, { field: 'group' });
  return gid;
}
