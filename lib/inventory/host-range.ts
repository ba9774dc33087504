// Ansible host patterns: "db[1:6].example.com", "db[01:10:2]", "node-[a:c]" and a ":port" suffix,
// expanded the way Ansible does (every range in the pattern, left to right).

import { quoteValue } from '../errors.js';
import { LIMITS } from './limits.js';

export interface HostPattern {
  hosts: string[];
  port?: number;
}

const RANGE = /\[([a-z0-9]*):([a-z0-9]*)(?::(\d+))?\]/i;

/** Expands a pattern; a string is what is wrong with it. */
export function expandHostPattern(pattern: string): HostPattern | string {
  // A DNS name is at most 253 characters: a longer pattern is no host, and 10,000 copies of it would be large.
  if (pattern.length > 1024) return `${quoteValue(pattern)} is longer than 1024 characters: not a host pattern`;
  const { name, port } = splitPort(pattern);
  if (port !== undefined && (port < 1 || port > 65535))
    return `port ${port} in ${quoteValue(pattern)} must be from 1 to 65535`;
  const hosts = expand(name);
  if (typeof hosts === 'string') return `${hosts} in ${quoteValue(pattern)}`;
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

/** One "[beg:end:step]" of a pattern, as the items it stands for (not yet combined with the others). */
function rangeItems(beg: string, end: string, stepText: string | undefined): string[] | string {
  const step = stepText === undefined ? 1 : Number(stepText);
  if (!(step >= 1)) return 'a range step must be at least 1';
  if (end === '') return `range [${beg}:${end}] has no end`;
  const items: string[] = [];
  if (/^[a-z]$/i.test(beg) && /^[a-z]$/i.test(end)) {
    const [b, e] = [beg.charCodeAt(0), end.charCodeAt(0)];
    if (b > e) return `range [${beg}:${end}] starts after its end`;
    for (let c = b; c <= e; c += step) items.push(String.fromCharCode(c));
  } else if (/^\d*$/.test(beg) && /^\d+$/.test(end)) {
    const b = Number(beg || '0');
    const e = Number(end);
    if (b > e) return `range [${beg}:${end}] starts after its end`;
    // A leading zero means fixed width, and then both ends must say the width.
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (width && end.length !== width) return `range [${beg}:${end}] must give both ends the same number of digits`;
    // Counted before a single name is made: "[0:99999999999]" costs nothing.
    if (Math.floor((e - b) / step) + 1 > LIMITS.hostsPerPattern) return tooMany();
    for (let i = b; i <= e; i += step) items.push(String(i).padStart(width, '0'));
  } else {
    return `range [${quoteValue(beg, 20).slice(1, -1)}:${quoteValue(end, 20).slice(1, -1)}] must be numbers or single letters`;
  }
  return items;
}

const tooMany = () =>
  `expands to more than ${LIMITS.hostsPerPattern} hosts (dbtls takes at most ${LIMITS.hostsPerPattern} per pattern)`;

/**
 * Every range of NAME, left to right; the product of their sizes is checked before any host name is
 * made, so "db[0:9999]-[0:9999]" is refused at once instead of building 10^8 names.
 */
function expand(name: string): string[] | string {
  const parts: string[] = [];
  const ranges: string[][] = [];
  const re = new RegExp(RANGE.source, 'gi');
  let last = 0;
  let total = 1;
  for (let m = re.exec(name); m; m = re.exec(name)) {
    parts.push(name.slice(last, m.index));
    const items = rangeItems(m[1] ?? '', m[2] ?? '', m[3]);
    if (typeof items === 'string') return items;
    total *= items.length;
    if (total > LIMITS.hostsPerPattern) return tooMany();
    ranges.push(items);
    last = m.index + m[0].length;
  }
  let out = [''];
  for (const [i, items] of ranges.entries()) out = out.flatMap((h) => items.map((item) => h + parts[i] + item));
  const tail = name.slice(last);
  return out.map((h) => h + tail);
}
