// Unix accounts for tests (logins as a non-root user, file owners). These change the machine:
// named `dbtls…`, tagged in GECOS, made idempotently and always removed with their processes.
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freezeAndKill, procTable, waitGone } from './process-tree.js';
import { run } from './run.js';
import type { Scope } from './scope.js';
import { systemTool } from './which.js';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

const USER_TAG = 'dbtls test user';
// Only names starting with "dbtls" are made or removed: a slip can never delete a real account.
const TEST_USER_NAME = /^dbtls[a-z0-9_-]{0,27}$/;

/** Throws unless NAME is one the harness may make or remove (starts with "dbtls"). */
export function checkTestUserName(name: string): void {
  if (!TEST_USER_NAME.test(name)) {
    throw new Error(`test user names must match ${TEST_USER_NAME} (start with "dbtls", ≤ 32 chars): ${name}`);
  }
}

async function passwdEntry(name: string): Promise<string[] | null> {
  const r = await run('getent', ['passwd', name], { timeoutMs: 10_000 });
  return r.code === 0 ? r.stdout.trim().split(':') : null;
}

// useradd/userdel lock /etc/passwd; tests running in parallel may meet the lock: try again briefly.
async function accountTool(cmd: string, args: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const r = await run(await systemTool(cmd), args, { timeoutMs: 30_000 });
    if (r.code === 0) return;
    if (attempt < 20 && /lock|try again/i.test(r.stderr)) {
      await sleep(100 + Math.random() * 200);
      continue;
    }
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  }
}

async function removeTestUser(name: string): Promise<void> {
  const entry = await passwdEntry(name);
  if (!entry) return;
  if (entry[4] !== USER_TAG)
    throw new Error(`refusing to remove ${name}: not made by the test harness (GECOS "${entry[4]}")`);
  // Its processes first (e.g. sessions of a server still running), then the account (-f: even if in use).
  const uid = Number(entry[2]);
  const table = procTable();
  const mine: number[] = [];
  for (const pid of table.keys()) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const m = /^Uid:\s+(\d+)/m.exec(status);
      if (m && Number(m[1]) === uid) mine.push(pid);
    } catch {
      // gone
    }
  }
  if (mine.length) await waitGone(freezeAndKill(mine), 2_000);
  await accountTool('userdel', ['--force', '--remove', name]).catch(async (e: Error) => {
    // -r fails (exit 12) if the home is already gone; the account itself is removed by then.
    if (await passwdEntry(name)) throw e;
  });
  const g = await run('getent', ['group', name], { timeoutMs: 10_000 });
  if (g.code === 0) await accountTool('groupdel', [name]).catch(() => undefined);
}

/**
 * Creates system account NAME (must start with "dbtls") with its own group, a home in a temp folder,
 * /bin/sh, and a usable-but-no password (`*`: sshd with UsePAM no refuses locked `!` accounts).
 * A leftover account of the same name made by this harness is replaced. Removed when SCOPE ends.
 */
export async function createTestUser(scope: Scope, name: string): Promise<TestUser> {
  checkTestUserName(name);
  await removeTestUser(name);
  const dir = await mkdtemp(join(tmpdir(), 'dbtls-home-'));
  scope.after(async () => {
    try {
      await removeTestUser(name);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  await chmod(dir, 0o755);
  const home = join(dir, name);
  await accountTool('useradd', [
    '--system',
    '--user-group',
    '--create-home',
    '--home-dir',
    home,
    '--shell',
    '/bin/sh',
    '--password',
    '*',
    '--comment',
    USER_TAG,
    name,
  ]);
  const entry = await passwdEntry(name);
  if (!entry) throw new Error(`useradd ${name} reported success but getent does not find it`);
  return { name, uid: Number(entry[2]), gid: Number(entry[3]), home };
}
