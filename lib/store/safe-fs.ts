// Reading files that dbtls trusts (keys, certificates, manifests, journals) without following a
// symlink someone planted, without reading a device or FIFO, and without reading without bound.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { closeSync, constants, fchmodSync, fstatSync, openSync, type Stats } from 'node:fs';
import { inputError } from '../errors.js';

/** Larger than any PEM, manifest or keystore dbtls writes for a sane cluster; a bound for the rest. */
export const DEFAULT_MAX_BYTES = 64 << 20;

export interface SafeReadOptions {
  maxBytes?: number;
  /** A short name for errors ("the CA certificate"); the path is always named. */
  what?: string;
}

/**
 * Reads a regular file, refusing a symlink at the last component (O_NOFOLLOW), anything that is not a
 * regular file, and files larger than maxBytes. ENOENT is rethrown as is, so callers can test for it.
 */
export async function readFileNoFollow(path: string, opts: SafeReadOptions = {}): Promise<Buffer> {
  return (await readNoFollowWithStats(path, opts)).data;
}

/**
 * readFileNoFollow, also returning the stat of the very file that was read (fstat on the open
 * handle), so its owner and mode can be judged without a race against a swap.
 */
export async function readNoFollowWithStats(
  path: string,
  opts: SafeReadOptions = {},
): Promise<{ data: Buffer; stats: Stats }> {
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') {
      throw inputError(
        'symlink-refused',
        `${path} is a symbolic link; dbtls does not follow links to ${opts.what ?? 'the files it trusts'}`,
        undefined,
        'replace the link with the file itself',
      );
    }
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      throw inputError('not-a-file', `${path} is not a regular file`);
    }
    if (st.size > max) {
      throw inputError('file-too-large', `${path} is ${st.size} bytes, more than the ${max} dbtls reads`);
    }
    // Read at most max+1 bytes even if the file grows while we read.
    const buf = Buffer.alloc(Math.min(st.size, max) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) {
        if (n > max) throw inputError('file-too-large', `${path} grew past the ${max} bytes dbtls reads`);
        break;
      }
    }
    return { data: buf.subarray(0, n), stats: st };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** readFileNoFollow as UTF-8 text. */
export async function readTextNoFollow(path: string, opts: SafeReadOptions = {}): Promise<string> {
  return (await readFileNoFollow(path, opts)).toString('utf8');
}

/** readFileNoFollow, or undefined when the file does not exist. */
export async function readIfExists(path: string, opts: SafeReadOptions = {}): Promise<Buffer | undefined> {
  try {
    return await readFileNoFollow(path, opts);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** readIfExists as UTF-8 text: "read a file, nothing if it is not there", the one way lib/ does it. */
export async function readTextIfExists(path: string, opts: SafeReadOptions = {}): Promise<string | undefined> {
  return (await readIfExists(path, opts))?.toString('utf8');
}

export interface GivenFileOptions extends SafeReadOptions {
  /** Also read a pipe (`--passphrase-file <(pass show ca)`), bounded like a file. Devices never. */
  allowPipe?: boolean;
}

/**
 * Reads a file the user named on the command line (`dbtls inspect FILE`, `--ca FILE`). A symlink is
 * followed (the user chose the path, as with cat), but only a regular file (or, with allowPipe, a
 * pipe) is opened: a device, FIFO, socket or directory is refused by its stat, before any open (opening
 * some devices has side effects), and at most maxBytes are read (/dev/zero, a growing file, `<(yes)`).
 * ENOENT, ENOTDIR and EACCES are rethrown as they are, so callers can name the option too.
 */
export async function readGivenFile(path: string, opts: GivenFileOptions = {}): Promise<Buffer> {
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const refuse = (st: Stats) => {
    const what = st.isFIFO()
      ? 'a FIFO'
      : st.isDirectory()
        ? 'a directory'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : st.isSocket()
            ? 'a socket'
            : 'something else';
    return inputError('not-a-file', `${path} is ${what}, not a regular file`, { file: path });
  };
  const acceptable = (st: Stats) => st.isFile() || (opts.allowPipe === true && st.isFIFO());
  const before = await stat(path);
  if (!acceptable(before)) throw refuse(before);
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    // Swapped between the stat and the open: judged again on what was opened.
    if (!acceptable(st) || st.dev !== before.dev || st.ino !== before.ino) throw refuse(st);
    if (st.isFile() && st.size > max) {
      throw inputError('file-too-large', `${path} is ${st.size} bytes, more than the ${max} dbtls reads`, {
        file: path,
      });
    }
    const chunks: Buffer[] = [];
    let n = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.min(64 * 1024, max + 1 - n));
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, 0, buf.length, null));
      } catch (e) {
        // A pipe opened O_NONBLOCK with nothing in it yet: wait for the writer.
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        throw e;
      }
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      n += bytesRead;
      if (n > max)
        throw inputError('file-too-large', `${path} holds more than the ${max} bytes dbtls reads`, { file: path });
    }
    return Buffer.concat(chunks, n);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

export interface AppendFile {
  fd: number;
  /** The file's size when it was opened. */
  size: number;
  /** Whether this open created it. */
  created: boolean;
}

/**
 * Opens PATH to append to it (read-write, so its tail can be read), creating it 0600
 * (O_APPEND|O_CREAT|O_NOFOLLOW). A symlink there, something that is not a regular file, a file another
 * user owns, or one open to anyone but its owner (not 0600) is refused before a byte is written
 * (audit-log-refused: the audit log is the one file dbtls appends to). Synchronous: an append log
 * written from the progress callbacks stays in the order the events came.
 */
export function openAppendNoFollow(path: string, what: string): AppendFile {
  const flags = constants.O_RDWR | constants.O_APPEND | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const refuse = (why: string, hint?: string) =>
    inputError('audit-log-refused', `${path}: ${why}; dbtls does not write ${what} there`, { file: path }, hint);
  let fd: number;
  let created = false;
  try {
    // O_EXCL first: a file this run creates gets its mode at once (then fchmod corrects for a umask).
    fd = openSync(path, flags | constants.O_CREAT | constants.O_EXCL, 0o600);
    created = true;
    fchmodSync(fd, 0o600);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno !== 'EEXIST') throw e;
    try {
      fd = openSync(path, flags);
    } catch (e2) {
      const errno2 = (e2 as NodeJS.ErrnoException).code;
      if (errno2 === 'ELOOP') throw refuse('is a symbolic link', 'replace the link with the file itself');
      if (errno2 === 'EISDIR') throw refuse('is a directory');
      throw e2;
    }
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw refuse('is not a regular file');
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) throw refuse(`is owned by uid ${st.uid}, not by this user (${uid})`);
    if ((st.mode & 0o777) !== 0o600)
      throw refuse(`has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, not 0600`, `chmod 600 ${path}`);
    return { fd, size: st.size, created };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
