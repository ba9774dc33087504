// The local PKI directory: a public contract that Makefiles and playbooks depend on.
//   <pki>/ca.pem  ca-key.pem  manifest.json
//   <pki>/nodes/<node>/server-cert.pem  server-key.pem  client-cert.pem  client-key.pem  [private_key.pem  public_key.pem]
//   <pki>/clients/<client>/client-cert.pem  client-key.pem
// Directories are 0700, keys 0600. Paths in the manifest are relative to <pki>.
import { mkdir, chmod, stat } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { DIR_MODE } from './atomic-write.js';

export interface PkiLayout {
  root: string;
  ca: string;
  caKey: string;
  manifest: string;
  lock: string;
  journal: string;
}

export function pkiLayout(root: string): PkiLayout {
  return {
    root,
    ca: join(root, 'ca.pem'),
    caKey: join(root, 'ca-key.pem'),
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

/** Creates a directory and its missing parents under `root` with mode 0700 (the root too). */
export async function ensurePrivateDir(root: string, dir: string): Promise<void> {
  const chain: string[] = [];
  for (let d = dir; d.length >= root.length; d = dirname(d)) {
    chain.unshift(d);
    if (d === root) break;
  }
  for (const d of chain) {
    try {
      await mkdir(d, { mode: DIR_MODE });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      continue;
    }
    await chmod(d, DIR_MODE); // mkdir's mode is filtered by the umask
  }
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
