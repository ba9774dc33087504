// Ansible inventories (INI or YAML, parsed by ansible-ini.ts / ansible-yaml.ts into the shape
// below) turned into the Cluster model: groups give roles, ansible_* variables give the address and
// SSH settings, dbtls_* variables give the rest. Variable precedence follows Ansible: parent groups
// before child groups, groups of one depth in name order, host variables last.
import { basename, extname } from 'node:path';
import { quoteValue, usageError } from '../errors.js';
import { LIMITS } from './limits.js';
import { ROLES, type Cluster, type Role } from './model.js';
import type { Pos, Problems } from './errors.js';
import type { RawInventory, RawNode, RawSsh } from './schema.js';
import { buildCluster } from './build.js';
import * as rules from './rules.js';
import { VarReader, type Located } from './ansible-vars.js';

export interface AnsibleVar {
  value: unknown;
  pos: Pos;
}

export interface AnsibleGroup {
  name: string;
  pos?: Pos;
  hosts: string[];
  /** The same names as a set (membership tests in linear time). */
  members: Set<string>;
  children: { name: string; pos: Pos }[];
  vars: Map<string, AnsibleVar>;
}

export interface AnsibleHost {
  name: string;
  /** Where the host is first listed. */
  pos: Pos;
  vars: Map<string, AnsibleVar>;
}

export interface AnsibleInventory {
  groups: Map<string, AnsibleGroup>;
  /** In the order the file first lists them. */
  hosts: Map<string, AnsibleHost>;
}

/**
 * Groups that map to roles without --role-map: every role's own name and TiUP's "<role>_servers",
 * plus the cluster products named after their engine. Matched case-insensitively, "-" as "_".
 */
export const GROUP_ROLES: Readonly<Record<string, readonly Role[]>> = {
  ...Object.fromEntries(ROLES.flatMap((r) => [[r, [r]], [`${r}_servers`, [r]]])),
  galera: ['mariadb'],
  pxc: ['percona'],
};

export interface AnsibleOptions {
  /** Cluster name; default: the inventory file's name without extension, reduced to [a-z0-9-]. */
  cluster?: string;
  /** Group → roles; wins over GROUP_ROLES. */
  roleMap?: Record<string, Role[]>;
}

export function newInventory(): AnsibleInventory {
  const inv: AnsibleInventory = { groups: new Map(), hosts: new Map() };
  groupOf(inv, 'all');
  groupOf(inv, 'ungrouped');
  return inv;
}

export function groupOf(inv: AnsibleInventory, name: string, pos?: Pos): AnsibleGroup {
  let g = inv.groups.get(name);
  if (!g) inv.groups.set(name, (g = { name, hosts: [], members: new Set(), children: [], vars: new Map() }));
  g.pos ??= pos;
  return g;
}

/**
 * Lists a host in a group; variables given again for the same host override the earlier ones. False
 * (and nothing added) when the inventory already has LIMITS.nodes hosts: the caller reports it there.
 */
export function addHost(inv: AnsibleInventory, group: AnsibleGroup, name: string, pos: Pos, vars: Map<string, AnsibleVar>): boolean {
  let h = inv.hosts.get(name);
  if (!h) {
    if (inv.hosts.size >= LIMITS.nodes) return false;
    inv.hosts.set(name, (h = { name, pos, vars: new Map() }));
  }
  for (const [k, v] of vars) h.vars.set(k, v);
  if (!group.members.has(name)) {
    group.members.add(name);
    group.hosts.push(name);
  }
  return true;
}

/** Why a host was not added (addHost returned false). */
export const TOO_MANY_HOSTS = `the inventory lists more than ${LIMITS.nodes} hosts; dbtls takes at most ${LIMITS.nodes} per inventory`;

const norm = (group: string) => group.toLowerCase().replace(/-/g, '_');

export function clusterNameFromFile(file: string): string {
  const base = basename(file, extname(file)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return base.slice(0, 63).replace(/-+$/, '') || 'cluster';
}

/** `file` is absolute. Bad options are usage errors (thrown); problems in the file are collected. */
export function fromAnsible(inv: AnsibleInventory, file: string, opts: AnsibleOptions, problems: Problems): Cluster | undefined {
  const cluster = opts.cluster ?? clusterNameFromFile(file);
  const bad = rules.clusterName(cluster);
  if (bad) throw usageError('bad-cluster', `--cluster ${bad}`);
  const roleMap = checkRoleMap(inv, opts.roleMap ?? {});

  const parents = linkGroups(inv, problems);
  const depth = depthOf(parents);
  const located = new Map<string, { pos: Pos; field: string }>();
  const nodes: RawNode[] = [];

  for (const host of inv.hosts.values()) {
    const direct = [...inv.groups.values()].filter((g) => g.members.has(host.name)).map((g) => g.name);
    if (!direct.some((g) => g !== 'all')) direct.push('ungrouped');
    const groups = closure(direct, parents).sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
    located.set(`nodes[${nodes.length}].name`, { pos: host.pos, field: host.name });
    const roles = new Set<Role>();
    for (const g of groups) for (const r of roleMap.get(norm(g)) ?? GROUP_ROLES[norm(g)] ?? []) roles.add(r);
    const node = hostToNode(inv, host, groups, roles, problems);
    if (node.roles!.length === 0) {
      const named = groups.filter((g) => g !== 'all');
      const example = direct.find((g) => g !== 'all') ?? 'ungrouped';
      problems.add(host.pos, host.name, `host ${quoteValue(host.name)} has no dbtls role: it is in group${named.length > 1 ? 's' : ''} ${named.join(', ')}; map a group with --role-map (e.g. --role-map ${example}=mysql; roles: ${ROLES.join(', ')}), or set dbtls_roles on the host or a group`);
    }
    nodes.push(node);
  }
  if (inv.hosts.size === 0) problems.add({ line: 1, column: 1 }, '', 'the inventory lists no hosts');

  // The cluster-wide SSH settings are those of the "all" group, as in the dbtls YAML's top-level ssh.
  const allVars = new Map([...inv.groups.get('all')!.vars].map(([k, v]) => [k, { ...v, field: `all.vars.${k}` }]));
  const raw: RawInventory = { cluster, ssh: readSsh(new VarReader(allVars, problems)), nodes };
  return buildCluster(raw, { file, problems, locate: (path) => located.get(path) ?? { field: path } });
}

/** One host's node: its roles so far plus dbtls_roles, its address, SSH settings and dbtls_* values. */
function hostToNode(inv: AnsibleInventory, host: AnsibleHost, groups: string[], roles: Set<Role>, problems: Problems): RawNode {
  // Effective variables, each remembering where it was set (for the error position and field).
  const vars = new Map<string, Located>();
  for (const g of groups) for (const [k, v] of inv.groups.get(g)!.vars) vars.set(k, { ...v, field: `${g}.vars.${k}` });
  for (const [k, v] of host.vars) vars.set(k, { ...v, field: `${host.name}.${k}` });
  const read = new VarReader(vars, problems);

  // dbtls_roles adds up over every group of the host and the host itself, like group roles do.
  for (const g of groups) {
    const v = inv.groups.get(g)!.vars.get('dbtls_roles');
    if (v) for (const r of read.list({ ...v, field: `${g}.vars.dbtls_roles` }, rules.role)) roles.add(r as Role);
  }
  const own = host.vars.get('dbtls_roles');
  if (own) for (const r of read.list({ ...own, field: `${host.name}.dbtls_roles` }, rules.role)) roles.add(r as Role);

  const node: RawNode = { roles: [...roles] };
  const nameBad = rules.safeName(host.name);
  if (nameBad) problems.add(host.pos, host.name, `inventory hostname ${nameBad}`);
  else node.name = host.name;

  const hostVar = ['ansible_host', 'ansible_ssh_host'].find((n) => vars.has(n));
  if (hostVar) node.host = read.string(hostVar, rules.host);
  else if (rules.host(host.name)) problems.add(host.pos, host.name, `${rules.host(host.name)}; set ansible_host to its address`);
  else node.host = host.name;

  node.ssh = readSsh(read);
  const transport = vars.has('dbtls_transport') ? read.string('dbtls_transport', rules.transport) : read.connection();
  if (transport !== undefined) node.transport = transport;
  const dest = read.string('dbtls_dest', rules.dest);
  if (dest !== undefined) node.dest = dest;
  const sans = vars.get('dbtls_sans');
  if (sans) node.sans = read.list(sans, rules.san);
  const reload = read.string('dbtls_reload', rules.reload);
  if (reload !== undefined) node.reload = reload;
  return node;
}

/** ansible_user, ansible_port and the key file (or their older ansible_ssh_* spellings), dbtls_known_hosts_file, dbtls_proxy_jump. */
function readSsh(read: VarReader): RawSsh {
  const ssh = {
    user: read.string(read.first('ansible_user', 'ansible_ssh_user'), rules.sshUser),
    port: read.port(read.first('ansible_port', 'ansible_ssh_port')),
    identityFile: read.string(read.first('ansible_ssh_private_key_file', 'ansible_private_key_file'), rules.filePath),
    // Ansible keeps known_hosts in its configuration, not in the inventory: dbtls has its own variable.
    knownHostsFile: read.string('dbtls_known_hosts_file', rules.filePath),
    // Ansible spells a bastion inside ansible_ssh_common_args; dbtls reads only its own variable.
    proxyJump: read.string('dbtls_proxy_jump', rules.proxyJump),
  };
  return Object.fromEntries(Object.entries(ssh).filter(([, v]) => v !== undefined));
}

/** Unknown roles and groups that do not exist are mistakes on the command line, not in the file. */
function checkRoleMap(inv: AnsibleInventory, roleMap: Record<string, Role[]>): Map<string, Role[]> {
  const out = new Map<string, Role[]>();
  const groups = new Set([...inv.groups.keys()].map(norm));
  for (const [group, roles] of Object.entries(roleMap)) {
    for (const r of roles) {
      const bad = rules.role(r);
      if (bad) throw usageError('bad-role-map', `--role-map ${group}=${roles.join(',')}: ${bad}`);
    }
    if (!groups.has(norm(group))) {
      throw usageError('bad-role-map', `--role-map ${group}=…: the inventory has no group "${group}" (its groups: ${[...inv.groups.keys()].join(', ')})`);
    }
    out.set(norm(group), roles);
  }
  return out;
}

/** Each group's parents; groups nobody claims hang under "all". Cycles are reported and cut. */
function linkGroups(inv: AnsibleInventory, problems: Problems): Map<string, Set<string>> {
  const parents = new Map<string, Set<string>>([...inv.groups.keys()].map((g) => [g, new Set<string>()]));
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
    from === to || (!seen.has(from) && (seen.add(from), [...(parents.get(from) ?? [])].some((p) => reaches(p, to, seen))));
  for (const g of inv.groups.values()) {
    for (const child of g.children) {
      // Adding g as a parent of child closes a loop when g already descends from child.
      if (reaches(g.name, child.name)) problems.add(child.pos, `${g.name}.children.${child.name}`, `group "${child.name}" cannot be a child of "${g.name}": "${g.name}" is already inside "${child.name}"`);
      else parents.get(child.name)!.add(g.name);
    }
  }
  for (const [g, ps] of parents) if (g !== 'all' && ps.size === 0) ps.add('all');
  return parents;
}

function depthOf(parents: Map<string, Set<string>>): (g: string) => number {
  const memo = new Map<string, number>();
  const depth = (g: string): number => {
    if (!memo.has(g)) memo.set(g, g === 'all' ? 0 : 1 + Math.max(0, ...[...parents.get(g)!].map(depth)));
    return memo.get(g)!;
  };
  return depth;
}

function closure(direct: string[], parents: Map<string, Set<string>>): string[] {
  const out = new Set<string>();
  const add = (g: string) => {
    if (out.has(g)) return;
    out.add(g);
    for (const p of parents.get(g) ?? []) add(p);
  };
  direct.forEach(add);
  return [...out];
}
