// A set of files that must change together (a CA and the certificates it signed, say).
// Every file is first written to a temporary name; then a journal listing the renames is written
// atomically; then the renames run and the journal is removed. A run killed before the journal
// exists leaves only temporaries (removed next time); a run killed after it is rolled forward by
// the next run. Either way no final name ever holds a partial file or a mismatched set.
import { readFile, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic, writeTemp, syncDir, isTempName, KEY_MODE, type WriteOptions } from './atomic-write.js';

export interface BatchFile extends WriteOptions {
  path: string;
  data: string | Uint8Array;
}

interface Journal {
  version: 1;
  renames: Array<[temp: string, final: string]>;
}

/** Temporaries written at once: enough to hide fsync latency, few enough to stay under fd limits. */
const WRITE_CONCURRENCY = 32;

export async function commitBatch(files: BatchFile[], journalPath: string): Promise<void> {
  const renames: Journal['renames'] = new Array(files.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < files.length) {
      const i = next++;
      const f = files[i]!;
      try {
        renames[i] = [await writeTemp(f.path, f.data, f), f.path];
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
  const journal: Journal = { version: 1, renames };
  await writeFileAtomic(journalPath, JSON.stringify(journal), { mode: KEY_MODE });
  await applyRenames(journal);
  await unlink(journalPath);
  await syncDir(dirname(journalPath));
}

async function applyRenames(journal: Journal): Promise<void> {
  const dirs = new Set<string>();
  for (const [temp, final] of journal.renames) {
    try {
      await rename(temp, final);
    } catch (e) {
      // Already renamed by an earlier, interrupted run: nothing left to do for this file.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    dirs.add(dirname(final));
  }
  for (const d of dirs) await syncDir(d);
}

export type RecoveryResult = 'clean' | 'rolled-forward';

/**
 * Finishes a batch that an earlier run started and could not complete, then removes temporaries
 * left by runs killed before their journal was written. Call it, under the store's lock, before
 * deciding what exists.
 */
export async function recoverBatch(journalPath: string, tempDirs: string[]): Promise<RecoveryResult> {
  let result: RecoveryResult = 'clean';
  let text: string | undefined;
  try {
    text = await readFile(journalPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (text !== undefined) {
    const journal = JSON.parse(text) as Journal;
    await applyRenames(journal);
    await unlink(journalPath);
    result = 'rolled-forward';
  }
  for (const dir of tempDirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    await Promise.all(names.filter(isTempName).map((n) => unlink(join(dir, n)).catch(() => undefined)));
  }
  return result;
}
