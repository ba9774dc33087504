// The private keys a node authenticates with: its ssh.identityFile (decrypted with the passphrase from
// DBTLS_SSH_PASSPHRASE or --ssh-passphrase-file), else OpenSSH's default keys; the agent besides.
// Each file is read and decrypted once per run (bcrypt-pbkdf is slow on purpose). Errors say which
// file and what to do, and never hold the passphrase: ssh2's parser messages are fixed strings.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ParsedKey } from 'ssh2';
import { DbtlsError } from '../../errors.js';

/** OpenSSH tries these when no IdentityFile is given (ssh_config(5)), minus the DSA and security-key ones. */
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export type IdentityCache = Map<string, Promise<ParsedKey>>;

/** The decrypted private key in FILE, or a per-node DbtlsError ('ssh-identity', 'ssh-identity-passphrase'). */
export async function loadIdentity(file: string, passphrase: string | undefined): Promise<ParsedKey> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DbtlsError(
      'ssh-identity',
      `cannot read identity file ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`,
    );
  }
  // ssh2 is CommonJS: its `utils` is reachable through the default export only.
  const { utils } = (await import('ssh2')).default;
  const parsed = utils.parseKey(data, passphrase);
  if (parsed instanceof Error) {
    if (/no passphrase given/i.test(parsed.message)) {
      throw new DbtlsError(
        'ssh-identity-passphrase',
        `identity file ${file} is encrypted and no passphrase was given: set DBTLS_SSH_PASSPHRASE or pass --ssh-passphrase-file`,
      );
    }
    if (/bad passphrase|integrity check failed/i.test(parsed.message)) {
      throw new DbtlsError(
        'ssh-identity-passphrase',
        `the passphrase given (DBTLS_SSH_PASSPHRASE or --ssh-passphrase-file) does not decrypt identity file ${file}`,
      );
    }
    throw new DbtlsError(
      'ssh-identity',
      `identity file ${file} is not a private key dbtls can read (${parsed.message})`,
    );
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || !key.isPrivateKey())
    throw new DbtlsError(
      'ssh-identity',
      `identity file ${file} holds a public key, not a private one (the file without .pub?)`,
    );
  return key;
}

/** loadIdentity once per file and run, when a cache is given. */
export function cachedIdentity(
  file: string,
  passphrase: string | undefined,
  cache?: IdentityCache,
): Promise<ParsedKey> {
  if (!cache) return loadIdentity(file, passphrase);
  let p = cache.get(file);
  if (!p) cache.set(file, (p = loadIdentity(file, passphrase)));
  return p;
}

/**
 * The keys for a node: its identity file (any problem with it is the node's error), or else those of
 * ~/.ssh/id_{ed25519,ecdsa,rsa} that exist and open (the others are skipped, as OpenSSH does).
 */
export async function identitiesFor(
  identityFile: string | undefined,
  passphrase: string | undefined,
  cache?: IdentityCache,
): Promise<ParsedKey[]> {
  if (identityFile) return [await cachedIdentity(identityFile, passphrase, cache)];
  const found = await Promise.all(
    DEFAULT_KEYS.map((name) => cachedIdentity(join(homedir(), '.ssh', name), passphrase, cache).catch(() => undefined)),
  );
  return found.filter((k): k is ParsedKey => k !== undefined);
}
