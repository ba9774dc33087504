// Programs named by absolute path: cron and systemd run jobs with a minimal PATH and in another
// working directory, so what works in the user's shell must be pinned down when the job is made.
import { access, constants, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { usageError } from '../errors.js';

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` on PATH (as `command -v`), or undefined. */
export async function findOnPath(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!isAbsolute(dir)) continue; // a relative PATH entry means nothing in cron
    const file = join(dir, name);
    if (await isExecutableFile(file)) return file;
  }
  return undefined;
}

/**
 * A program the user named for the job (`--dbtls`): a bare name is looked up on PATH, anything else
 * is resolved against `cwd`; either way it must be an executable file now.
 */
export async function resolveProgram(
  given: string,
  flag: string,
  cwd: string,
  path = process.env.PATH ?? '',
): Promise<string> {
  if (given.trim() === '') throw usageError('bad-program', `${flag} must name a program`);
  if (!given.includes('/')) {
    const found = await findOnPath(given, path);
    if (!found)
      throw usageError(
        'bad-program',
        `${flag} ${given}: not found on PATH`,
        `give its absolute path, e.g. ${flag} /usr/local/bin/${given}`,
      );
    return found;
  }
  const abs = resolve(cwd, given);
  if (!(await isExecutableFile(abs))) throw usageError('bad-program', `${flag} ${abs} is not an executable file`);
  return abs;
}
