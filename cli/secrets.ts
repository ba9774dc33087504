// Secrets come from a file or the environment, never from the command line (where `ps` shows them),
// and are never printed.
import { readFile } from 'node:fs/promises';
import { usageError } from '../lib/errors.js';

/** The CA passphrase: --ca-passphrase-file wins over DBTLS_CA_PASSPHRASE; undefined when neither is set. */
export async function caPassphrase(file: string | undefined): Promise<string | undefined> {
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw usageError('passphrase-file', `cannot read --ca-passphrase-file ${file}: ${(e as Error).message}`);
    }
    const pass = text.replace(/\r?\n$/, '');
    if (!pass) throw usageError('passphrase-file', `--ca-passphrase-file ${file} is empty`);
    return pass;
  }
  const env = process.env.DBTLS_CA_PASSPHRASE;
  return env === undefined || env === '' ? undefined : env;
}
