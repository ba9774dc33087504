// Reading a file the user names as input (an inventory, an answers file): a regular file of at most
// LIMITS.inputBytes, read with one bounded read. The path is the operator's own choice, so a symbolic
// link to an inventory is followed (as ssh -F or ansible -i do); a device, a FIFO or a folder is
// refused before anything is read, and opening never blocks (O_NONBLOCK), so /dev/zero or a FIFO
// cannot hang or exhaust dbtls.
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { inputError } from '../errors.js';
import { LIMITS } from './limits.js';

/** FILE's text; WHAT names it in errors ("the inventory"), SHOWN is the path as the user gave it. */
export async function readInputText(
  file: string,
  what: InputFile,
  shown: string = file,
  maxBytes: number = LIMITS.inputBytes,
): Promise<string> {
  let fh: FileHandle;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw inputError(
      `${code(what)}-unreadable`,
      `cannot read ${what}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`,
      { file: shown },
    );
  }
  try {
    const st = await fh.stat();
    if (!st.isFile())
      throw inputError(
        `${code(what)}-unreadable`,
        `cannot read ${what}: ${st.isDirectory() ? 'it is a folder' : 'it is not a regular file'}`,
        { file: shown },
      );
    if (st.size > maxBytes) throw tooLarge(what, shown, `${st.size} bytes`, maxBytes);
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > maxBytes) throw tooLarge(what, shown, `larger than ${maxBytes} bytes (it grew while read)`, maxBytes);
      if (n === buf.length) break;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** The files read this way, each with the first part of its error codes (inventory-unreadable, inventory-too-large). */
const CODE_PREFIX = {
  'the inventory': 'inventory',
  'the answers file': 'answers-file',
  'the Ansible inventory': 'ansible-inventory',
} as const;
export type InputFile = keyof typeof CODE_PREFIX;

const code = (what: InputFile) => CODE_PREFIX[what];

function tooLarge(what: InputFile, shown: string, size: string, max: number) {
  return inputError(
    `${code(what)}-too-large`,
    `${what} is ${size}; dbtls reads at most ${max} bytes (${max >> 20} MiB)`,
    { file: shown },
    'split the cluster into several inventories',
  );
}
