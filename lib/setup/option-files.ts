// Reads MySQL/MariaDB option files (my.cnf) the way the servers' own reader does (mysys
// my_default.c, checked against MariaDB 10.11's my_print_defaults), so that `dbtls setup` finds
// the same `datadir` that mysql_ssl_rsa_setup and the server would.
import { readFile, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { inputError } from '../errors.js';

/** One meaningful line of an option file. Options carry the group they were written under. */
export type OptionFileEntry =
  | { kind: 'option'; group: string; key: string; value: string | null; line: number }
  | { kind: 'include' | 'includedir'; path: string; line: number };

export interface OptionValue {
  value: string | null;
  file: string;
  line: number;
  group: string;
}

export interface ReadOptionGroupsOptions {
  /** Groups to collect, compared case-insensitively (e.g. ['mysql_ssl_rsa_setup', 'mysqld']). */
  groups: string[];
  /** --defaults-file: read only this file (it must exist). */
  defaultsFile?: string;
  /** --defaults-extra-file: read after the global files, before ~/.my.cnf (it must exist). */
  extraFile?: string;
  /** --no-defaults: read nothing (wins over the two options above, as in MySQL). */
  noDefaults?: boolean;
  /** Home folder for ~/.my.cnf and `~/` in paths; default $HOME, then os.homedir(). */
  home?: string;
  /** Environment for MARIADB_HOME / MYSQL_HOME; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The global files, in order; default GLOBAL_OPTION_FILES. Injectable for tests. */
  searchPath?: string[];
}

export interface OptionGroupsResult {
  /** Normalised option name → the last value seen. */
  values: Map<string, OptionValue>;
  /** Every file actually read, in reading order (absolute paths, as named, symlinks not resolved). */
  filesRead: string[];
  /** Files passed over that a person may want to know about (MySQL only warns about these). */
  skipped: Array<{ file: string; reason: string }>;
}

/** The global option files MySQL and MariaDB read on Linux, in order. */
export const GLOBAL_OPTION_FILES: readonly string[] = ['/etc/my.cnf', '/etc/mysql/my.cnf'];

/** MySQL's own include depth limit (directives in a file this deep are skipped with a warning). */
const MAX_INCLUDE_DEPTH = 10;

// my_isspace() in latin1: space, \t, \n, \v, \f, \r. (JS \s would also match Unicode spaces.)
const isSpace = (c: string | undefined): boolean => c !== undefined && ' \t\n\v\f\r'.includes(c);
const trimStart = (s: string): string => s.replace(/^[ \t\n\v\f\r]+/, '');
const trimEnd = (s: string): string => s.replace(/[ \t\n\v\f\r]+$/, '');

/** `loose-` marks options a program may not know; `-` and `_` are the same in option names. */
export function normaliseOptionName(key: string): string {
  const bare = /^loose[-_]/.test(key) ? key.slice(6) : key;
  return bare.replace(/-/g, '_');
}

/** Parses one file's text. Does not follow includes; the caller does. */
export function parseOptionFile(text: string, file: string): OptionFileEntry[] {
  const entries: OptionFileEntry[] = [];
  let group: string | undefined; // per file: an included file must open its own group
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const ptr = trimStart(lines[i]!);
    if (ptr === '' || ptr[0] === '#' || ptr[0] === ';') continue;

    if (ptr[0] === '!') {
      const directive = parseDirective(ptr.slice(1), file, line);
      if (directive) entries.push({ ...directive, line });
      continue; // unknown directives are ignored, as in MySQL
    }

    if (ptr[0] === '[') {
      const close = ptr.indexOf(']');
      if (close < 0) throw inputError('option-file-bad-group', 'group header has no closing "]"', { file, line });
      // MySQL trims only trailing blanks: "[ mysqld]" names the group " mysqld", which no program reads.
      group = trimEnd(ptr.slice(1, close));
      continue;
    }

    const body = removeEndComment(ptr);
    const eq = body.indexOf('=');
    const key = trimEnd(eq < 0 ? body : body.slice(0, eq));
    if (group === undefined) {
      throw inputError('option-file-no-group', `option "${key}" comes before any [group] header`, { file, line });
    }
    if (key === '') throw inputError('option-file-no-name', 'option line has no name before "="', { file, line });
    entries.push({ kind: 'option', group, key, value: eq < 0 ? null : parseValue(body.slice(eq + 1)), line });
  }
  return entries;
}

/** `!include FILE` / `!includedir DIR`: the keyword needs blank space after it; the rest is the path, verbatim. */
function parseDirective(
  rest: string,
  file: string,
  line: number,
): { kind: 'include' | 'includedir'; path: string } | undefined {
  const text = trimStart(rest);
  for (const kind of ['includedir', 'include'] as const) {
    if (!text.startsWith(kind)) continue;
    const after = text[kind.length];
    if (after !== undefined && !isSpace(after)) continue;
    const path = trimEnd(trimStart(text.slice(kind.length)));
    if (path === '') throw inputError('option-file-bad-directive', `"!${kind}" needs a path`, { file, line });
    return { kind, path };
  }
  return undefined;
}

/** Cuts the line at the first `#` outside quotes (anywhere, not only after a blank); `;` is not a comment here. */
function removeEndComment(s: string): string {
  let quote = '';
  let escape = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if ((c === '"' || c === "'") && !escape) {
      if (!quote) quote = c;
      else if (quote === c) quote = '';
    }
    if (!quote && c === '#') return s.slice(0, i);
    escape = quote !== '' && c === '\\' && !escape;
  }
  return s;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', s: ' ', '"': '"', "'": "'", '\\': '\\' };

/**
 * Trims, drops one pair of matching outer quotes, then applies escapes (quoted or not, as MySQL
 * does). An unbalanced quote is not an error in MySQL: the value keeps it literally.
 */
function parseValue(raw: string): string {
  let v = trimEnd(trimStart(raw));
  if (v.length > 1 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) v = v.slice(1, -1);
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\' && i < v.length - 1) {
      const next = v[++i]!;
      out += ESCAPES[next] ?? '\\' + next; // unknown escapes keep the backslash
    } else {
      out += c;
    }
  }
  return out;
}

/** The files read when neither --defaults-file nor --no-defaults is given, in order. */
export function defaultOptionFiles(opts: Omit<ReadOptionGroupsOptions, 'groups'> = {}): string[] {
  const env = opts.env ?? process.env;
  const files = [...(opts.searchPath ?? GLOBAL_OPTION_FILES)];
  const serverHome = env['MARIADB_HOME'] || env['MYSQL_HOME']; // MariaDB prefers its own name
  if (serverHome) files.push(join(serverHome, 'my.cnf'));
  if (opts.extraFile) files.push(opts.extraFile);
  files.push(join(homeOf(opts), '.my.cnf'));
  return files.filter((f, i) => files.indexOf(f) === i); // MySQL drops repeated folders
}

function homeOf(opts: { home?: string; env?: NodeJS.ProcessEnv }): string {
  return opts.home ?? (opts.env ?? process.env)['HOME'] ?? homedir();
}

/**
 * Collects the options of `groups` from the option files, in MySQL's order; a later file, and a
 * later line, wins. Missing default files are skipped; a missing --defaults-file or
 * --defaults-extra-file is an error, as is a !includedir folder that cannot be listed (MySQL aborts
 * too). A missing !include file is skipped (MySQL ignores it silently).
 */
export async function readOptionGroups(opts: ReadOptionGroupsOptions): Promise<OptionGroupsResult> {
  const wanted = new Set(opts.groups.map((g) => g.toLowerCase()));
  const result: OptionGroupsResult = { values: new Map(), filesRead: [], skipped: [] };
  const home = homeOf(opts);
  const reader = new Reader(wanted, home, result);
  if (opts.noDefaults) return result;
  if (opts.defaultsFile) {
    await reader.read(opts.defaultsFile, 0, [], true);
    return result;
  }
  for (const file of defaultOptionFiles(opts)) {
    await reader.read(file, 0, [], file === opts.extraFile);
  }
  return result;
}

class Reader {
  constructor(
    private readonly wanted: Set<string>,
    private readonly home: string,
    private readonly result: OptionGroupsResult,
  ) {}

  private abs(p: string): string {
    // `~/` is expanded as MySQL does; other relative paths are taken from the working folder, as MySQL does.
    if (p === '~' || p.startsWith('~/')) return join(this.home, p.slice(1));
    return resolve(p);
  }

  async read(name: string, depth: number, stack: string[], required: boolean): Promise<void> {
    const file = this.abs(name);
    if (stack.includes(file)) {
      this.result.skipped.push({ file, reason: `include cycle (${[...stack, file].join(' -> ')})` });
      return;
    }
    let text: string;
    try {
      const st = await stat(file);
      // MySQL ignores world-writable option files: anyone could have put options there.
      if (st.isFile() && st.mode & 0o002) {
        this.result.skipped.push({ file, reason: 'world-writable, ignored as MySQL does' });
        return;
      }
      text = await readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      if (required) {
        throw inputError('option-file-unreadable', `cannot read required option file (${code})`, { file });
      }
      if (depth > 0 || code !== 'ENOENT') this.result.skipped.push({ file, reason: `cannot read (${code})` });
      return;
    }
    this.result.filesRead.push(file);

    for (const entry of parseOptionFile(text, file)) {
      if (entry.kind === 'option') {
        if (this.wanted.has(entry.group.toLowerCase())) {
          const { group, value, line } = entry;
          this.result.values.set(normaliseOptionName(entry.key), { value, file, line, group });
        }
        continue;
      }
      if (depth >= MAX_INCLUDE_DEPTH) {
        this.result.skipped.push({
          file,
          reason: `line ${entry.line}: !${entry.kind} deeper than ${MAX_INCLUDE_DEPTH} levels`,
        });
        continue;
      }
      const inner = [...stack, file];
      if (entry.kind === 'include') {
        await this.read(entry.path, depth + 1, inner, false);
        continue;
      }
      const dir = this.abs(entry.path);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? String(e);
        throw inputError('option-file-bad-includedir', `cannot list !includedir ${dir} (${code})`, {
          file,
          line: entry.line,
        });
      }
      // Only *.cnf, sorted by name (MariaDB sorts; MySQL promises no order, so sorted is the safe choice).
      for (const n of names.filter((n) => n.endsWith('.cnf')).sort()) {
        await this.read(join(dir, n), depth + 1, inner, false);
      }
    }
  }
}
