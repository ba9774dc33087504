// Folders dbtls trusts (the PKI directory, a setup datadir, a render output folder) must not be
// writable by anyone but root and the user dbtls runs as — the folder itself and every folder above
// it, as OpenSSH refuses a key in a folder with loose permissions. Another user who can write a
// folder can plant journals, temporaries and symlinks in it, or swap the folder for another.
import { lstat, realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import { inputError } from '../errors.js';

export interface TrustOptions {
  /** An owner accepted for the folder itself besides root and the euid (a datadir owned by mysql); 'any' accepts every owner. */
  allowOwner?: number | 'any';
}

export interface DirTrust {
  ok: boolean;
  /** What is wrong, naming the folder (the folder itself or the ancestor at fault). */
  problem?: string;
  /** The command that fixes it. */
  fix?: string;
  /** The folder at fault (the folder itself when ok). */
  path: string;
  /** Permission bits (and sticky bit) of the folder itself. */
  mode: number;
  uid: number;
}

function euid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : 0;
}

const octal = (m: number) => '0' + (m & 0o7777).toString(8).padStart(3, '0');

/**
 * Judges a folder and its ancestors (after resolving symlinks, so the folders actually used are the
 * ones judged). Never throws for a folder that exists; ENOENT and ENOTDIR propagate.
 */
export async function describeDirTrust(dir: string, opts: TrustOptions = {}): Promise<DirTrust> {
  const me = euid();
  const real = await realpath(dir);
  const own = await lstat(real);
  const base = { mode: own.mode & 0o7777, uid: own.uid };
  if (!own.isDirectory()) {
    return {
      ok: false,
      path: real,
      ...base,
      problem: `${real} is not a directory`,
      fix: `move it away and let dbtls create the folder`,
    };
  }
  const ownerOk = own.uid === 0 || own.uid === me || opts.allowOwner === 'any' || own.uid === opts.allowOwner;
  if (!ownerOk) {
    return {
      ok: false,
      path: real,
      ...base,
      problem: `${real} is owned by uid ${own.uid}, not by ${me === 0 ? 'root' : `uid ${me} (the user dbtls runs as)`} (mode ${octal(own.mode)})`,
      fix: `chown ${me} '${real}'`,
    };
  }
  if (own.mode & 0o022) {
    return {
      ok: false,
      path: real,
      ...base,
      problem: `${real} is ${own.mode & 0o002 ? 'world' : 'group'}-writable (mode ${octal(own.mode)}, owner uid ${own.uid}): another user could plant files in it`,
      fix: `chmod go-w '${real}'`,
    };
  }
  for (let d = dirname(real), prev = real; d !== prev; prev = d, d = dirname(d)) {
    const st = await lstat(d);
    const sticky = (st.mode & 0o1000) !== 0;
    if (st.uid !== 0 && st.uid !== me) {
      return {
        ok: false,
        path: d,
        ...base,
        problem: `${real} is inside ${d}, which is owned by uid ${st.uid} (mode ${octal(st.mode)}): that user could replace the folder`,
        fix: `chown root '${d}'`,
      };
    }
    if (st.mode & 0o022 && !sticky) {
      return {
        ok: false,
        path: d,
        ...base,
        problem: `${real} is inside ${d}, which is ${st.mode & 0o002 ? 'world' : 'group'}-writable without the sticky bit (mode ${octal(st.mode)}): another user could replace the folder`,
        fix: `chmod go-w '${d}'`,
      };
    }
  }
  return { ok: true, path: real, ...base };
}

/** describeDirTrust, refusing (kind input, exit 2) a folder another user could write. */
export async function checkTrustedDir(dir: string, opts: TrustOptions & { what?: string } = {}): Promise<void> {
  const t = await describeDirTrust(dir, opts);
  if (t.ok) return;
  throw inputError(
    'untrusted-dir',
    `bad permissions: ${t.problem}; dbtls refuses to use ${opts.what ?? 'it'}`,
    { file: t.path },
    t.fix,
  );
}
