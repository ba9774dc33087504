// `dbtls init --answers FILE`: every answer of the wizard in one YAML file, for automation. Its keys
// are checked like an inventory's (unknown keys, types, the inventory's own value rules), every problem
// reported at once as file:line:col: key: message; cross-field rules are checked as the answers are used.
// The keys are documented in docs/bootstrap.md.
import { resolve } from 'node:path';
import { inputError, quoteValue } from '../errors.js';
import { readInputText } from '../inventory/read-input.js';
import { formatProblem, Problems } from '../inventory/errors.js';
import * as rules from '../inventory/rules.js';
import { bool, int, list, map, required, str, walk, type MapSpec } from '../inventory/walk.js';
import { parseYaml, reportSyntax } from '../inventory/yaml-source.js';
import { CA_SPEC, SSH_SPEC, SUBJECT_SPEC } from '../inventory/schema.js';
import { hostPort } from './nodes.js';
import type { Preset } from './questions.js';

/** `group=role[,role…]`, as `--role-map` takes it. */
export const roleMapEntry: rules.Rule<string> = (s) => {
  const m = /^([^=\s]+)=([a-z,]+)$/.exec(s);
  if (!m) return `${quoteValue(s)} must look like group=role[,role…]`;
  for (const r of m[2]!.split(',').filter(Boolean)) {
    const bad = rules.role(r);
    if (bad) return bad;
  }
  return undefined;
};

export const ANSWERS_SCHEMA: MapSpec = map({
  cluster: str(rules.clusterName),
  roles: list(str(rules.role), { min: 1, what: 'role' }),
  transport: str(rules.transport),
  nodes: list(
    map({
      name: str(rules.safeName),
      host: required(str(hostPort)),
      roles: list(str(rules.role), { min: 1, what: 'role' }),
    }),
    { min: 1, what: 'node' },
  ),
  ansible: map({ file: required(str(rules.filePath)), roleMap: list(str(roleMapEntry)) }),
  dest: str(rules.dest),
  ssh: SSH_SPEC,
  acceptNewHostKeys: bool(),
  subject: SUBJECT_SPEC,
  ca: CA_SPEC,
  leaf: map({ days: int(rules.days), keySize: int(rules.keySize), keyType: str(rules.keyType) }),
  clients: list(
    map({ name: required(str(rules.safeName)), commonName: str(rules.commonName), keystore: str(rules.storeType) }),
  ),
  inventory: str(rules.filePath),
  pki: str(rules.filePath),
  overwrite: bool(),
  push: bool(),
});

/** Reads and checks an answers file; an InputError (exit 2) listing every problem when it is bad. */
export async function readAnswersFile(path: string): Promise<Preset> {
  const file = resolve(path);
  const text = await readInputText(file, 'the answers file', path);
  const problems = new Problems(path);
  const src = parseYaml(text);
  if (!reportSyntax(src, problems)) {
    const { value, where } = walk(src, ANSWERS_SCHEMA, problems);
    if (value.nodes !== undefined && value.ansible !== undefined) {
      problems.add(
        where.get('ansible'),
        'ansible',
        'give the nodes either as nodes or from an ansible inventory, not both',
      );
    }
    if (problems.empty) return { file, shown: path, values: value, where };
  }
  const list = [...problems.list].sort((a, b) => a.line - b.line || a.column - b.column);
  const first = list[0]!;
  const lines = list.map(formatProblem);
  if (problems.more > 0) lines.push(`… and ${problems.more} more problem${problems.more > 1 ? 's' : ''} not shown`);
  // The message already names file, line and key of every problem.
  throw inputError(
    'bad-answers',
    lines.join('\n'),
    { file: first.file, line: first.line, column: first.column },
    "the answers file's keys are described in docs/bootstrap.md",
  );
}
