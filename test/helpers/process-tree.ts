// Process trees read from /proc (this kernel has no /proc/PID/task/TID/children): what the sshd
// harness and the test-user cleanup use to take down a listener's sessions, or a user's processes,
// without one escaping by forking or being re-parented meanwhile.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcEntry {
  ppid: number;
  state: string;
}

/** Every process's parent PID and state letter, by PID. */
export function procTable(): Map<number, ProcEntry> {
  const table = new Map<number, ProcEntry>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) S ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    table.set(Number(name), { state: rest[0] ?? '?', ppid: Number(rest[1]) });
  }
  return table;
}

/** Whether PID exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** process.kill that ignores a process already gone. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** The live (not zombie) children of any of PARENTS. */
export function childrenOf(parents: Set<number>, table: Map<number, ProcEntry>): number[] {
  const out: number[] = [];
  for (const [pid, e] of table) if (parents.has(e.ppid) && e.state !== 'Z') out.push(pid);
  return out;
}

/**
 * Freezes ROOTS and everything below them (SIGSTOP top-down, so nothing forks or is re-parented out
 * of reach), then SIGKILLs the lot. Returns every PID signalled.
 */
export function freezeAndKill(roots: number[]): number[] {
  const seen = new Set<number>();
  let frontier = roots.filter((p) => !seen.has(p));
  for (let round = 0; frontier.length > 0 && round < 100; round++) {
    for (const pid of frontier) {
      signal(pid, 'SIGSTOP');
      seen.add(pid);
    }
    frontier = childrenOf(seen, procTable()).filter((p) => !seen.has(p));
  }
  for (const pid of seen) signal(pid, 'SIGKILL');
  return [...seen];
}

/** Waits until none of PIDS is alive, or MS have passed. */
export async function waitGone(pids: number[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (pids.some(alive) && Date.now() < deadline) await sleep(20);
}
