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

/** Where admin tools live besides PATH (sshd, ip, useradd, visudo). */
export const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin'];

/** An admin tool on PATH or in SBIN_DIRS; throws naming `make system-deps` when it is missing. */
export async function systemTool(name: string): Promise<string> {
  const path = await which(name, SBIN_DIRS);
  if (!path) throw new Error(`${name} not found; run \`make system-deps\` (openssh-server, openssh-client, sudo)`);
  return path;
}
