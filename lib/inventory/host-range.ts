// Ansible host patterns: "db[1:6].example.com", "db[01:10:2]", "node-[a:c]" and a ":port" suffix,
// expanded the way Ansible does (every range in the pattern, left to right).

export interface HostPattern {
  hosts: string[];
  port?: number;
}

const RANGE = /\[([a-z0-9]*):([a-z0-9]*)(?::(\d+))?\]/i;

/** Expands a pattern; a string is what is wrong with it. */
export function expandHostPattern(pattern: string): HostPattern | string {
  const { name, port } = splitPort(pattern);
  if (port !== undefined && (port < 1 || port > 65535)) return `port ${port} in "${pattern}" must be from 1 to 65535`;
  const hosts = expand(name);
  if (typeof hosts === 'string') return `${hosts} in "${pattern}"`;
  return port === undefined ? { hosts } : { hosts, port };
}

/** "db1:2222" and "[::1]:2222" carry a port; "db[1:3]" and a bare IPv6 address do not. */
function splitPort(pattern: string): { name: string; port?: number } {
  const v6 = /^\[([0-9a-f:.]*:[0-9a-f:.]*)\](?::(\d+))?$/i.exec(pattern);
  if (v6) return v6[2] === undefined ? { name: v6[1]! } : { name: v6[1]!, port: Number(v6[2]) };
  const outside = pattern.replace(/\[[^\]]*\]/g, '');
  const m = /^(.*):(\d+)$/.exec(pattern);
  if (m && (outside.match(/:/g) ?? []).length === 1) return { name: m[1]!, port: Number(m[2]) };
  return { name: pattern };
}

function expand(name: string): string[] | string {
  const m = RANGE.exec(name);
  if (!m) return [name];
  const head = name.slice(0, m.index);
  const tail = expand(name.slice(m.index + m[0].length));
  if (typeof tail === 'string') return tail;
  const [, beg = '', end = '', stepText] = m;
  const step = stepText === undefined ? 1 : Number(stepText);
  if (step < 1) return 'a range step must be at least 1';
  if (end === '') return `range [${beg}:${end}] has no end`;
  let items: string[];
  if (/^[a-z]$/i.test(beg) && /^[a-z]$/i.test(end)) {
    const [b, e] = [beg.charCodeAt(0), end.charCodeAt(0)];
    if (b > e) return `range [${beg}:${end}] starts after its end`;
    items = [];
    for (let c = b; c <= e; c += step) items.push(String.fromCharCode(c));
  } else if (/^\d*$/.test(beg) && /^\d+$/.test(end)) {
    const b = Number(beg || '0');
    const e = Number(end);
    if (b > e) return `range [${beg}:${end}] starts after its end`;
    // A leading zero means fixed width, and then both ends must say the width.
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (width && end.length !== width) return `range [${beg}:${end}] must give both ends the same number of digits`;
    if ((e - b) / step > 10_000) return `range [${beg}:${end}] is too large`;
    items = [];
    for (let i = b; i <= e; i += step) items.push(String(i).padStart(width, '0'));
  } else {
    return `range [${beg}:${end}] must be numbers or single letters`;
  }
  return items.flatMap((item) => tail.map((t) => head + item + t));
}
