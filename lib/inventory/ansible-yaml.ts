// Ansible's YAML inventory: top-level groups (usually `all`), each a mapping of `hosts` (host
// pattern → variables), `children` (group name → group) and `vars`.
import { isMap, isScalar, type Node, type Pair } from 'yaml';
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
import { nodePos, reportSyntax, toJS, type YamlSource } from './yaml-source.js';
import { quoteValue } from '../errors.js';

const GROUP_KEYS = ['hosts', 'children', 'vars'];
const join = (field: string, key: string) => (field ? `${field}.${key}` : key);

/** Undefined when the YAML itself is broken (the syntax errors are reported). */
export function parseAnsibleYaml(src: YamlSource, problems: Problems): AnsibleInventory | undefined {
  if (reportSyntax(src, problems)) return undefined;
  const inv = newInventory();
  const pos = (node: unknown, fallback?: Pos) => nodePos(src, node as Node, fallback);
  // Aliases are followed through parseYaml's table, whose pass counted their whole expansion.
  const js = (node: unknown): unknown => toJS(src, node);

  /** The pairs of a mapping (or nothing for an empty value), with duplicate and non-scalar keys reported. */
  function entries(node: unknown, field: string, what: string): { name: string; pair: Pair; pos: Pos }[] {
    if (node == null || (isScalar(node) && node.value === null)) return [];
    if (!isMap(node)) {
      problems.add(pos(node), field, `expected a mapping of ${what}`);
      return [];
    }
    const seen = new Set<string>();
    const out = [];
    for (const pair of node.items) {
      const at = pos(pair.key, pos(node));
      const name = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (name === undefined) problems.add(at, field, `${what} must be plain names`);
      else if (seen.has(name)) problems.add(at, join(field, name), `duplicate key ${quoteValue(name)}`);
      else {
        seen.add(name);
        out.push({ name, pair, pos: at });
      }
    }
    return out;
  }

  function vars(node: unknown, field: string): Map<string, AnsibleVar> {
    const out = new Map<string, AnsibleVar>();
    for (const { name, pair, pos: keyPos } of entries(node, field, 'variables')) {
      out.set(name, { value: js(pair.value) ?? null, pos: pos(pair.value, keyPos) });
    }
    return out;
  }

  function group(name: string, body: unknown, at: Pos): AnsibleGroup {
    const g = groupOf(inv, name, at);
    for (const { name: key, pair, pos: keyPos } of entries(body, name, 'hosts, children and vars')) {
      const field = `${name}.${key}`;
      if (key === 'hosts') {
        for (const h of entries(pair.value, field, 'hosts')) {
          const pattern = expandHostPattern(h.name);
          if (typeof pattern === 'string') {
            problems.add(h.pos, `${field}.${h.name}`, pattern);
            continue;
          }
          const hv = vars(h.pair.value, `${field}.${h.name}`);
          if (pattern.port !== undefined && !hv.has('ansible_port'))
            hv.set('ansible_port', { value: pattern.port, pos: h.pos });
          for (const host of pattern.hosts) {
            if (!addHost(inv, g, host, h.pos, hv)) {
              problems.add(h.pos, `${field}.${h.name}`, TOO_MANY_HOSTS);
              return g;
            }
          }
        }
      } else if (key === 'children') {
        for (const c of entries(pair.value, field, 'groups')) {
          group(c.name, c.pair.value, c.pos);
          if (!g.children.some((x) => x.name === c.name)) g.children.push({ name: c.name, pos: c.pos });
        }
      } else if (key === 'vars') {
        for (const [k, v] of vars(pair.value, field)) g.vars.set(k, v);
      } else {
        problems.add(keyPos, field, `unknown key ${quoteValue(key)}; a group holds ${GROUP_KEYS.join(', ')}`);
      }
    }
    return g;
  }

  const root = src.doc.contents;
  for (const { name, pair, pos: at } of entries(root, '', 'groups')) group(name, pair.value, at);
  return inv;
}
