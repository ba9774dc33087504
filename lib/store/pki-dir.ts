// The local PKI directory: a public contract that Makefiles and playbooks depend on.
//   <pki>/ca.pem  ca-key.pem  manifest.json  [crl.pem]
//   <pki>/intermediate.pem  intermediate-key.pem   (ca.intermediate: ca.pem is then the root, which signs only these)
//   <pki>/nodes/<node>/server-cert.pem  server-key.pem  client-cert.pem  client-key.pem  [private_key.pem  public_key.pem]
//   <pki>/clients/<client>/client-cert.pem  client-key.pem
// Directories are 0700, keys 0600. Paths in the manifest are relative to <pki>.
import { mkdir, chmod, lstat, stat } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { DIR_MODE } from './atomic-write.js';
import { checkTrustedDir } from './trust.js';
import { inputError } from '../errors.js';

export interface PkiLayout {
  root: string;
  ca: string;
  caKey: string;
  /** The CRLs of the CAs (ca.crlDays in the inventory turns revocation on). */
  crl: string;
  /** With ca.intermediate: the online CA that signs every leaf (ca.pem's root signs only it). */
  intermediate: string;
  intermediateKey: string;
  /** ca.intermediate with ProxySQL: the MySQL-family servers' ca.pem (root + intermediates, proxysql#5204). */
  backendTrust: string;
  manifest: string;
  lock: string;
  journal: string;
}

export function pkiLayout(root: string): PkiLayout {
  return {
    root,
    ca: join(root, 'ca.pem'),
    caKey: join(root, 'ca-key.pem'),
    crl: join(root, 'crl.pem'),
    intermediate: join(root, 'intermediate.pem'),
    intermediateKey: join(root, 'intermediate-key.pem'),
    backendTrust: join(root, 'trust-backends.pem'),
    manifest: join(root, 'manifest.json'),
    lock: join(root, '.dbtls.lock'),
    journal: join(root, '.dbtls.journal'),
  };
}

export const NODE_FILES = {
  serverCert: 'server-cert.pem',
  serverKey: 'server-key.pem',
  clientCert: 'client-cert.pem',
  clientKey: 'client-key.pem',
  rsaPrivate: 'private_key.pem',
  rsaPublic: 'public_key.pem',
} as const;

/** Relative paths (as the manifest stores them) of an owner's folder. */
export function ownerDir(kind: 'node' | 'client', name: string): string {
  return `${kind === 'node' ? 'nodes' : 'clients'}/${name}`;
}

/**
 * Creates a directory and its missing parents under `root` with mode 0700 (the root too). Every
 * component from `root` down is lstat'ed: a symlink or a file where a folder should be is refused
 * (kind input, naming the path), never followed or replaced. The folder made or found is then checked
 * with checkTrustedDir: owned by the euid or root, not group/world-writable, and no ancestor another
 * user could write.
 */
export async function ensurePrivateDir(root: string, dir: string): Promise<void> {
  const chain: string[] = [];
  for (let d = dir; d.length >= root.length; d = dirname(d)) {
    chain.unshift(d);
    if (d === root || d === dirname(d)) break;
  }
  for (const d of chain) {
    let st;
    try {
      st = await lstat(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw notAFolder(d, 'something above it is a file');
      if (code !== 'ENOENT') throw e;
    }
    if (st) {
      if (st.isSymbolicLink() && d !== root) {
        throw inputError(
          'symlinked-dir',
          `${d} is a symbolic link; dbtls does not write through links in the PKI directory`,
          { file: d },
          `replace the link with the folder itself (mv the target to ${d})`,
        );
      }
      if (!st.isDirectory() && !st.isSymbolicLink()) throw notAFolder(d, 'it is a file');
      continue;
    }
    try {
      await mkdir(d, { mode: DIR_MODE });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw notAFolder(d, 'something above it is a file');
      if (code !== 'EEXIST') throw e;
      continue;
    }
    await chmod(d, DIR_MODE); // mkdir's mode is filtered by the umask
  }
  await checkTrustedDir(dir, { what: 'it for keys' });
}

function notAFolder(path: string, why: string) {
  return inputError(
    'not-a-directory',
    `${path} should be a folder, but ${why}`,
    { file: path },
    "move the file away, or point the inventory's pki at another folder",
  );
}

/**
 * The PKI directory's entry point for commands that write it: creates the folder (0700) when its
 * parent exists, refuses a file in its place, and refuses a folder another user could write.
 */
export async function openPkiDir(root: string): Promise<PkiLayout> {
  await ensurePrivateDir(dirname(root), root);
  return pkiLayout(root);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
