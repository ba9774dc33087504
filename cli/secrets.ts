// Secrets come from a file or the environment, never from the command line (where `ps` shows them),
// and are never printed. A secret file may be a regular file or a pipe (`<(pass show ca)`), read
// bounded; a device, a directory or a missing file is a usage error naming the option.
import { usageError } from '../lib/errors.js';
import { readInputFile } from './input-files.js';

/** The secret in FILE given for FLAG: its first line ending dropped; empty is a usage error. */
export async function secretFile(flag: string, file: string): Promise<string> {
  const text = (await readInputFile(flag, file)).toString('utf8');
  const pass = text.replace(/\r?\n$/, '');
  if (!pass) throw usageError('passphrase-file', `${flag} ${file} is empty`);
  return pass;
}

/** A secret from --FLAG FILE (its first line ending dropped), else $ENV; undefined when neither is set. */
export async function secretFrom(flag: string, file: string | undefined, env: string): Promise<string | undefined> {
  if (file !== undefined) return secretFile(flag, file);
  const value = process.env[env];
  return value === undefined || value === '' ? undefined : value;
}

/** The CA passphrase: --ca-passphrase-file wins over DBTLS_CA_PASSPHRASE. */
export function caPassphrase(file: string | undefined): Promise<string | undefined> {
  return secretFrom('--ca-passphrase-file', file, 'DBTLS_CA_PASSPHRASE');
}

/**
 * --storepass-file read here (bounded, pipes allowed), so the keystore library gets the value: the
 * sources it takes keep their order (--storepass, then the file, then $DBTLS_STOREPASS).
 */
export async function storepassFlags(flags: {
  storepass?: string;
  storepassFile?: string;
}): Promise<{ value?: string }> {
  if (flags.storepass !== undefined) return { value: flags.storepass };
  if (flags.storepassFile !== undefined) return { value: await secretFile('--storepass-file', flags.storepassFile) };
  return {};
}
