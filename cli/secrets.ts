// Secrets come from a file or the environment, never from the command line (where `ps` shows them),
// and are never printed.
import { readFile } from 'node:fs/promises';
import { usageError } from '../lib/errors.js';

/** A secret from --FLAG FILE (its first line ending dropped), else $ENV; undefined when neither is set. */
export async function secretFrom(flag: string, file: string | undefined, env: string): Promise<string | undefined> {
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw usageError('passphrase-file', `cannot read ${flag} ${file}: ${(e as Error).message}`);
    }
    const pass = text.replace(/\r?\n$/, '');
    if (!pass) throw usageError('passphrase-file', `${flag} ${file} is empty`);
    return pass;
  }
  const value = process.env[env];
  return value === undefined || value === '' ? undefined : value;
}

/** The CA passphrase: --ca-passphrase-file wins over DBTLS_CA_PASSPHRASE. */
export function caPassphrase(file: string | undefined): Promise<string | undefined> {
  return secretFrom('--ca-passphrase-file', file, 'DBTLS_CA_PASSPHRASE');
}
