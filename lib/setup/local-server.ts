// What a local mysqld or mariadbd can tell us: its version (the default --suffix of
// mysql_ssl_rsa_setup; without a server, a fixed, documented string) and, as a last resort, its datadir.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { childEnv } from '../child-env.js';

export const FALLBACK_SUFFIX = 'dbtls';
const SERVERS = ['mysqld', 'mariadbd'];
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/mysql/bin'];

async function findExecutable(names: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const name of names) {
    for (const dir of dirs) {
      const p = join(dir, name);
      try {
        await access(p, constants.X_OK);
        return p;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** "mariadbd  Ver 10.11.6-MariaDB-0+deb12u1 for debian-linux-gnu" → "10.11.6". */
export function parseServerVersion(output: string): string | undefined {
  return /\bVer\s+(\d+\.\d+\.\d+)/.exec(output)?.[1];
}

/**
 * The server binary to ask: $DBTLS_SERVER when set ("none" asks nothing), else the first mysqld or
 * mariadbd on PATH or in the usual sbin folders.
 */
export async function findServer(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const chosen = env.DBTLS_SERVER;
  if (chosen === 'none') return undefined;
  if (chosen) return chosen;
  return findExecutable(SERVERS, env);
}

/** The server gets the scrubbed environment (childEnv): DBTLS_SERVER is read here, never passed on. */
async function askServer(args: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const bin = await findServer(env);
  if (!bin) return undefined;
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 10_000, env: childEnv({}, env), maxBuffer: 8 << 20 }, (err, stdout) =>
      resolve(err ? undefined : stdout),
    );
  });
}

export async function localServerVersion(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const out = await askServer(['--version'], env);
  return out === undefined ? undefined : parseServerVersion(out);
}

/** The option-file arguments both servers take; they must come first on the command line. */
export interface ServerOptionFiles {
  defaultsFile?: string;
  extraFile?: string;
  noDefaults?: boolean;
}

/** "datadir    /var/lib/mysql/" from the variables table of `--verbose --help`. */
export function parseHelpDatadir(output: string): string | undefined {
  return /^datadir\s+(\S.*?)\s*$/m.exec(output)?.[1];
}

/**
 * The datadir the local server would use, compiled-in default included: what
 * `mysqld --verbose --help` prints. Used only when neither --datadir nor an option file names one.
 */
export async function localServerDatadir(
  files: ServerOptionFiles,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const args: string[] = [];
  if (files.noDefaults) args.push('--no-defaults');
  else if (files.defaultsFile) args.push(`--defaults-file=${files.defaultsFile}`);
  if (!files.noDefaults && files.extraFile) args.push(`--defaults-extra-file=${files.extraFile}`);
  const out = await askServer([...args, '--verbose', '--help'], env);
  return out === undefined ? undefined : parseHelpDatadir(out);
}
