// Ansible's INI inventory: [group] host lines with inline key=value variables, [group:vars] and
// [group:children] sections, host ranges, ";" and "#" comments. Hosts before any section are ungrouped.
import type { Pos, Problems } from './errors.js';
import {
  addHost,
  groupOf,
  newInventory,
  TOO_MANY_HOSTS,
  type AnsibleGroup,
  type AnsibleInventory,
  type AnsibleVar,
} from './ansible.js';
import { expandHostPattern } from './host-range.js';
import { parseYaml, toJS } from './yaml-source.js';
import { quoteValue } from '../errors.js';
import { LIMITS } from './limits.js';

interface Token {
  text: string;
  column: number;
  /** Column where the value of a key=value token starts; 0 when there is no "=". */
  valueColumn: number;
}

type Section = { group: AnsibleGroup; kind: 'hosts' | 'vars' | 'children' } | undefined;

const HEADER = /^\[([^:\]\s]+)(?::([^\]\s]*))?\]\s*(?:[#;].*)?$/;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseAnsibleIni(text: string, problems: Problems): AnsibleInventory {
  const inv = newInventory();
  let section: Section = { group: groupOf(inv, 'ungrouped'), kind: 'hosts' };
  // One line at a time (no array of every line), stopping once the host limit is reported.
  for (let start = 0, i = 0; start <= text.length; i++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const raw = text.slice(start, end > start && text[end - 1] === '\r' ? end - 1 : end);
    start = end + 1;
    if (inv.overflow || (inv.hosts.size >= LIMITS.nodes && problems.list.some((p) => p.message === TOO_MANY_HOSTS)))
      break;
    lineOf(raw, i);
  }
  return inv;

  function lineOf(raw: string, i: number): void {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const at = (column: number): Pos => ({ line, column });
    const indent = raw.length - raw.trimStart().length;
    if (trimmed.startsWith('[') && (trimmed.endsWith(']') || HEADER.test(trimmed))) {
      section = header(inv, trimmed, at(indent + 1), problems);
      return;
    }
    if (!section) return; // inside a broken section: its header was already reported
    if (section.kind === 'vars') varLine(section.group, raw, indent, line, problems);
    else if (section.kind === 'children') childLine(inv, section.group, raw, indent, line, problems);
    else hostLine(inv, section.group, raw, line, problems);
  }
}

function header(inv: AnsibleInventory, text: string, pos: Pos, problems: Problems): Section {
  const m = HEADER.exec(text);
  if (!m) {
    problems.add(pos, '', `${quoteValue(text)} is not a section header; use [group], [group:vars] or [group:children]`);
    return undefined;
  }
  const [, name, kind] = m;
  if (kind !== undefined && kind !== 'vars' && kind !== 'children') {
    problems.add(
      { line: pos.line, column: pos.column + 1 + name!.length + 1 },
      name!,
      `unknown section type ":${kind}"; use [${name}:vars] or [${name}:children]`,
    );
    return undefined;
  }
  return { group: groupOf(inv, name!, pos), kind: kind === undefined ? 'hosts' : kind };
}

/** `db[1:3]:2222 ansible_user=admin dbtls_roles=mysql,tungsten` */
function hostLine(inv: AnsibleInventory, group: AnsibleGroup, raw: string, line: number, problems: Problems): void {
  const [first, ...rest] = tokenize(raw);
  if (!first) return;
  const pos = { line, column: first.column };
  const vars = new Map<string, AnsibleVar>();
  for (const t of rest) {
    const name = t.text.slice(0, t.text.indexOf('='));
    if (!t.valueColumn || !VAR_NAME.test(name)) {
      problems.add(
        { line, column: t.column },
        first.text,
        `expected key=value after the host name, got ${quoteValue(t.text)}`,
      );
      continue;
    }
    vars.set(name, { value: iniValue(t.text.slice(name.length + 1)), pos: { line, column: t.valueColumn } });
  }
  const pattern = expandHostPattern(first.text);
  if (typeof pattern === 'string') {
    problems.add(pos, first.text, pattern);
    return;
  }
  // Ansible turns "host:port" into ansible_port; an explicit ansible_port on the line still wins.
  if (pattern.port !== undefined && !vars.has('ansible_port')) vars.set('ansible_port', { value: pattern.port, pos });
  for (const host of pattern.hosts) {
    if (!addHost(inv, group, host, pos, vars)) return problems.add(pos, first.text, TOO_MANY_HOSTS);
  }
}

/** `ansible_user=admin` in a [group:vars] section; the value is the rest of the line. */
function varLine(group: AnsibleGroup, raw: string, indent: number, line: number, problems: Problems): void {
  const eq = raw.indexOf('=');
  const name = (eq < 0 ? raw : raw.slice(0, eq)).trim();
  if (eq < 0 || !VAR_NAME.test(name)) {
    problems.add(
      { line, column: indent + 1 },
      `${group.name}:vars`,
      `expected key=value, got ${quoteValue(raw.trim())}`,
    );
    return;
  }
  const after = raw.slice(eq + 1);
  const column = eq + 2 + (after.length - after.trimStart().length);
  group.vars.set(name, { value: iniValue(stripComment(after).trim()), pos: { line, column } });
}

function childLine(
  inv: AnsibleInventory,
  group: AnsibleGroup,
  raw: string,
  indent: number,
  line: number,
  problems: Problems,
): void {
  const tokens = tokenize(raw);
  const pos = { line, column: indent + 1 };
  if (tokens.length !== 1 || /[=[\]:]/.test(tokens[0]!.text)) {
    problems.add(pos, `${group.name}:children`, `expected one group name per line, got ${quoteValue(raw.trim())}`);
    return;
  }
  const child = tokens[0]!.text;
  groupOf(inv, child, undefined, pos);
  if (!group.children.some((c) => c.name === child)) group.children.push({ name: child, pos });
}

/** Splits on blanks outside quotes, drops the quotes, and stops at a "#" that starts a word (a comment). */
function tokenize(raw: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < raw.length) {
    while (i < raw.length && /\s/.test(raw[i]!)) i++;
    if (i >= raw.length || raw[i] === '#') break;
    const start = i;
    let text = '';
    let valueColumn = 0;
    let quote = '';
    for (; i < raw.length && (quote || !/\s/.test(raw[i]!)); i++) {
      const c = raw[i]!;
      if (quote ? c === quote : c === '"' || c === "'") quote = quote ? '' : c;
      else {
        if (c === '=' && !valueColumn && !quote) valueColumn = i + 2;
        text += c;
      }
    }
    out.push({ text, column: start + 1, valueColumn });
  }
  return out;
}

function stripComment(s: string): string {
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) quote = c === quote ? '' : quote;
    else if (c === '"' || c === "'") quote = c;
    else if ((c === '#' || c === ';') && (i === 0 || /\s/.test(s[i - 1]!))) return s.slice(0, i);
  }
  return s;
}

/**
 * Values are strings, except a bracketed list (`['mysql', 'tungsten']`), as Ansible's literal_eval reads
 * it: through the same bounded YAML reader as the YAML files (nesting and aliases counted), and a list
 * that does not read as one stays the string it is.
 */
function iniValue(s: string): unknown {
  const unquoted = /^(["'])(.*)\1$/.exec(s);
  if (unquoted) return unquoted[2];
  if (s.startsWith('[') && s.endsWith(']')) {
    const src = parseYaml(s);
    if (src.doc.errors.length || src.limit || src.aliases.size) return s;
    return toJS(src, src.doc.contents);
  }
  return s;
}
