// Store passwords: given by the user (flag, file or DBTLS_STOREPASS), or generated once and kept,
// 0600, in the PKI directory, where the config renderers find it. Never printed or logged.
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { usageError } from '../errors.js';
import { KEY_MODE } from '../store/atomic-write.js';
import type { BatchFile } from '../store/batch.js';
import { readGivenFile, readIfExists } from '../store/safe-fs.js';

export const STOREPASS_FILE = 'storepass';
/** keytool refuses store passwords shorter than 6 characters. */
export const MIN_STOREPASS = 6;
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

export interface StorepassSources {
  /** --storepass (visible in `ps`; prefer the file or the environment). */
  value?: string;
  /** --storepass-file */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/** The first of --storepass, --storepass-file, $DBTLS_STOREPASS that is set; undefined if none. */
export async function storepassFromSources(src: StorepassSources): Promise<string | undefined> {
  let pass = src.value;
  if (pass === undefined && src.file !== undefined) {
    try {
      // Bounded, and a pipe is fine (`--storepass-file <(pass show db)`); a device or directory is not.
      pass = (await readGivenFile(src.file, { allowPipe: true, maxBytes: 64 << 10 }))
        .toString('utf8')
        .replace(/\r?\n$/, '');
    } catch (e) {
      throw usageError('storepass-file', `cannot read --storepass-file ${src.file}: ${(e as Error).message}`);
    }
  }
  if (pass === undefined) {
    const env = (src.env ?? process.env).DBTLS_STOREPASS;
    if (env !== undefined && env !== '') pass = env;
  }
  if (pass !== undefined && !/^[\x21-\x7e]+$/.test(pass)) {
    // Java's PKCS#12 and JCEKS refuse non-ASCII passwords; spaces break the properties files that carry them.
    throw usageError(
      'storepass-chars',
      'the store password must be printable ASCII without spaces (Java refuses others in PKCS#12 and JCEKS stores)',
    );
  }
  if (pass !== undefined && pass.length < MIN_STOREPASS) {
    throw usageError(
      'storepass-short',
      `the store password must have at least ${MIN_STOREPASS} characters (keytool refuses shorter ones)`,
    );
  }
  return pass;
}

/** 24 characters from an unambiguous alphabet: about 140 bits. */
export function generateStorepass(): string {
  let s = '';
  for (let i = 0; i < 24; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

export interface ClusterStorepass {
  password: string;
  /** The storepass file to write, when the password is new or changed. */
  file?: BatchFile;
  changed: boolean;
  /** The password kept before this run, when it changed (to re-seal secrets such as the JGroups key). */
  previous?: string;
}

/** The store password kept in <pki>/storepass, or undefined when none is kept. A symlink there is refused. */
export async function keptStorepass(pkiRoot: string): Promise<string | undefined> {
  const kept = await readIfExists(join(pkiRoot, STOREPASS_FILE), { what: 'the kept store password', maxBytes: 4096 });
  return kept?.toString('utf8').replace(/\r?\n$/, '');
}

/** The cluster's store password: the given one, else the kept one, else a new one. */
export async function clusterStorepass(pkiRoot: string, given: string | undefined): Promise<ClusterStorepass> {
  const path = join(pkiRoot, STOREPASS_FILE);
  const kept = await keptStorepass(pkiRoot);
  const password = given ?? kept ?? generateStorepass();
  if (password === kept) return { password, changed: false };
  return {
    password,
    changed: kept !== undefined,
    previous: kept,
    file: { path, data: password + '\n', mode: KEY_MODE },
  };
}
