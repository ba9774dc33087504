// The dbtls YAML inventory: syntax, then the schema table, then the cross-field checks and defaults.
import type { Cluster } from './model.js';
import type { Problems } from './errors.js';
import { INVENTORY_SCHEMA, type RawInventory } from './schema.js';
import { walk } from './walk.js';
import { buildCluster } from './build.js';
import { reportSyntax, type YamlSource } from './yaml-source.js';

/** `file` is absolute; problems are reported against the name `problems` was made with. */
export function fromDbtlsYaml(src: YamlSource, file: string, problems: Problems): Cluster | undefined {
  if (reportSyntax(src, problems)) return undefined;
  const { value, where } = walk(src, INVENTORY_SCHEMA, problems);
  return buildCluster(value as RawInventory, {
    file,
    problems,
    locate: (path) => ({ pos: where.get(path), field: path }),
  });
}
