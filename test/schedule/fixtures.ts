// Shared by the schedule tests: a folder whose name holds a space, a quote and a percent sign; a
// fake dbtls that records how it was called; and independent readers of what cron and systemd see
// (written from their documented rules, not from the code under test).
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';

export const SECRET = "s3cr3t pass'phrase";

export interface Setup {
  root: string;
  /** The awkward folder holding the inventory, the fake dbtls and the env file. */
  dir: string;
  inventory: string;
  pki: string;
  fake: string;
  /** Where the fake writes its record. */
  calls: string;
  envFile: string;
}

/** An inventory (cluster "prod"), its PKI folder, a fake dbtls and an env file, under an awkward path. */
export async function setup(t: TestContext, opts: { pki?: boolean } = {}): Promise<Setup> {
  const root = await tempDir(t, 'dbtls-schedule-');
  const dir = join(root, "it's 100% a dir $HOME");
  await mkdir(dir);
  const inventory = await writeInventory(
    dir,
    { cluster: 'prod', nodes: [{ name: 'db1', host: '10.0.0.11' }] },
    'prod inventory.yml',
  );
  const pki = join(dir, 'pki');
  if (opts.pki !== false) await mkdir(pki, { mode: 0o700 });
  const fake = join(dir, "fake dbtls's %s %z");
  // Records its working directory, the secret it was given and its arguments, NUL-separated.
  await writeFile(
    fake,
    [
      '#!/bin/sh',
      'rec="${0%/*}/calls"',
      `{ printf 'cwd=%s\\0' "$(pwd -P)"; printf 'secret=%s\\0' "\${DBTLS_CA_PASSPHRASE-<unset>}"; for a in "$@"; do printf '%s\\0' "$a"; done; } > "$rec"`,
      `echo '{"ok":true,"fake":"stdout"}'`,
      'echo "fake stderr line" >&2',
      'exit "${FAKE_EXIT:-0}"',
      '',
    ].join('\n'),
  );
  await chmod(fake, 0o755);
  const envFile = join(dir, 'prod secrets.env');
  await writeFile(envFile, `DBTLS_CA_PASSPHRASE='${SECRET.replace(/'/g, `'\\''`)}'\n`, { mode: 0o600 });
  return { root, dir, inventory, pki, fake, calls: join(dir, 'calls'), envFile };
}

export interface Call {
  cwd: string;
  secret: string;
  argv: string[];
}

export async function readCall(file: string): Promise<Call> {
  const parts = (await readFile(file, 'utf8')).split('\0');
  parts.pop(); // after the last NUL
  const [cwd, secret, ...argv] = parts;
  return { cwd: cwd!.replace(/^cwd=/, ''), secret: secret!.replace(/^secret=/, ''), argv };
}

/**
 * What cron hands to /bin/sh from a crontab line (vixie cron and cronie, do_command.c): the five
 * time fields, then the command, where \% becomes %, other backslashes stay, and the first
 * unescaped % ends the command (the rest would become standard input).
 */
export function cronSplit(line: string): { fields: string[]; command: string; stdin?: string } {
  const m = /^(\S+)[ \t]+(\S+)[ \t]+(\S+)[ \t]+(\S+)[ \t]+(\S+)[ \t]+(.*)$/.exec(line);
  if (!m) throw new Error(`not a crontab line: ${line}`);
  const raw = m[6]!;
  let command = '';
  let escaped = false;
  let i = 0;
  for (; i < raw.length; i++) {
    const ch = raw[i]!;
    if (escaped) {
      escaped = false;
      if (ch === '%') command = command.slice(0, -1) + '%';
      else command += ch;
      continue;
    }
    if (ch === '%') break;
    if (ch === '\\') escaped = true;
    command += ch;
  }
  return { fields: m.slice(1, 6), command, ...(i < raw.length ? { stdin: raw.slice(i + 1) } : {}) };
}

/** A unit file as sections of key → values (systemd's INI-like syntax; no continuation lines here). */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const [n, line] of text.split('\n').entries()) {
    const s = line.trim();
    if (s === '' || s.startsWith('#') || s.startsWith(';')) continue;
    const sec = /^\[([^\]]+)\]$/.exec(s);
    if (sec) {
      current = new Map();
      sections.set(sec[1]!, current);
      continue;
    }
    const eq = s.indexOf('=');
    if (!current || eq < 1) throw new Error(`line ${n + 1} is neither a section nor a setting: ${line}`);
    if (s.endsWith('\\')) throw new Error(`line ${n + 1} would continue onto the next`);
    const key = s.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), s.slice(eq + 1).trim()]);
  }
  return sections;
}

export function setting(unit: Map<string, Map<string, string[]>>, section: string, key: string): string | undefined {
  const values = unit.get(section)?.get(key);
  return values?.[values.length - 1];
}

const C_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", s: ' ' };

/** %-specifiers as systemd expands them, for a text that should hold none but %%. */
export function expandSpecifiers(word: string): string {
  return word.replace(/%(.?)/g, (_, c: string) => {
    if (c === '%') return '%';
    throw new Error(`specifier %${c} in ${JSON.stringify(word)} would be expanded by systemd`);
  });
}

/**
 * An ExecStart= line as systemd runs it (systemd.service(5) "Command lines"): split on blanks, quotes
 * "…" and '…' around whole words removed, C escapes decoded; then each word's specifiers (%%) and
 * finally $$ at run time. Anything else ($VAR, %n, a stray quote) is an error: it would not survive.
 */
export function systemdUnquote(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  const blank = (c: string | undefined) => c === ' ' || c === '\t';
  while (i < line.length) {
    while (blank(line[i])) i++;
    if (i >= line.length) break;
    let quote: string | undefined;
    if (line[i] === '"' || line[i] === "'") quote = line[i++];
    let word = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) {
        if (quote) throw new Error(`unbalanced ${quote} in ${line}`);
        break;
      }
      if (c === '\\') {
        const next = line[i + 1];
        if (next === 'x' && /^[0-9a-f]{2}$/i.test(line.slice(i + 2, i + 4))) {
          word += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
          continue;
        }
        if (next === undefined || !(next in C_ESCAPES)) throw new Error(`unknown escape \\${next ?? ''} in ${line}`);
        word += C_ESCAPES[next];
        i += 2;
        continue;
      }
      if (quote && c === quote) {
        i++;
        if (i < line.length && !blank(line[i])) throw new Error(`a closing quote must end the word in ${line}`);
        break;
      }
      if (!quote && blank(c)) break;
      if (!quote && (c === '"' || c === "'")) throw new Error(`a quote inside a word in ${line}`);
      word += c;
      i++;
    }
    const expanded = expandSpecifiers(word).replace(/\$(.?)/g, (_, c: string) => {
      if (c === '$') return '$';
      throw new Error(`$${c} in ${JSON.stringify(word)} would be expanded as a variable`);
    });
    words.push(expanded);
  }
  return words;
}
