// The one place that writes files. Every file is written to a temporary name in its own directory,
// created with its final mode (so a key is 0600 from its first byte), fsynced, and renamed into place;
// a run killed at any moment leaves either the old file or the new one, never a partial one.
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export const KEY_MODE = 0o600;
export const CERT_MODE = 0o644;
export const DIR_MODE = 0o700;

export interface FileOwner {
  uid: number;
  gid: number;
}

export interface WriteOptions {
  mode: number;
  owner?: FileOwner;
}

/** Suffix shared by every temporary file, so leftovers can be recognised and removed. */
export const TEMP_MARK = '.dbtls-tmp';

export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}${TEMP_MARK}`);
}

export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(TEMP_MARK);
}

/**
 * Writes data to a new temporary file beside `path`, with the final mode and owner, and fsyncs it.
 * Returns the temporary path; the caller renames it (see writeFileAtomic and commitBatch).
 */
export async function writeTemp(path: string, data: string | Uint8Array, opts: WriteOptions): Promise<string> {
  const temp = tempNameFor(path);
  // O_EXCL: never follow or reuse something already there. The mode is given to open(2) so the
  // file never exists with wider permissions; fchmod then corrects for a restrictive umask.
  const fh: FileHandle = await open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    opts.mode,
  );
  try {
    await fh.chmod(opts.mode);
    if (opts.owner) await fh.chown(opts.owner.uid, opts.owner.gid);
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  return temp;
}

/** fsync a directory so that renames in it survive a crash. */
export async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Writes one file atomically. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteOptions): Promise<void> {
  const temp = await writeTemp(path, data, opts);
  try {
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await syncDir(dirname(path));
}
