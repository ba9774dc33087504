// Nodes from an Ansible inventory, as the wizard asks for them: the answers file's `ansible: { file,
// roleMap }` (read before the products are asked, since its groups decide them), or a file and a
// group→role map typed at the terminal, each checked by importing it as soon as it is typed.
import { relative } from 'node:path';
import type { DbtlsError } from '../errors.js';
import * as rules from '../inventory/rules.js';
import { expandHome } from '../inventory/build.js';
import { roleMapEntry } from './answers-file.js';
import { importAnsible, type AnsibleImport } from './ansible-import.js';
import { exists } from './file-checks.js';
import { absolutePath, type AnswerSource } from './questions.js';
import { plural } from '../text/plural.js';

/** An import's error with its file:line:col when it has one (a DbtlsError), else its message. */
const errorText = (e: unknown): string => (e as DbtlsError).describe?.() ?? (e as Error).message;
const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

export async function importFromAnswers(src: AnswerSource, cluster: string): Promise<AnsibleImport> {
  const file = await src.path({ key: 'ansible.file', message: 'Ansible inventory file', validate: rules.filePath });
  const roleMap = (src.given('ansible.roleMap') as string[] | undefined) ?? [];
  try {
    return await importAnsible(expandHome(file), roleMap, cluster);
  } catch (e) {
    throw src.bad('ansible.file', `cannot import ${file}:\n${errorText(e)}`);
  }
}

export async function importInteractively(src: AnswerSource, cluster: string): Promise<AnsibleImport> {
  const firstLines = (e: unknown) => errorText(e).split('\n').slice(0, 3).join('\n');
  let found: AnsibleImport | undefined;
  const file = await src.path({
    key: 'ansible.file',
    message: 'Ansible inventory file (INI or YAML)',
    validate: async (s) => {
      const path = expandHome(absolutePath(s, src.cwd));
      if (!(await exists(path))) return `${path}: no such file`;
      try {
        found = await importAnsible(path, [], cluster);
      } catch (e) {
        // Hosts without a role are fixed by the next question; any other problem is this file's.
        if (!/has no dbtls role/.test((e as Error).message)) return firstLines(e);
      }
      return undefined;
    },
  });
  const path = expandHome(file);
  const mapText = await src.text({
    key: 'ansible.roleMap',
    message:
      'Map Ansible groups to roles: group=role[,role…], space-separated (empty: only groups named like a role, e.g. mysql, tidb_servers)',
    default: '',
    askWithoutDefault: true,
    optional: true,
    validate: async (s) => {
      const entries = words(s);
      const bad = entries.map(roleMapEntry).find(Boolean);
      if (bad) return bad;
      try {
        found = await importAnsible(path, entries, cluster);
        return undefined;
      } catch (e) {
        return firstLines(e);
      }
    },
  });
  if (!found) found = await importAnsible(path, words(mapText), cluster);
  src.note(
    `${plural(found.nodes.length, 'node')} from ${relative(src.cwd, path).startsWith('..') ? path : relative(src.cwd, path)}: ${found.nodes.map((n) => `${n.name} (${n.roles.join(', ')})`).join(', ')}`,
  );
  return found;
}
