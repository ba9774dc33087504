// A set of files that must change together (a CA and the certificates it signed, say).
// Every file is first written to a temporary name; then a journal listing the renames is written
// atomically; then the renames run and the journal is removed. A run killed before the journal
// exists leaves only temporaries (removed next time); a run killed after it is rolled forward by
// the next run. Either way no final name ever holds a partial file or a mismatched set.
//
// The journal is trusted only as far as it can be: it must be a regular file (opened O_NOFOLLOW)
// owned by the euid with no group/other bits; its paths are relative to its own folder and stay
// below it; each temporary is the dbtls temporary of that very final name and is lstat'ed (a regular
// file with the owner the journal expects) before it is renamed. Anything else is refused, named,
// and nothing is applied. Paths relative to the journal's folder also mean a folder moved after a
// killed run is rolled forward where it now is.
import { lstat, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import {
  writeFileAtomic,
  writeTemp,
  syncDir,
  isTempName,
  TEMP_MARK,
  KEY_MODE,
  type WriteOptions,
} from './atomic-write.js';
import { readNoFollowWithStats } from './safe-fs.js';
import type { Stats } from 'node:fs';
import { DbtlsError, inputError } from '../errors.js';

export interface BatchFile extends WriteOptions {
  path: string;
  data: string | Uint8Array;
}

/** Version 2: [temp, final, owner uid of the temp] relative to the journal's folder ("/" separated). */
interface Journal {
  version: 2;
  renames: Array<[temp: string, final: string, uid: number]>;
}

/** Temporaries written at once: enough to hide fsync latency, few enough to stay under fd limits. */
const WRITE_CONCURRENCY = 32;
/** Far more than any journal dbtls writes (about 200 bytes a file). */
const MAX_JOURNAL_BYTES = 16 << 20;
/** How deep below the journal's folder temporaries are looked for (nodes/<n>/tungsten is 3). */
export const SWEEP_DEPTH = 6;
/** Entries looked at by one sweep: a bound for a folder someone filled. */
const SWEEP_MAX_ENTRIES = 200_000;

function euid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : 0;
}

function toRelative(root: string, path: string): string {
  const rel = relative(root, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
    throw new Error(`internal: ${path} is not below ${root}, where its journal is`);
  return rel.split(sep).join('/');
}

export async function commitBatch(files: BatchFile[], journalPath: string): Promise<void> {
  const root = dirname(journalPath);
  const renames: Array<[string, string, number]> = new Array(files.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < files.length) {
      const i = next++;
      const f = files[i]!;
      try {
        renames[i] = [await writeTemp(f.path, f.data, f), f.path, f.owner?.uid ?? euid()];
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, files.length) }, worker));
  if (failed !== undefined) {
    await Promise.all(renames.filter(Boolean).map(([temp]) => unlink(temp).catch(() => undefined)));
    throw failed;
  }
  const journal: Journal = {
    version: 2,
    renames: renames.map(([t, f, uid]) => [toRelative(root, t), toRelative(root, f), uid]),
  };
  await writeFileAtomic(journalPath, JSON.stringify(journal), { mode: KEY_MODE });
  await applyRenames(root, journalPath, journal, false);
  await unlink(journalPath);
  await syncDir(root);
}

function refuse(journalPath: string, what: string): DbtlsError {
  return inputError(
    'bad-journal',
    `${journalPath} ${what}; it is not applied`,
    { file: journalPath },
    `it records an interrupted dbtls write: check that no file it names is missing (and who wrote it), then remove ${journalPath} and run again`,
  );
}

/** One relative path below the journal's folder: no absolute path, no "..", no ".", no NUL, no empty part. */
function safeRelative(p: unknown): p is string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 4096 || p.includes('\0') || p.startsWith('/')) return false;
  return p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

const TEMP_TAIL = new RegExp(`^\\.[0-9a-f]{12}${TEMP_MARK.replace(/[.]/g, '\\.')}$`);

/** Is TEMP the name tempNameFor gives a temporary of FINAL (same folder, `.<base>.<12 hex>.dbtls-tmp`)? */
function isTempOf(temp: string, final: string): boolean {
  const cut = (p: string) => {
    const i = p.lastIndexOf('/');
    return [p.slice(0, i + 1), p.slice(i + 1)] as const;
  };
  const [td, tb] = cut(temp);
  const [fd, fb] = cut(final);
  return td === fd && tb.startsWith(`.${fb}`) && TEMP_TAIL.test(tb.slice(fb.length + 1));
}

/** Parses and checks a journal's text; old (version 1, absolute paths) journals are converted first. */
function parseJournal(journalPath: string, text: string): Journal {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw refuse(journalPath, 'is garbled (not JSON)');
  }
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { renames?: unknown }).renames)) {
    throw refuse(journalPath, 'is not a dbtls journal (no list of renames)');
  }
  const { version, renames } = raw as { version?: unknown; renames: unknown[] };
  if (version !== 1 && version !== 2)
    throw refuse(journalPath, `has an unknown version ${JSON.stringify(version)?.slice(0, 20)}`);
  const root = dirname(journalPath);
  const out: Journal['renames'] = [];
  for (const [i, entry] of renames.entries()) {
    if (!Array.isArray(entry) || entry.length !== (version === 1 ? 2 : 3))
      throw refuse(journalPath, `is garbled (entry ${i + 1} is not a rename)`);
    let [temp, final] = entry as unknown[];
    const uid = version === 1 ? euid() : entry[2];
    if (version === 1) {
      // Absolute paths: kept only when they lie below the journal's folder.
      if (typeof temp !== 'string' || typeof final !== 'string' || !isAbsolute(temp) || !isAbsolute(final))
        throw refuse(journalPath, `is garbled (entry ${i + 1} is not a rename)`);
      temp = relative(root, temp).split(sep).join('/');
      final = relative(root, final).split(sep).join('/');
    }
    if (!safeRelative(temp) || !safeRelative(final)) {
      throw refuse(
        journalPath,
        `names a path outside its own folder (entry ${i + 1}: ${JSON.stringify(String(version === 1 ? entry[1] : final)).slice(0, 120)})`,
      );
    }
    if (!isTempOf(temp, final))
      throw refuse(
        journalPath,
        `renames ${JSON.stringify(temp).slice(0, 120)}, which is not a dbtls temporary of ${JSON.stringify(final).slice(0, 120)} (entry ${i + 1})`,
      );
    if (typeof uid !== 'number' || !Number.isInteger(uid) || uid < 0)
      throw refuse(journalPath, `is garbled (entry ${i + 1} has no owner)`);
    out.push([temp, final, uid]);
  }
  return { version: 2, renames: out };
}

/** Every folder between ROOT and REL's file must be a real folder (no symlink to elsewhere). */
async function checkParents(root: string, rel: string, journalPath: string): Promise<void> {
  const parts = rel.split('/').slice(0, -1);
  let d = root;
  for (const part of parts) {
    d = join(d, part);
    const st = await lstat(d).catch(() => undefined);
    if (st && !st.isDirectory())
      throw refuse(journalPath, `names a file below ${d}, which is not a folder (a symbolic link?)`);
  }
}

async function applyRenames(root: string, journalPath: string, journal: Journal, verify: boolean): Promise<void> {
  const dirs = new Set<string>();
  if (verify) {
    // Everything is checked before anything is renamed: a refused journal moves nothing.
    for (const [temp, final, uid] of journal.renames) {
      await checkParents(root, final, journalPath);
      const st = await lstat(join(root, temp)).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
        throw e;
      });
      if (st === undefined) continue; // renamed already by the interrupted run
      if (!st.isFile() || st.nlink !== 1)
        throw refuse(journalPath, `names ${join(root, temp)}, which is not a regular file with one name`);
      if (st.uid !== uid)
        throw refuse(
          journalPath,
          `names ${join(root, temp)}, owned by uid ${st.uid}, not by uid ${uid} as dbtls wrote it`,
        );
    }
  }
  for (const [temp, final] of journal.renames) {
    try {
      await rename(join(root, temp), join(root, final));
    } catch (e) {
      // Already renamed by an earlier, interrupted run: nothing left to do for this file.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    dirs.add(dirname(join(root, final)));
  }
  for (const d of dirs) await syncDir(d);
}

/** Reads and judges the journal; undefined when there is none. */
async function readJournal(journalPath: string): Promise<Journal | undefined> {
  let data: Buffer;
  let st: Stats;
  try {
    ({ data, stats: st } = await readNoFollowWithStats(journalPath, { maxBytes: MAX_JOURNAL_BYTES, what: 'journals' }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (e instanceof DbtlsError) throw refuse(journalPath, `cannot be trusted: ${e.message}`);
    throw e;
  }
  const me = euid();
  if (st.uid !== me)
    throw refuse(
      journalPath,
      `is owned by uid ${st.uid}, not by uid ${me} (the user dbtls runs as): another user wrote it`,
    );
  if (st.nlink !== 1) throw refuse(journalPath, `has ${st.nlink} hard links: another name for it exists elsewhere`);
  if (st.mode & 0o077)
    throw refuse(
      journalPath,
      `has mode 0${(st.mode & 0o777).toString(8)}, not 0600: another user could have written it`,
    );
  return parseJournal(journalPath, data.toString('utf8'));
}

export type RecoveryResult = 'clean' | 'rolled-forward';

export interface RecoverOptions {
  /** How many folder levels below the journal's folder are swept for temporaries (0: that folder only). */
  depth?: number;
}

/**
 * Finishes a batch that an earlier run started and could not complete, then removes temporaries
 * left by runs killed before their journal was written, in the journal's folder and every folder
 * below it (not following links, to SWEEP_DEPTH). Only regular files owned by the euid with a dbtls
 * temporary name are removed. Call it, under the store's lock, before deciding what exists.
 */
export async function recoverBatch(journalPath: string, opts: RecoverOptions = {}): Promise<RecoveryResult> {
  const depth = opts.depth ?? SWEEP_DEPTH;
  const root = dirname(journalPath);
  let result: RecoveryResult = 'clean';
  const journal = await readJournal(journalPath);
  if (journal !== undefined) {
    await applyRenames(root, journalPath, journal, true);
    await unlink(journalPath);
    await syncDir(root);
    result = 'rolled-forward';
  }
  await sweepTemps(root, depth);
  return result;
}

async function sweepTemps(root: string, depth: number): Promise<void> {
  const me = euid();
  let seen = 0;
  const queue: Array<[string, number]> = [[root, 0]];
  while (queue.length > 0 && seen < SWEEP_MAX_ENTRIES) {
    const [dir, level] = queue.shift()!;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    seen += entries.length;
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory() && level < depth) queue.push([p, level + 1]);
      else if (isTempName(e.name)) {
        const st = await lstat(p).catch(() => undefined);
        if (st && st.isFile() && st.uid === me) await unlink(p).catch(() => undefined);
      }
    }
  }
}
