// Network namespaces for tests (a veth pair to this one), for servers that must be out of reach
// except through a bastion. These change the machine: named `dbtls-…`, always removed when their
// scope ends or the process exits.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { atExit } from './at-exit.js';
import { run } from './run.js';
import type { Scope } from './scope.js';
import { systemTool } from './which.js';

/** A network namespace joined to this one by a veth pair (a /30 of 10.x.y.z). */
export interface Netns {
  /** The `ip netns` name (`dbtls-…`). */
  readonly name: string;
  /** The veth end on this side, and its address. */
  readonly hostLink: string;
  readonly hostAddress: string;
  /** The namespace's veth address: reachable from here, unlike the namespace's own 127.0.0.1. */
  readonly nsAddress: string;
}

/** The names createNetns gives (startSshd refuses any other for `netns`). */
export const NETNS_NAME = /^dbtls-[0-9a-f]{8}$/;
const liveNetns = new Map<string, string>();

function removeNetnsSync(name: string, link: string): void {
  for (const args of [
    ['link', 'del', link],
    ['netns', 'del', name],
  ]) {
    try {
      execFileSync('ip', args, { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // already gone
    }
  }
}

// After the servers inside were killed (at-exit.ts runs the processes stage first).
atExit('namespaces', () => {
  for (const [name, link] of liveNetns) removeNetnsSync(name, link);
});

/** Whether a network namespace NAME or a link LINK exists (for tests of the cleanup). */
export async function netnsExists(name: string, link?: string): Promise<boolean> {
  const ns = await run(await systemTool('ip'), ['netns', 'list'], { timeoutMs: 10_000 });
  if (ns.stdout.split('\n').some((l) => l.split(' ')[0] === name)) return true;
  if (link === undefined) return false;
  return (await run(await systemTool('ip'), ['link', 'show', 'dev', link], { timeoutMs: 10_000 })).code === 0;
}

/**
 * Creates a network namespace with its loopback up and a veth pair to this namespace, on a /30 of
 * 10.0.0.0/8 that no interface here uses. Needs root (CAP_NET_ADMIN). The namespace and the veth pair
 * are removed when SCOPE ends (start its servers with the same scope, after this: they stop first),
 * or when the process exits.
 */
export async function createNetns(scope: Scope): Promise<Netns> {
  const ip = await systemTool('ip');
  const id = randomBytes(4).toString('hex');
  const name = `dbtls-${id}`;
  const hostLink = `dbv${id}h`;
  const nsLink = `dbv${id}n`;
  const used = (await run(ip, ['-o', '-4', 'addr', 'show'], { timeoutMs: 10_000 })).stdout;
  let prefix = '';
  for (let i = 0; i < 50 && !prefix; i++) {
    const candidate = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]}.`;
    if (!used.includes(` ${candidate}`)) prefix = candidate;
  }
  if (!prefix) throw new Error('createNetns: no free 10.x.y.0/24 found');
  const base = (randomBytes(1)[0]! % 64) * 4;
  const hostAddress = `${prefix}${base + 1}`;
  const nsAddress = `${prefix}${base + 2}`;
  liveNetns.set(name, hostLink);
  scope.after(async () => {
    removeNetnsSync(name, hostLink);
    liveNetns.delete(name);
  });
  const steps: string[][] = [
    ['netns', 'add', name],
    ['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', nsLink],
    ['link', 'set', nsLink, 'netns', name],
    ['addr', 'add', `${hostAddress}/30`, 'dev', hostLink],
    ['link', 'set', hostLink, 'up'],
    ['-n', name, 'addr', 'add', `${nsAddress}/30`, 'dev', nsLink],
    ['-n', name, 'link', 'set', nsLink, 'up'],
    ['-n', name, 'link', 'set', 'lo', 'up'],
  ];
  for (const args of steps) {
    const r = await run(ip, args, { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  }
  return { name, hostLink, hostAddress, nsAddress };
}
