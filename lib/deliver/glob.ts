// `--files '/opt/continuent/share/[jpt]*'`: the shell's file-name patterns in the last path part
// (*, ?, [set], [!set]), with the shell's rule that a leading dot is matched only by a pattern
// that starts with one — so '[jpt]*' and '.[jpt]*' together are what the seed's loop copied.
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { inputError } from '../errors.js';

export function patternToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let set = pattern.slice(i + 1, end);
      const negate = set.startsWith('!') || set.startsWith('^');
      if (negate) set = set.slice(1);
      re += `[${negate ? '^' : ''}${set.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const hasMagic = (s: string) => /[*?[]/.test(s);

/** Expands each pattern (sorted); a pattern that matches nothing is an error, as a typo would be. */
export async function expandFiles(patterns: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    if (hasMagic(dirname(p))) throw inputError('files-pattern', `--files "${p}": only the last part of a path may hold a pattern`, { field: '--files' });
    if (!hasMagic(basename(p))) {
      out.push(p);
      continue;
    }
    const re = patternToRegExp(basename(p));
    const dotOk = basename(p).startsWith('.');
    const names = await readdir(dirname(p)).catch(() => [] as string[]);
    const matched = names.filter((n) => re.test(n) && (dotOk || !n.startsWith('.')) && n !== '.' && n !== '..').sort();
    out.push(...matched.map((n) => join(dirname(p), n)));
  }
  return out;
}
