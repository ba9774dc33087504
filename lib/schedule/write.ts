// --out DIR: the schedule's files (one crontab snippet, or a .service and a .timer) written together
// or not at all. Each is written to a temporary name first (lib/store/atomic-write.ts); only when all
// are written are they renamed into place, and a rename that fails puts back what the others replaced.
import { readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CERT_MODE, syncDir, writeFileAtomic, writeTemp } from '../store/atomic-write.js';
import { usageError } from '../errors.js';

export interface OutFile {
  fileName: string;
  text: string;
}

/** Unit files and crontab snippets are not secret: 0644, as /etc/systemd/system expects. */
export const SCHEDULE_FILE_MODE = CERT_MODE;

export async function writeScheduleFiles(dir: string, files: OutFile[], cwd = process.cwd()): Promise<string[]> {
  const out = resolve(cwd, dir);
  const st = await stat(out).catch(() => undefined);
  if (!st?.isDirectory())
    throw usageError(
      'bad-out',
      `--out ${out} is not a directory`,
      'create it first, or give an existing one such as /etc/systemd/system',
    );
  const targets = files.map((f) => ({ ...f, path: join(out, f.fileName) }));
  for (const t of targets) {
    const existing = await stat(t.path).catch(() => undefined);
    if (existing && !existing.isFile()) throw usageError('bad-out', `${t.path} exists and is not a regular file`);
  }

  const temps: string[] = [];
  try {
    for (const t of targets) temps.push(await writeTemp(t.path, t.text, { mode: SCHEDULE_FILE_MODE }));
  } catch (e) {
    await Promise.all(temps.map((p) => unlink(p).catch(() => undefined)));
    throw e;
  }

  const replaced: Array<{ path: string; old: Buffer | undefined }> = [];
  try {
    for (const [i, t] of targets.entries()) {
      const old = await readFile(t.path).catch(() => undefined);
      await rename(temps[i]!, t.path);
      replaced.push({ path: t.path, old });
    }
  } catch (e) {
    await Promise.all(temps.map((p) => unlink(p).catch(() => undefined)));
    for (const r of replaced.reverse()) {
      if (r.old === undefined) await unlink(r.path).catch(() => undefined);
      else await writeFileAtomic(r.path, r.old, { mode: SCHEDULE_FILE_MODE }).catch(() => undefined);
    }
    throw e;
  }
  await syncDir(out);
  return targets.map((t) => t.path);
}
