// Finds an executable on PATH or in extra folders (sbin, a JDK's bin), like `command -v`.
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export async function which(name: string, extraDirs: string[] = [], firstDirs: string[] = []): Promise<string | null> {
  const dirs = [...firstDirs, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}
