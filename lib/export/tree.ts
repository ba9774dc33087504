// A folder written as a whole: built beside its final place under a temporary name, then renamed in,
// so a reader sees the old export or the new one, never a half-written mix. Files are created with
// their final mode (keys 0600 from the first byte, through the store's atomic write). An existing
// folder is compared first: identical means nothing to do; different is replaced only with force,
// and only if it is empty or an earlier export (its marker file says so), never an arbitrary folder.
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, posix } from 'node:path';
import { DIR_MODE, TEMP_MARK, syncDir, writeFileAtomic } from '../store/atomic-write.js';
import { readFileNoFollow } from '../store/safe-fs.js';
import { DbtlsError, inputError } from '../errors.js';

export interface TreeFile {
  /** Relative to the folder, "/"-separated, no ".." segments. */
  path: string;
  data: string | Buffer;
  mode: number;
}

export interface TreeOptions {
  /** Replace an existing folder that differs (only an empty one or an earlier export). */
  force?: boolean;
  /** Compare only: write nothing. */
  check?: boolean;
  /** A file of the tree whose presence marks a folder as one this writer may replace. */
  marker: string;
}

export interface TreeResult {
  /** The folder was (or, with check, would be) written. */
  changed: boolean;
}

type Existing = Map<string, { data: Buffer; mode: number }> | 'not-a-folder';

async function readExisting(dir: string): Promise<Existing | undefined> {
  const st = await lstat(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (!st) return undefined;
  if (!st.isDirectory()) return 'not-a-folder';
  const files = new Map<string, { data: Buffer; mode: number }>();
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? posix.join(rel, entry.name) : entry.name;
      if (entry.isDirectory()) await walk(r);
      // Anything else than a regular file (a link, a socket), or one larger than dbtls reads, makes the
      // folder differ from any tree; files are read without following a link swapped in meanwhile.
      else files.set(r, entry.isFile() ? await existingFile(join(dir, r)) : DIFFERS);
    }
  };
  await walk('');
  return files;
}

const DIFFERS = { data: Buffer.alloc(0), mode: -1 };

async function existingFile(path: string): Promise<{ data: Buffer; mode: number }> {
  try {
    const data = await readFileNoFollow(path, { what: 'an earlier export' });
    return { data, mode: (await lstat(path)).mode & 0o777 };
  } catch (e) {
    if (e instanceof DbtlsError) return DIFFERS;
    throw e;
  }
}

function same(existing: Map<string, { data: Buffer; mode: number }>, files: TreeFile[]): boolean {
  if (existing.size !== files.length) return false;
  return files.every((f) => {
    const e = existing.get(f.path);
    return e !== undefined && e.mode === f.mode && e.data.equals(Buffer.from(f.data));
  });
}

function checkPath(path: string): void {
  if (!path || path.startsWith('/') || path.split('/').some((s) => s === '' || s === '.' || s === '..'))
    throw new RangeError(`not a relative path inside the folder: ${path}`);
}

/** Writes FILES as the folder OUT (absolute), atomically; see the top of this file. */
export async function writeTree(out: string, files: TreeFile[], opts: TreeOptions): Promise<TreeResult> {
  files.forEach((f) => checkPath(f.path));
  const existing = await readExisting(out);
  if (existing === 'not-a-folder')
    throw inputError('out-not-folder', `${out} exists and is not a folder`, { file: out });
  if (existing && same(existing, files)) return { changed: false };
  if (existing && existing.size > 0) {
    if (!existing.has(opts.marker)) {
      throw inputError(
        'out-not-empty',
        `${out} is not empty and holds no earlier export (no ${opts.marker}): refusing to replace it`,
        { file: out },
        'choose an empty or new folder for --out',
      );
    }
    if (!opts.force)
      throw inputError(
        'out-not-empty',
        `${out} holds an earlier, different export`,
        { file: out },
        'pass --force to replace it',
      );
  }
  if (opts.check) return { changed: true };

  const parent = dirname(out);
  const stamp = randomBytes(6).toString('hex');
  const temp = join(parent, `.${basename(out)}.${stamp}${TEMP_MARK}`);
  try {
    await mkdir(parent, { recursive: true });
    await mkdir(temp, { mode: DIR_MODE });
    const dirs = new Set<string>();
    for (const f of files) {
      const dir = posix.dirname(f.path);
      if (dir !== '.' && !dirs.has(dir)) {
        await mkdir(join(temp, dir), { recursive: true, mode: DIR_MODE });
        dirs.add(dir);
      }
      await writeFileAtomic(join(temp, f.path), f.data, { mode: f.mode });
    }
    if (!existing) {
      await rename(temp, out);
    } else {
      // The old folder steps aside under a temporary name, the new one takes its place, the old goes.
      const old = join(parent, `.${basename(out)}.${stamp}.old${TEMP_MARK}`);
      await rename(out, old);
      try {
        await rename(temp, out);
      } catch (e) {
        await rename(old, out).catch(() => undefined);
        throw e;
      }
      await rm(old, { recursive: true, force: true });
    }
  } catch (e) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    if (e instanceof DbtlsError) throw e;
    throw new DbtlsError('export-write', `could not write ${out}: ${(e as Error).message}`, { cause: e });
  }
  await syncDir(parent);
  return { changed: true };
}
