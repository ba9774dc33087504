// Ansible inventories (INI or YAML, parsed by ansible-ini.ts / ansible-yaml.ts into the shape
// below) turned into the Cluster model: groups give roles, ansible_* variables give the address and
// SSH settings, dbtls_* variables give the rest. Variable precedence follows Ansible: parent groups
// before child groups, groups of one depth in name order, host variables last.
import { basename, extname } from 'node:path';
import { quoteValue, usageError } from '../errors.js';
import { LIMITS } from './limits.js';
import { ROLES, type Cluster, type Role } from './model.js';
import type { Pos, Problems } from './errors.js';
import type { RawGalera, RawInventory, RawNode, RawSsh } from './schema.js';
import { providerOptions } from './galera-options.js';
import { buildCluster } from './build.js';
import * as rules from './rules.js';
import { layered, VarReader, type Located } from './ansible-vars.js';

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
  /** Where the group past LIMITS.groups was named (it and later new groups were not kept). */
  overflow?: Pos;
  /** In the order the file first lists them. */
  hosts: Map<string, AnsibleHost>;
}

/**
 * Groups that map to roles without --role-map: every role's own name and TiUP's "<role>_servers",
 * plus the cluster products named after their engine, and TiUP's cdc_servers. Matched case-insensitively, "-" as "_".
 */
export const GROUP_ROLES: Readonly<Record<string, readonly Role[]>> = {
  ...Object.fromEntries(
    ROLES.flatMap((r) => [
      [r, [r]],
      [`${r}_servers`, [r]],
    ]),
  ),
  // A Galera node runs its server too: MariaDB Galera Cluster, Percona XtraDB Cluster.
  galera: ['mariadb', 'galera'],
  galera_servers: ['mariadb', 'galera'],
  pxc: ['percona', 'pxc'],
  pxc_servers: ['percona', 'pxc'],
  // TiUP's topology calls TiCDC's hosts cdc_servers.
  cdc: ['ticdc'],
  cdc_servers: ['ticdc'],
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

/** The group NAME (made when new); POS is where it is defined, MENTION where it is named (for the group limit). */
export function groupOf(inv: AnsibleInventory, name: string, pos?: Pos, mention?: Pos): AnsibleGroup {
  let g = inv.groups.get(name);
  if (!g && inv.groups.size >= LIMITS.groups) {
    // Not kept: the parse goes on (the parsers stop at inv.overflow) and fromAnsible reports it.
    inv.overflow ??= pos ?? mention ?? { line: 0, column: 0 };
    return { name, hosts: [], members: new Set(), children: [], vars: new Map() };
  }
  if (!g) inv.groups.set(name, (g = { name, hosts: [], members: new Set(), children: [], vars: new Map() }));
  g.pos ??= pos;
  return g;
}

/**
 * Lists a host in a group; variables given again for the same host override the earlier ones. False
 * (and nothing added) when the inventory already has LIMITS.nodes hosts: the caller reports it there.
 */
export function addHost(
  inv: AnsibleInventory,
  group: AnsibleGroup,
  name: string,
  pos: Pos,
  vars: Map<string, AnsibleVar>,
): boolean {
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

/** Why an inventory with too many groups is refused. */
export const TOO_MANY_GROUPS = `the inventory names more than ${LIMITS.groups} groups; dbtls takes at most ${LIMITS.groups}`;

/** Why a host was not added (addHost returned false). */
export const TOO_MANY_HOSTS = `the inventory lists more than ${LIMITS.nodes} hosts; dbtls takes at most ${LIMITS.nodes} per inventory`;

const norm = (group: string) => group.toLowerCase().replace(/-/g, '_');

export function clusterNameFromFile(file: string): string {
  const base = basename(file, extname(file))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return base.slice(0, 63).replace(/-+$/, '') || 'cluster';
}

/** `file` is absolute. Bad options are usage errors (thrown); problems in the file are collected. */
export function fromAnsible(
  inv: AnsibleInventory,
  file: string,
  opts: AnsibleOptions,
  problems: Problems,
): Cluster | undefined {
  const cluster = opts.cluster ?? clusterNameFromFile(file);
  const bad = rules.clusterName(cluster);
  if (bad) throw usageError('bad-cluster', `--cluster ${bad}`);
  const roleMap = checkRoleMap(inv, opts.roleMap ?? {});

  if (inv.overflow) {
    problems.add(inv.overflow, '', TOO_MANY_GROUPS);
    return undefined;
  }
  const parents = linkGroups(inv, problems);
  const depth = depthOf(parents);
  const located = new Map<string, { pos: Pos; field: string }>();
  const nodes: RawNode[] = [];

  // Each host's own groups in one pass over the groups (not a scan of every group per host).
  const direct = new Map<string, string[]>();
  for (const g of inv.groups.values()) {
    for (const h of g.hosts) {
      const list = direct.get(h);
      if (list) list.push(g.name);
      else direct.set(h, [g.name]);
    }
  }
  // Hosts of the same groups share what the groups give them (computed once per set of groups): a
  // file of 10,000 hosts in 10,000 groups costs 10,000 + 10,000, not their product.
  const views = new Map<string, GroupView>();
  const viewOf = (own: string[]): GroupView => {
    const key = own.join('\n');
    let view = views.get(key);
    if (!view) views.set(key, (view = groupView(inv, own, parents, depth, roleMap, problems)));
    return view;
  };

  for (const host of inv.hosts.values()) {
    const own = [...(direct.get(host.name) ?? [])];
    if (!own.some((g) => g !== 'all')) own.push('ungrouped');
    const view = viewOf(own);
    located.set(`nodes[${nodes.length}].name`, { pos: host.pos, field: host.name });
    // Checks across a host's roles and dbtls_galera_* values point at the host.
    for (const f of ['roles', 'galera', 'galera.sst', 'galera.port'])
      located.set(`nodes[${nodes.length}].${f}`, { pos: host.pos, field: host.name });
    const node = hostToNode(host, view, problems);
    if (node.roles!.length === 0) {
      const named = view.groups.filter((g) => g !== 'all');
      const example = own.find((g) => g !== 'all') ?? 'ungrouped';
      const listed =
        named.length > 10 ? `${named.slice(0, 10).join(', ')} … (${named.length} groups)` : named.join(', ');
      problems.add(
        host.pos,
        host.name,
        `host ${quoteValue(host.name)} has no dbtls role: it is in group${named.length > 1 ? 's' : ''} ${listed}; map a group with --role-map (e.g. --role-map ${quoteValue(example, 40).slice(1, -1)}=mysql; roles: ${ROLES.join(', ')}), or set dbtls_roles on the host or a group`,
      );
    }
    nodes.push(node);
  }
  if (inv.hosts.size === 0) problems.add({ line: 1, column: 1 }, '', 'the inventory lists no hosts');

  // The cluster-wide SSH settings are those of the "all" group, as in the dbtls YAML's top-level ssh.
  const allVars = new Map([...inv.groups.get('all')!.vars].map(([k, v]) => [k, { ...v, field: `all.vars.${k}` }]));
  const raw: RawInventory = { cluster, ssh: readSsh(new VarReader(allVars, problems)), nodes };
  return buildCluster(raw, { file, problems, locate: (path) => located.get(path) ?? { field: path } });
}

/** What a host's groups give it: the groups in precedence order, their roles, their merged variables. */
interface GroupView {
  groups: string[];
  roles: Set<Role>;
  vars: Map<string, Located>;
}

function groupView(
  inv: AnsibleInventory,
  own: string[],
  parents: Map<string, Set<string>>,
  depth: (g: string) => number,
  roleMap: Map<string, Role[]>,
  problems: Problems,
): GroupView {
  const groups = closure(own, parents).sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
  const roles = new Set<Role>();
  for (const g of groups) for (const r of roleMap.get(norm(g)) ?? GROUP_ROLES[norm(g)] ?? []) roles.add(r);
  // Effective variables, each remembering where it was set (for the error position and field).
  const vars = new Map<string, Located>();
  for (const g of groups) for (const [k, v] of inv.groups.get(g)!.vars) vars.set(k, { ...v, field: `${g}.vars.${k}` });
  // dbtls_roles adds up over every group of the host and the host itself, like group roles do.
  const read = new VarReader(vars, problems);
  for (const g of groups) {
    const v = inv.groups.get(g)!.vars.get('dbtls_roles');
    if (v) for (const r of read.list({ ...v, field: `${g}.vars.dbtls_roles` }, rules.role)) roles.add(r as Role);
  }
  return { groups, roles, vars };
}

/** One host's node: its groups' roles plus its own dbtls_roles, its address, SSH settings and dbtls_* values. */
function hostToNode(host: AnsibleHost, view: GroupView, problems: Problems): RawNode {
  const own = new Map<string, Located>();
  for (const [k, v] of host.vars) own.set(k, { ...v, field: `${host.name}.${k}` });
  const vars = layered(own, view.vars);
  const read = new VarReader(vars, problems);
  const roles = new Set(view.roles);
  const ownRoles = host.vars.get('dbtls_roles');
  if (ownRoles)
    for (const r of read.list({ ...ownRoles, field: `${host.name}.dbtls_roles` }, rules.role)) roles.add(r as Role);

  const node: RawNode = { roles: [...roles] };
  const nameBad = rules.safeName(host.name);
  if (nameBad) problems.add(host.pos, host.name, `inventory hostname ${nameBad}`);
  else node.name = host.name;

  const hostVar = ['ansible_host', 'ansible_ssh_host'].find((n) => vars.has(n));
  if (hostVar) node.host = read.string(hostVar, rules.host);
  else if (rules.host(host.name))
    problems.add(host.pos, host.name, `${rules.host(host.name)}; set ansible_host to its address`);
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
  const galera: RawGalera = {
    providerOptions: read.string('dbtls_galera_provider_options', providerOptions),
    port: read.port('dbtls_galera_port'),
    sst: read.string('dbtls_galera_sst', rules.sstMethod),
    providerVersion: read.string('dbtls_galera_provider_version', rules.providerVersion),
  };
  const given = Object.fromEntries(Object.entries(galera).filter(([, v]) => v !== undefined));
  if (Object.keys(given).length) node.galera = given;
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
      throw usageError(
        'bad-role-map',
        `--role-map ${group}=…: the inventory has no group "${group}" (its groups: ${[...inv.groups.keys()].join(', ')})`,
      );
    }
    out.set(norm(group), roles);
  }
  return out;
}

/** Each group's parents; groups nobody claims hang under "all". Cycles are reported and cut. */
function linkGroups(inv: AnsibleInventory, problems: Problems): Map<string, Set<string>> {
  const parents = new Map<string, Set<string>>([...inv.groups.keys()].map((g) => [g, new Set<string>()]));
  // Iterative (a chain of 10,000 groups must not exhaust the stack).
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set([from]);
    const stack = [from];
    while (stack.length) {
      const g = stack.pop()!;
      if (g === to) return true;
      for (const p of parents.get(g) ?? []) if (!seen.has(p)) (seen.add(p), stack.push(p));
    }
    return false;
  };
  for (const g of inv.groups.values()) {
    for (const child of g.children) {
      // Adding g as a parent of child closes a loop when g already descends from child.
      if (reaches(g.name, child.name))
        problems.add(
          child.pos,
          `${g.name}.children.${child.name}`,
          `group ${quoteValue(child.name)} cannot be a child of ${quoteValue(g.name)}: ${quoteValue(g.name)} is already inside ${quoteValue(child.name)}`,
        );
      else parents.get(child.name)!.add(g.name);
    }
  }
  for (const [g, ps] of parents) if (g !== 'all' && ps.size === 0) ps.add('all');
  return parents;
}

/** A group's depth below "all" (the longest way up), memoized, without recursion. */
function depthOf(parents: Map<string, Set<string>>): (g: string) => number {
  const memo = new Map<string, number>([['all', 0]]);
  return (g: string): number => {
    const stack = [g];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (memo.has(top)) {
        stack.pop();
        continue;
      }
      const ps = [...(parents.get(top) ?? [])];
      const pending = ps.filter((p) => !memo.has(p));
      if (pending.length) stack.push(...pending);
      else {
        memo.set(top, 1 + ps.reduce((m, p) => Math.max(m, memo.get(p)!), 0));
        stack.pop();
      }
    }
    return memo.get(g)!;
  };
}

function closure(direct: string[], parents: Map<string, Set<string>>): string[] {
  const out = new Set<string>();
  const stack = [...direct];
  while (stack.length) {
    const g = stack.pop()!;
    if (out.has(g)) continue;
    out.add(g);
    for (const p of parents.get(g) ?? []) stack.push(p);
  }
  return [...out];
}
