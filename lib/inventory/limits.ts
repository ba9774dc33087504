// The bounds on what an inventory (dbtls YAML, Ansible INI or YAML) or an answers file may make dbtls
// do: generous for any real cluster, small enough that a hostile or broken file is refused in linear
// time and memory, with its place (file:line:col) named. Documented in docs/inventory.md ("Limits").

export const LIMITS = {
  /** Bytes of one inventory or answers file (read no further: /dev/zero is refused, not read). */
  inputBytes: 16 << 20,
  /** Nodes of one inventory: hosts of an Ansible inventory, entries of a dbtls YAML's nodes. */
  nodes: 10_000,
  /** Groups of one Ansible inventory (all and ungrouped included). */
  groups: 10_000,
  /** Hosts one Ansible host pattern ("db[0:99]-[a:c]") may expand to. */
  hostsPerPattern: 10_000,
  /** YAML values (scalars, lists, mappings, keys) of one document, each alias counted as the values it stands for. */
  yamlValues: 1_000_000,
  /** Nesting of YAML flow collections ("[[…]]", "{…}"); the YAML parser itself is not safe past a few thousand. */
  yamlFlowDepth: 64,
  /** Nesting of YAML collections through aliases. */
  yamlDepth: 200,
  /** Problems an error lists; the rest are counted. */
  problemsShown: 100,
} as const;
