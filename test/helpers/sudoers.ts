// Passwordless sudo for test users: one /etc/sudoers.d file each. These change the machine: only
// for `dbtls…` users, checked by visudo before they are moved in place, always removed.
import { chmod, rename, rm, writeFile } from 'node:fs/promises';
import { run } from './run.js';
import type { Scope } from './scope.js';
import { checkTestUserName, type TestUser } from './unix-users.js';
import { systemTool } from './which.js';

/** Path of the sudoers file allowSudo writes for USER. */
export function sudoersFile(user: string): string {
  return `/etc/sudoers.d/dbtls-test-${user}`;
}

/**
 * Lets USER (a test user, name starting with "dbtls") run anything as anyone without a password:
 * /etc/sudoers.d/dbtls-test-USER, mode 0440, checked with `visudo -cf` before it is moved in place.
 * Overwrites a leftover; removed when SCOPE ends.
 */
export async function allowSudo(scope: Scope, user: string | TestUser): Promise<string> {
  const name = typeof user === 'string' ? user : user.name;
  checkTestUserName(name);
  const file = sudoersFile(name);
  // sudo skips files in sudoers.d whose name holds a '.', so the temporary one is never read.
  const tmp = `${file}.${process.pid}.tmp`;
  scope.after(async () => {
    await rm(tmp, { force: true });
    await rm(file, { force: true });
  });
  await writeFile(
    tmp,
    `# written by dbtls tests (test/helpers/sudoers.ts); safe to delete\n${name} ALL=(ALL) NOPASSWD: ALL\n`,
    {
      mode: 0o440,
    },
  );
  await chmod(tmp, 0o440);
  const check = await run(await systemTool('visudo'), ['-cf', tmp], { timeoutMs: 10_000 });
  if (check.code !== 0) {
    await rm(tmp, { force: true });
    throw new Error(`visudo -cf rejected the sudoers entry for ${name}: ${check.stdout}${check.stderr}`);
  }
  await rename(tmp, file);
  return file;
}
