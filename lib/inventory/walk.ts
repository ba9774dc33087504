// A table-driven check of a parsed YAML document: the table (see schema.ts) says which keys exist,
// their types, whether they are required and which rule their values obey. The walk reports every
// problem with the position of the offending node (the key for unknown keys, the value for bad
// values) and keeps the valid values, so later checks can run on a partly broken file.
import { isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { Pos, Problems } from './errors.js';
import type { Rule } from './rules.js';
import { quoteValue } from '../errors.js';
import { nodePos as sourcePos, type YamlSource } from './yaml-source.js';

interface Base {
  required?: boolean;
}
export interface StringSpec extends Base {
  kind: 'string';
  rule?: Rule<string>;
}
export interface IntegerSpec extends Base {
  kind: 'integer';
  rule?: Rule<number>;
}
export interface BooleanSpec extends Base {
  kind: 'boolean';
}
export interface ListSpec extends Base {
  kind: 'list';
  of: Spec;
  min?: number;
  max?: number;
  what?: string;
}
export interface MapSpec extends Base {
  kind: 'map';
  fields: Record<string, Spec>;
}
export type Spec = StringSpec | IntegerSpec | BooleanSpec | ListSpec | MapSpec;

// Builders, so the table reads like the documentation.
export const str = (rule?: Rule<string>): StringSpec => ({ kind: 'string', rule });
export const int = (rule?: Rule<number>): IntegerSpec => ({ kind: 'integer', rule });
export const bool = (): BooleanSpec => ({ kind: 'boolean' });
export const list = (of: Spec, opts: { min?: number; max?: number; what?: string } = {}): ListSpec => ({
  kind: 'list',
  of,
  ...opts,
});
export const map = (fields: Record<string, Spec>): MapSpec => ({ kind: 'map', fields });
export const required = <S extends Spec>(spec: S): S => ({ ...spec, required: true });

export interface Walked {
  /** The document's values that passed their checks (failed ones are left out; failed list items are undefined). */
  value: Record<string, unknown>;
  /** Where each visited path's value is (or its key, when the value is empty). */
  where: Map<string, Pos>;
}

const EXPECTED: Record<Spec['kind'], string> = {
  string: 'a string',
  integer: 'an integer',
  boolean: 'true or false',
  list: 'a list',
  map: 'a mapping',
};

export function walk(src: YamlSource, root: MapSpec, problems: Problems): Walked {
  const { doc } = src;
  const where = new Map<string, Pos>();
  const nodePos = (node: Node | null | undefined, fallback: Pos): Pos => sourcePos(src, node, fallback);

  function visit(raw: unknown, spec: Spec, path: string, keyPos: Pos, inList: boolean): unknown {
    let node = raw as Node | null | undefined;
    if (isAlias(node)) {
      // Through the table parseYaml made (one pass, the expansion bounded), never Alias.resolve (a walk of the whole document per alias).
      const target = src.aliases.get(node);
      if (!target) {
        problems.add(nodePos(node, keyPos), path, `unknown alias *${node.source}`);
        return undefined;
      }
      node = target as Node;
    }
    const empty = node == null || (isScalar(node) && node.value === null);
    // An empty value has no useful position of its own: point at its key.
    const pos = empty && !inList ? keyPos : nodePos(node, keyPos);
    where.set(path, pos);
    if (empty) {
      if (inList) problems.add(pos, path, `expected ${EXPECTED[spec.kind]}, got an empty value`);
      else if (spec.required) problems.add(pos, path, 'is required but empty');
      return undefined;
    }
    switch (spec.kind) {
      case 'string':
      case 'integer':
      case 'boolean': {
        const v = isScalar(node) ? node.value : undefined;
        const ok =
          spec.kind === 'string'
            ? typeof v === 'string'
            : spec.kind === 'integer'
              ? typeof v === 'number'
              : typeof v === 'boolean';
        if (!ok) return mismatch(node!, spec, path, pos);
        if (spec.kind === 'integer' && !spec.rule && !Number.isInteger(v))
          return fail(pos, path, `${v} is not an integer`);
        const why = spec.kind === 'boolean' ? undefined : (spec.rule as Rule<unknown> | undefined)?.(v);
        return why ? fail(pos, path, why) : v;
      }
      case 'list': {
        if (!isSeq(node)) return mismatch(node!, spec, path, pos);
        if (spec.max !== undefined && node.items.length > spec.max)
          return fail(pos, path, `lists ${node.items.length} ${spec.what ?? 'item'}s; dbtls takes at most ${spec.max}`);
        const items = node.items.map((item, i) => visit(item, spec.of, `${path}[${i}]`, pos, true));
        if (spec.min && items.length < spec.min)
          return fail(pos, path, `must list at least ${spec.min} ${spec.what ?? 'item'}${spec.min > 1 ? 's' : ''}`);
        return items;
      }
      case 'map':
        if (!isMap(node)) return mismatch(node!, spec, path, pos);
        return visitMap(node, spec, path, pos);
    }
  }

  function visitMap(node: Node, spec: MapSpec, path: string, pos: Pos): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (const pair of isMap(node) ? node.items : []) {
      const key = pair.key as Node | null;
      const kPos = nodePos(key, pos);
      const name = isScalar(key) ? String(key.value) : undefined;
      const field = name === undefined ? path : path ? `${path}.${name}` : name;
      if (name === undefined) {
        problems.add(kPos, path, 'keys must be plain names');
      } else if (seen.has(name)) {
        problems.add(kPos, field, `duplicate key "${name}"`);
      } else if (!Object.hasOwn(spec.fields, name)) {
        problems.add(kPos, field, unknownKey(name, Object.keys(spec.fields)));
      } else {
        seen.add(name);
        const v = visit(pair.value, spec.fields[name]!, field, kPos, false);
        if (v !== undefined) out[name] = v;
      }
    }
    for (const [name, sub] of Object.entries(spec.fields)) {
      if (sub.required && !seen.has(name)) problems.add(pos, path ? `${path}.${name}` : name, 'is required');
    }
    return out;
  }

  function mismatch(node: Node, spec: Spec, path: string, pos: Pos): undefined {
    const v = isScalar(node) ? node.value : undefined;
    const got = isMap(node)
      ? 'a mapping'
      : isSeq(node)
        ? 'a list'
        : typeof v === 'string'
          ? `the string ${quoteValue(v)}`
          : quoteValue(v).slice(1, -1);
    const quote =
      spec.kind === 'string' && (typeof v === 'number' || typeof v === 'boolean') ? ` (quote it: "${v}")` : '';
    return fail(pos, path, `expected ${EXPECTED[spec.kind]}, got ${got}${quote}`);
  }

  function fail(pos: Pos, path: string, message: string): undefined {
    problems.add(pos, path, message);
    return undefined;
  }

  const start = nodePos(doc.contents as Node | null, { line: 1, column: 1 });
  const contents = doc.contents as Node | null;
  if (contents == null || (isScalar(contents) && contents.value === null)) {
    // An empty file: every required top-level key is missing.
    return { value: visitMap(contents as Node, root, '', start), where };
  }
  if (!isMap(contents)) {
    problems.add(
      start,
      '',
      `expected a mapping of inventory keys (${Object.keys(root.fields).join(', ')}), got ${isSeq(contents) ? 'a list' : 'a single value'}`,
    );
    return { value: {}, where };
  }
  return { value: visitMap(contents, root, '', start), where };
}

function unknownKey(name: string, known: string[]): string {
  // One slip in short names, two in longer ones; one- and two-letter keys (C, ST) only differ in case.
  const slack = (k: string) => (k.length <= 2 ? 0 : k.length <= 4 ? 1 : 2);
  const close = known.find((k) => distance(k.toLowerCase(), name.toLowerCase()) <= slack(k));
  return close
    ? `unknown key "${name}" (did you mean "${close}"?)`
    : `unknown key "${name}"; expected one of ${known.join(', ')}`;
}

/** Edit distance where swapping two neighbours counts as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
