// The nodes as `dbtls init` collects them: typed one by one, pasted as a list, given in an answers
// file or imported from an Ansible inventory. A node's address may carry its SSH port, as Ansible
// writes it (`db1:2222`, `[::1]:2222`); a bare IPv6 address has no port.
import { isIPv6 } from 'node:net';
import * as rules from '../inventory/rules.js';
import { quoteValue } from '../errors.js';
import { ROLES, type Role, type Transport } from '../inventory/model.js';

/** One node as the wizard will write it; `ssh` holds only what differs from the cluster's ssh. */
export interface NodeAnswer {
  name: string;
  host: string;
  roles: Role[];
  /** Left out: the wizard's transport answer. */
  transport?: Transport;
  sans?: string[];
  dest?: string;
  reload?: string;
  ssh?: NodeSsh;
}

export interface NodeSsh {
  user?: string;
  port?: number;
  identityFile?: string;
  knownHostsFile?: string;
  /** `[user@]host[:port]` or `none`, as the inventory spells it. */
  proxyJump?: string;
}

export interface HostPort {
  host: string;
  port?: number;
}

/** `host`, `host:port` or `[ipv6]:port` (an IPv6 address without brackets has no port). Returns what is wrong instead. */
export function parseHostPort(text: string): HostPort | string {
  const s = text.trim();
  if (s === '') return 'must not be empty';
  let host = s;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const m = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
    if (!m || !isIPv6(m[1]!)) return `${quoteValue(s)} is not "[IPv6]:port"`;
    host = m[1]!;
    portText = m[2];
  } else if ((s.match(/:/g) ?? []).length === 1) {
    [host, portText] = s.split(':') as [string, string];
  }
  const why = rules.host(host);
  if (why) return why;
  if (portText === undefined) return { host };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) return `${quoteValue(portText)} is not a port (1–65535)`;
  return { host, port };
}

/** The rule form of parseHostPort, for prompts and the answers file. */
export const hostPort: rules.Rule<string> = (s) => {
  const r = parseHostPort(s);
  return typeof r === 'string' ? r : undefined;
};

/** "db1" for "db1.example.com"; for an address, db<position> (1-based). Made unique against TAKEN. */
export function nameForHost(host: string, position: number, taken: Iterable<string>): string {
  const used = new Set([...taken].map((n) => n.toLowerCase()));
  const label = /^[a-z]/i.test(host) && !isIPv6(host) ? host.split('.')[0]! : `db${position}`;
  let base = rules.safeName(label) ? `db${position}` : label;
  if (used.has(base.toLowerCase())) base = `${base}-${position}`;
  let name = base;
  for (let i = 2; used.has(name.toLowerCase()); i++) name = `${base}-${i}`;
  return name;
}

export interface PastedLine {
  /** 1-based, counting every line given (blank ones too). */
  line: number;
  name: string;
  host: string;
  port?: number;
  /** Roles written on the line; empty = the roles asked for the whole list. */
  roles: Role[];
}

export interface PasteProblem {
  line: number;
  message: string;
}

/**
 * A pasted node list, one node a line: `host[:port]`, `name host[:port]`, or
 * `name host[:port] role[,role…]`. Blank lines and `#` comments are skipped. Names left out are made
 * from the host (nameForHost). Every problem is returned, each with its line.
 */
export function parseNodeLines(
  lines: string[],
  taken: Iterable<string> = [],
): { nodes: PastedLine[]; problems: PasteProblem[] } {
  const nodes: PastedLine[] = [];
  const problems: PasteProblem[] = [];
  const names = new Map<string, number>([...taken].map((n) => [n.toLowerCase(), 0]));
  lines.forEach((raw, i) => {
    const line = i + 1;
    const text = raw.replace(/#.*/, '').trim();
    if (text === '') return;
    const words = text.split(/\s+/);
    if (words.length > 3)
      return void problems.push({
        line,
        message: `expected "host", "name host" or "name host role[,role…]", got ${words.length} words`,
      });
    const [first, second, third] = words as [string, string | undefined, string | undefined];
    const addr = parseHostPort(second ?? first);
    if (typeof addr === 'string') return void problems.push({ line, message: `host ${addr}` });
    let name: string;
    if (second === undefined) name = nameForHost(addr.host, nodes.length + 1, names.keys());
    else {
      const bad = rules.safeName(first);
      if (bad) return void problems.push({ line, message: `name ${bad}` });
      name = first;
    }
    const roles: Role[] = [];
    for (const r of (third ?? '').split(',').filter(Boolean)) {
      const bad = rules.role(r);
      if (bad) return void problems.push({ line, message: bad });
      if (!roles.includes(r as Role)) roles.push(r as Role);
    }
    const seen = names.get(name.toLowerCase());
    if (seen !== undefined)
      return void problems.push({
        line,
        message: `duplicate node name "${name}"${seen ? ` (first on line ${seen})` : ''}`,
      });
    names.set(name.toLowerCase(), line);
    nodes.push({
      line,
      name,
      host: addr.host,
      ...(addr.port !== undefined ? { port: addr.port } : {}),
      roles: ROLES.filter((r) => roles.includes(r)),
    });
  });
  return { nodes, problems };
}
