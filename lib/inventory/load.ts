// Reads an inventory file, tells which kind it is by its content, and hands it to the right reader.
import { resolve } from 'node:path';
import { isMap, isScalar, type Node } from 'yaml';
import { readInputText } from './read-input.js';
import type { Cluster, Role } from './model.js';
import { Problems } from './errors.js';
import { parseYaml, type YamlSource } from './yaml-source.js';
import { fromDbtlsYaml } from './dbtls-yaml.js';
import { fromAnsible } from './ansible.js';
import { parseAnsibleIni } from './ansible-ini.js';
import { parseAnsibleYaml } from './ansible-yaml.js';

export type InventoryFormat = 'dbtls' | 'ansible-yaml' | 'ansible-ini';

export interface LoadOptions {
  /** Cluster name of an Ansible inventory (default: its file name); a dbtls YAML names its own. */
  cluster?: string;
  /** Ansible group → roles, winning over the built-in group names. */
  roleMap?: Record<string, Role[]>;
}

/**
 * Loads and validates an inventory. Rejects with an InventoryError (every problem, with
 * file:line:col and field) for a bad file, and with a usage DbtlsError for bad options.
 */
export async function loadInventory(path: string, opts: LoadOptions = {}): Promise<Cluster> {
  const file = resolve(path);
  const text = await readInputText(file, 'the inventory', path);
  const problems = new Problems(path);
  const src = parseYaml(text);
  const format = detectFormat(text, path, src);
  let cluster: Cluster | undefined;
  if (format === 'dbtls') cluster = fromDbtlsYaml(src, file, problems);
  else {
    const inv = format === 'ansible-yaml' ? parseAnsibleYaml(src, problems) : parseAnsibleIni(text, problems);
    if (inv) cluster = fromAnsible(inv, file, opts, problems);
  }
  if (!cluster || !problems.empty) throw problems.error();
  return cluster;
}

/**
 * A YAML mapping with `cluster` or `nodes` is dbtls; one whose values are Ansible groups (or that
 * has `all`) is Ansible YAML; text with [section] lines, or a file not named .yml/.yaml, is INI.
 */
export function detectFormat(text: string, path: string, src: YamlSource = parseYaml(text)): InventoryFormat {
  const root = src.doc.contents;
  if (isMap(root)) {
    const keys = root.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''));
    if (keys.includes('cluster') || keys.includes('nodes')) return 'dbtls';
    if (keys.includes('all') || root.items.every((p) => isAnsibleGroup(p.value as Node | null))) return 'ansible-yaml';
    return 'dbtls';
  }
  const yamlName = /\.ya?ml$/i.test(path);
  if (looksLikeIni(text) || !yamlName) return 'ansible-ini';
  return 'dbtls';
}

function isAnsibleGroup(node: Node | null): boolean {
  if (node == null || (isScalar(node) && node.value === null)) return true;
  return (
    isMap(node) &&
    node.items.every((p) => isScalar(p.key) && ['hosts', 'children', 'vars'].includes(String(p.key.value)))
  );
}

/** At least one [section] header, and no line that reads as a YAML key or list item. */
function looksLikeIni(text: string): boolean {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith(';'));
  return (
    lines.some((l) => /^\[[^\]]+\]\s*([#;].*)?$/.test(l)) &&
    !lines.some((l) => /^-(\s|$)/.test(l) || /^[^\s=[]+:(\s|$)/.test(l))
  );
}
