// Options that name a file the user gives dbtls to read (an inventory, a CA certificate, a
// passphrase file, …). One rule for all of them, checked before any work starts: the file exists and
// is a regular file (a secret may also come through a pipe, `--ca-passphrase-file <(pass show ca)`);
// otherwise a usage error, exit 2, one line naming the option and the file — never a raw ENOENT.
// Options naming files dbtls writes or may create (--out, --log, --lock, --known-hosts) are not here.
import { statSync, type Stats } from 'node:fs';
import type { Command } from 'commander';
import { isDbtlsError, usageError, type DbtlsError } from '../lib/errors.js';
import { readGivenFile, type GivenFileOptions } from '../lib/store/safe-fs.js';

/** Read as files; a pipe is refused (a device or FIFO would be read without end, or block). */
const FILE_OPTIONS = new Set([
  '--inventory',
  '--ca-cert',
  '--ca-key',
  '--answers',
  '--cert',
  '--key',
  '--chain',
  '--ca',
]);
/** Secrets: a regular file or a pipe (process substitution keeps them off the disk). */
export const SECRET_FILE_OPTIONS = new Set(['--ca-passphrase-file', '--ssh-passphrase-file', '--storepass-file']);

/** The most a passphrase or password file may hold. */
export const MAX_SECRET_BYTES = 64 * 1024;

function problem(flag: string, path: string, message: string): DbtlsError {
  return usageError('input-file', `${flag} ${path}: ${message}`, undefined, { file: path, field: flag });
}

/** What is wrong with what PATH is, or undefined when it may be read for FLAG. */
function judge(st: Stats, pipeOk: boolean): string | undefined {
  if (st.isFile() || (pipeOk && st.isFIFO())) return undefined;
  if (st.isDirectory()) return 'is a directory, not a file';
  if (st.isFIFO()) return 'is a FIFO, not a regular file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'is a device, not a regular file';
  if (st.isSocket()) return 'is a socket, not a regular file';
  return 'is not a regular file';
}

/** What a failed stat, open or read says, in words ("no such file", "permission denied"). */
export function readProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: 'no such file',
    ENOTDIR: 'no such file (a part of the path is not a directory)',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ELOOP: 'too many levels of symbolic links',
    EISDIR: 'is a directory, not a file',
    ENAMETOOLONG: 'the name is too long',
  };
  return (code && words[code]) ?? (e as Error).message;
}

/** The error system calls give for PATH, in words, naming the option. */
export function fileError(flag: string, path: string, e: unknown): DbtlsError {
  if (isDbtlsError(e)) {
    // readGivenFile's own refusals ("… is a device, not a regular file", "… is N bytes, more than …").
    const text = e.message.startsWith(path) ? e.message.slice(path.length).replace(/^:?\s*/, '') : e.message;
    return problem(flag, path, text);
  }
  return problem(flag, path, readProblem(e));
}

/** Checks that PATH, given for FLAG, is a file that can be read; throws the usage error if not. */
export function checkInputFile(flag: string, path: string): void {
  const pipeOk = SECRET_FILE_OPTIONS.has(flag);
  let st: Stats;
  try {
    st = statSync(path); // follows a symlink: the user named the path
  } catch (e) {
    throw fileError(flag, path, e);
  }
  const wrong = judge(st, pipeOk);
  if (wrong) throw problem(flag, path, wrong);
}

/** Every input-file option COMMAND was given (strings or repeated lists), checked in argv order. */
export function checkInputFileOptions(command: Command): void {
  for (const opt of command.options) {
    const flag = opt.long;
    if (!flag || !(FILE_OPTIONS.has(flag) || SECRET_FILE_OPTIONS.has(flag))) continue;
    const value: unknown = command.getOptionValue(opt.attributeName());
    const paths =
      typeof value === 'string'
        ? [value]
        : Array.isArray(value)
          ? value.filter((v): v is string => typeof v === 'string')
          : [];
    for (const p of paths) checkInputFile(flag, p);
  }
}

/** Reads PATH given for FLAG, bounded; a missing, special or oversized file is a usage error naming both. */
export async function readInputFile(flag: string, path: string, opts: GivenFileOptions = {}): Promise<Buffer> {
  try {
    return await readGivenFile(path, {
      allowPipe: SECRET_FILE_OPTIONS.has(flag),
      ...(SECRET_FILE_OPTIONS.has(flag) ? { maxBytes: MAX_SECRET_BYTES } : {}),
      ...opts,
    });
  } catch (e) {
    throw fileError(flag, path, e);
  }
}
