// `--files '/opt/continuent/share/[jpt]*'`: bash's file-name patterns in the last path part, as
// bash expands them with its default options: *, ?, [set], [!set] and [^set] with ranges and POSIX
// classes ([[:alpha:]]), a backslash making the next character literal ('a\*' is the file "a*"). No
// brace expansion, extglob or ** (globstar is off: ** is *). A leading dot is matched only by a
// pattern that starts with one ('.[jpt]*', or '\.'), never by *, ? or a set — so '[jpt]*' and
// '.[jpt]*' together are what the seed's loop copied. Classes are ASCII ([[:alpha:]] is [A-Za-z]);
// bash in a UTF-8 locale also counts letters like é.
//
// picomatch does the matching. It reads more than bash does (braces, extglobs, regex groups, a
// leading ! negating the whole pattern), so a pattern reaches it rewritten: every character outside a
// set that is not * or ? goes literal, and each set is rebuilt element by element with bash's rules
// for where it ends ([]x] holds "]"; a [ with no closing ] is itself). What bash reads in a way we
// would only guess at (a lone trailing backslash, [[:foo:]], [z-a], [[.hyphen.]], an unclosed [: in
// a set) is a usage error naming the pattern. The test checks the rest against bash itself.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { inputError, type DbtlsError } from '../errors.js';

// The classes bash knows; another name ([[:foo:]]) is refused rather than matching nothing.
const CLASSES = new Set([
  'alnum',
  'alpha',
  'ascii',
  'blank',
  'cntrl',
  'digit',
  'graph',
  'lower',
  'print',
  'punct',
  'space',
  'upper',
  'word',
  'xdigit',
]);

const bad = (argument: string, why: string): DbtlsError =>
  inputError('files-pattern', `--files "${argument}": ${why}`, { field: '--files' });

/** C as picomatch reads it literally: letters, digits and non-ASCII as they are, the rest escaped. */
const literal = (c: string): string => (/^[A-Za-z0-9]$/.test(c) || c.charCodeAt(0) > 127 ? c : `\\${c}`);

/**
 * C outside a set, literal. picomatch drops the escape of a \. that follows other literal text
 * ('[0-9]a\.' matched "1ab") and folds runs of escaped backslashes into one, so those two go in a set.
 */
const outside = (c: string): string => (c === '.' ? '[.]' : c === '\\' ? '[\\\\]' : literal(c));

interface SetElement {
  /** picomatch's text for it. */
  text: string;
  /** The one character it stands for, so that it may start or end a range; not for a class. */
  char?: string;
  /** Index just after it. */
  next: number;
}

/** The set element at PART[I] (inside brackets), or undefined when PART ends first. */
function setElement(argument: string, part: string, i: number, rangeEnd: boolean): SetElement | undefined {
  if (i >= part.length) return undefined;
  const c = part[i]!;
  if (c === '\\')
    return i + 1 < part.length ? { text: literal(part[i + 1]!), char: part[i + 1]!, next: i + 2 } : undefined;
  // [:class:], [.c.] and [=c=]; bash reads only [.c.] as a range's end, anything else there is literal.
  const kind = part[i + 1];
  if (c === '[' && (kind === ':' || kind === '.' || kind === '=') && (!rangeEnd || kind === '.')) {
    const close = part.indexOf(`${kind}]`, i + 2);
    // bash's reading of an unclosed one varies (the set may end up matching nothing): refused.
    if (close < 0) throw bad(argument, `[${kind} in a set has no closing ${kind}] (write \\[ for a [ in a set)`);
    const name = part.slice(i + 2, close);
    if (kind === ':') {
      if (!CLASSES.has(name)) throw bad(argument, `[:${name}:] is not a character class (${[...CLASSES].join(', ')})`);
      // picomatch's punct leaves out the backslash, which is punctuation to bash.
      return { text: name === 'punct' ? '[:punct:]\\\\' : `[:${name}:]`, next: close + 2 };
    }
    // A collating symbol or equivalence class of one character is that character; named ones
    // ([.hyphen.]) depend on the locale, so they are refused.
    if ([...name].length !== 1)
      throw bad(argument, `[${kind}${name}${kind}] is not supported in a set: write the character itself`);
    return { text: literal(name), char: name, next: close + 2 };
  }
  return { text: literal(c), char: c, next: i + 1 };
}

/** The set starting with the [ at PART[I] as picomatch text and the index after its ], or undefined when it has no ]. */
function setAt(argument: string, part: string, i: number): { text: string; next: number } | undefined {
  let j = i + 1;
  let text = '[';
  if (part[j] === '!' || part[j] === '^') {
    text += '^';
    j++;
  }
  let first = true;
  for (;;) {
    // A ] first in the set is one of its characters, not its end.
    if (part[j] === ']' && !first) return { text: `${text}]`, next: j + 1 };
    const el = setElement(argument, part, j, false);
    if (!el) return undefined;
    first = false;
    text += el.text;
    j = el.next;
    // A range: a - between two characters, not last in the set.
    if (el.char !== undefined && part[j] === '-' && j + 1 < part.length && part[j + 1] !== ']') {
      const end = setElement(argument, part, j + 1, true);
      if (!end) return undefined;
      // bash matches nothing by a backwards range; a RegExp refuses one. Neither is what was meant.
      if (end.char! < el.char) throw bad(argument, `the range ${el.char}-${end.char} is backwards`);
      text += `-${end.text}`;
      j = end.next;
    }
  }
}

/** PART (one path part of the --files value ARGUMENT, in bash's syntax) in the syntax picomatch reads as bash does. */
function toPicomatch(argument: string, part: string): string {
  let out = '';
  for (let i = 0; i < part.length;) {
    const c = part[i]!;
    if (c === '\\') {
      if (i + 1 >= part.length) throw bad(argument, 'ends with a lone backslash (write \\\\ for a backslash)');
      out += outside(part[i + 1]!);
      i += 2;
    } else if (c === '*' || c === '?') {
      out += c;
      i++;
    } else if (c === '[') {
      const set = setAt(argument, part, i);
      out += set ? set.text : '\\[';
      i = set ? set.next : i + 1;
    } else {
      out += outside(c);
      i++;
    }
  }
  return out;
}

/**
 * The file names PATTERN (one path part) matches, as a RegExp. Throws the --files usage error, naming
 * ARGUMENT (the whole --files value), for a pattern bash would read otherwise than we could: a lone
 * trailing backslash, an unknown class, a named collating symbol.
 */
export function patternToRegExp(pattern: string, argument = pattern): RegExp {
  const re = picomatch.makeRe(toPicomatch(argument, pattern), {
    // bash's leading-dot rule is the lookahead below, so picomatch's own (which lets [!a] match ".x") is off.
    dot: true,
    nobrace: true,
    noextglob: true,
    noglobstar: true,
    nonegate: true,
    posix: true,
    windows: false,
    // Else '[x]' also matches a file named "[x]"; bash's [x] is the set.
    literalBrackets: false,
  });
  const dotOk = pattern.startsWith('.') || pattern.startsWith('\\.');
  return dotOk ? re : new RegExp(`^(?!\\.)${re.source}`, re.flags);
}

/** Does PART hold a *, ? or [ that no backslash escapes? */
function hasMagic(part: string): boolean {
  for (let i = 0; i < part.length; i++) {
    if (part[i] === '\\') i++;
    else if ('*?['.includes(part[i]!)) return true;
  }
  return false;
}

/** PART with its backslash escapes taken away, as bash reads a word that is no pattern ('a\*' is "a*"). */
const dequote = (part: string) => part.replace(/\\(.)/gs, '$1');

/**
 * Expands each pattern (sorted); a pattern that matches nothing is an error, as a typo would be. A
 * path whose last part holds no unescaped *, ? or [ is no pattern: it comes back (unescaped) as it
 * is, for the caller to check that it is there.
 */
export async function expandFiles(patterns: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    const cut = p.lastIndexOf('/');
    const dirPart = cut < 0 ? '' : p.slice(0, cut);
    const namePart = p.slice(cut + 1);
    if (hasMagic(dirPart)) throw bad(p, 'only the last part of a path may hold a pattern');
    if (!hasMagic(namePart)) {
      out.push(dequote(p));
      continue;
    }
    const re = patternToRegExp(namePart, p);
    const dir = cut < 0 ? '.' : dequote(dirPart) || '/';
    const names = await readdir(dir).catch(() => [] as string[]);
    const matched = names.filter((n) => re.test(n)).sort();
    out.push(...matched.map((n) => (cut < 0 ? n : join(dir, n))));
  }
  return out;
}
