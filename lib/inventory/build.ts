// From checked raw values to the Cluster model: the checks that span fields (duplicate names, CNs
// that clash with the CA's), then the defaults. Shared by the dbtls YAML and the Ansible import.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  DEFAULTS,
  GALERA_ROLES,
  MYSQL_FAMILY,
  ROLES,
  defaultPort,
  type Cluster,
  type NodeSpec,
  type GaleraSettings,
  type Role,
  type SshSettings,
  type SstMethod,
  type Transport,
} from './model.js';
import type { Pos, Problems } from './errors.js';
import { parseJumpHost } from './rules.js';
import { listenPort, parseProviderOptions } from './galera-options.js';
import { checkGroupReplication, groupReplicationOf } from './group-replication.js';
import type { RawInventory, RawNode, RawSsh } from './schema.js';
import { keyTypeOf, keyTypeProblems } from './key-types.js';
import type { StoreType } from '../keystore/types.js';

export interface BuildContext {
  /** The inventory file, absolute: relative paths in it are relative to its folder. */
  file: string;
  problems: Problems;
  /** Where a model path (like `nodes[1].name`) came from, and the field name to show there. */
  locate(path: string): { pos?: Pos; field: string };
}

/** Runs the cross-field checks and, when the inventory has no problem at all, returns the model. */
export function buildCluster(raw: RawInventory, ctx: BuildContext): Cluster | undefined {
  crossCheck(raw, ctx);
  if (!ctx.problems.empty) return undefined;
  const dir = dirname(ctx.file);
  const cluster = raw.cluster!;
  const leaf = {
    days: raw.leaf?.days ?? DEFAULTS.leaf.days,
    keyType: keyTypeOf(raw.leaf, DEFAULTS.leaf.keyType),
    localhost: raw.leaf?.localhost ?? DEFAULTS.leaf.localhost,
  };
  const clusterSsh: RawSsh = { ...DEFAULTS.ssh, ...paths(raw.ssh, dir) };
  const ssh = settle(clusterSsh);
  const nodes: NodeSpec[] = (raw.nodes ?? []).map((n) => {
    const node: NodeSpec = {
      name: n!.name!,
      host: n!.host!,
      roles: ROLES.filter((r) => n!.roles!.includes(r)) as Role[],
      sans: (n!.sans ?? []) as string[],
      localhost: n!.localhost ?? leaf.localhost,
      transport: (n!.transport ?? 'ssh') as Transport,
      ssh: settle({ ...clusterSsh, ...paths(n!.ssh, dir) }),
      port: n!.port ?? defaultPort(ROLES.filter((r) => n!.roles!.includes(r)) as Role[]),
      adminPort: n!.adminPort ?? 6032,
      keyType: keyTypeOf(n!, leaf.keyType),
    };
    if (n!.dest !== undefined) node.dest = n!.dest;
    if (n!.replicaOf !== undefined) node.replicaOf = n!.replicaOf;
    if (n!.version !== undefined) node.version = n!.version;
    if (n!.owner !== undefined) node.owner = n!.owner;
    if (n!.group !== undefined) node.group = n!.group;
    if (n!.become === 'sudo') node.become = 'sudo';
    if (n!.reload !== undefined) node.reload = n!.reload;
    if (node.roles.some((r) => GALERA_ROLES.includes(r))) node.galera = galeraSettings(n!, node.roles);
    const gr = groupReplicationOf(n!, node.port);
    if (gr) node.groupReplication = gr;
    return node;
  });
  return {
    cluster,
    file: ctx.file,
    pki: raw.pki === undefined ? join(dir, 'pki', cluster) : resolve(dir, expandHome(raw.pki)),
    subject: { ...raw.subject },
    ca: {
      commonName: caCommonName(raw)!,
      days: raw.ca?.days ?? DEFAULTS.ca.days,
      keyType: keyTypeOf(raw.ca, DEFAULTS.ca.keyType),
      ...(raw.ca?.crlDays !== undefined ? { crlDays: raw.ca.crlDays } : {}),
      ...(raw.ca?.intermediate
        ? { intermediate: { days: raw.ca.intermediateDays ?? DEFAULTS.ca.intermediateDays } }
        : {}),
      ...(raw.ca?.pkcs11
        ? { pkcs11: { module: raw.ca.pkcs11.module!, token: raw.ca.pkcs11.token!, label: raw.ca.pkcs11.label! } }
        : {}),
    },
    leaf,
    ssh,
    nodes,
    clients: (raw.clients ?? []).map((c) => ({
      name: c!.name!,
      commonName: c!.commonName ?? c!.name!,
      ...(c!.keystore ? { keystore: c!.keystore as StoreType } : {}),
      ...(c!.connectTo ? { connectTo: c!.connectTo } : {}),
    })),
  };
}

/** Galera's port is the inventory's, else gmcast.listen_addr's, else 4567; SST rsync on MariaDB, xtrabackup-v2 on PXC. */
function galeraSettings(n: RawNode, roles: Role[]): GaleraSettings {
  const providerOptions = givenOptions(n);
  const sst = (n.galera?.sst ?? defaultSst(roles)) as SstMethod;
  return {
    providerOptions,
    port: n.galera?.port ?? listenPort(providerOptions) ?? 4567,
    sst,
    ...(n.galera?.providerVersion !== undefined ? { providerVersion: n.galera.providerVersion } : {}),
  };
}

/** The node's providerOptions as pairs; none when they are bad (the walk reported why). */
function givenOptions(n: RawNode): Array<[string, string]> {
  const parsed = n.galera?.providerOptions === undefined ? [] : parseProviderOptions(n.galera.providerOptions);
  return typeof parsed === 'string' ? [] : parsed;
}

const defaultSst = (roles: readonly (string | undefined)[]): SstMethod =>
  roles.includes('pxc') ? 'xtrabackup-v2' : 'rsync';

/** What is wrong with a node's Galera roles and settings (undefined when they fit together). */
function galeraProblems(n: RawNode): Array<[string, string]> {
  const roles = n.roles ?? [];
  const has = (r: string) => roles.includes(r);
  const out: Array<[string, string]> = [];
  if (has('galera') && has('pxc')) out.push(['roles', "a node is galera or pxc, not both (pxc is Percona's Galera)"]);
  else if (has('pxc') && !has('percona') && !has('mysql'))
    out.push(['roles', 'pxc needs the percona role too (Percona XtraDB Cluster is a Percona Server)']);
  else if (has('pxc') && has('mariadb')) out.push(['roles', 'pxc is Percona Server: it does not go with mariadb']);
  else if (has('galera') && !roles.some((r) => (MYSQL_FAMILY as readonly (string | undefined)[]).includes(r)))
    out.push([
      'roles',
      'galera needs the server it runs in too: mariadb (MariaDB Galera Cluster) or mysql (MySQL-wsrep)',
    ]);
  if (n.groupReplication && (has('galera') || has('pxc')))
    out.push(['groupReplication', 'a node is in a Galera cluster or a Group Replication group, not both']);
  if (n.galera && !has('galera') && !has('pxc'))
    out.push(['galera', 'galera settings need the galera or pxc role on the node']);
  const sst = n.galera?.sst;
  if (sst !== undefined && has('pxc') && sst !== 'xtrabackup-v2')
    out.push(['galera.sst', `Percona XtraDB Cluster 8 transfers state with xtrabackup-v2 only, not ${sst}`]);
  if (sst === 'xtrabackup-v2' && has('mariadb'))
    out.push(['galera.sst', 'MariaDB has no xtrabackup-v2 SST: use mariabackup or rsync']);
  const given = listenPort(givenOptions(n));
  if (n.galera?.port !== undefined && given !== undefined && given !== n.galera.port)
    out.push([
      'galera.port',
      `${n.galera.port} differs from the port in providerOptions (${given}); give one, or the same in both`,
    ]);
  return out;
}

function caCommonName(raw: RawInventory): string | undefined {
  return raw.ca?.commonName ?? (raw.cluster === undefined ? undefined : `${raw.cluster} CA`);
}

function crossCheck(raw: RawInventory, ctx: BuildContext): void {
  const report = (path: string, message: string) => {
    const { pos, field } = ctx.locate(path);
    ctx.problems.add(pos, field, message);
  };
  // Names become directories, and some file systems ignore case: compare them folded.
  const unique = (kind: 'nodes' | 'clients', names: (string | undefined)[]) => {
    const first = new Map<string, number>();
    names.forEach((name, i) => {
      if (name === undefined) return;
      const seen = first.get(name.toLowerCase());
      if (seen === undefined) first.set(name.toLowerCase(), i);
      else {
        const at = ctx.locate(`${kind}[${seen}].name`).pos;
        report(
          `${kind}[${i}].name`,
          `duplicate ${kind === 'nodes' ? 'node' : 'client'} name "${name}"${at ? ` (first at line ${at.line})` : ''}`,
        );
      }
    });
  };
  unique(
    'nodes',
    (raw.nodes ?? []).map((n) => n?.name),
  );
  unique(
    'clients',
    (raw.clients ?? []).map((c) => c?.name),
  );

  // replicaOf and connectTo name nodes; replication runs between MySQL-family servers only.
  const nodes = new Map((raw.nodes ?? []).filter((n) => n?.name).map((n) => [n!.name!, n!]));
  const mysqlFamily = (n: { roles?: (string | undefined)[] } | undefined) =>
    !!n?.roles?.some((r) => (MYSQL_FAMILY as readonly (string | undefined)[]).includes(r));
  (raw.nodes ?? []).forEach((n, i) => {
    const src = n?.replicaOf;
    if (src === undefined) return;
    if (src === n!.name) report(`nodes[${i}].replicaOf`, 'a node cannot replicate from itself');
    else if (!nodes.has(src)) report(`nodes[${i}].replicaOf`, `no node named "${src}"`);
    else if (!mysqlFamily(n) || !mysqlFamily(nodes.get(src)))
      report(`nodes[${i}].replicaOf`, 'replication needs a mysql, mariadb or percona role on both nodes');
  });
  (raw.nodes ?? []).forEach((n, i) => {
    if (n) for (const [field, message] of galeraProblems(n)) report(`nodes[${i}].${field}`, message);
  });
  for (const [path, message] of keyTypeProblems(raw)) report(path, message);
  if (raw.ca?.intermediateDays !== undefined && !raw.ca.intermediate)
    report('ca.intermediateDays', 'is for ca.intermediate: true (there is no intermediate without it)');
  if (
    raw.ca?.intermediate &&
    raw.ca.intermediateDays !== undefined &&
    raw.ca.days !== undefined &&
    raw.ca.intermediateDays > raw.ca.days
  )
    report(
      'ca.intermediateDays',
      `${raw.ca.intermediateDays} is longer than the root's ca.days ${raw.ca.days}: an intermediate cannot outlive its root`,
    );
  (raw.clients ?? []).forEach((c, i) => {
    if (c?.connectTo !== undefined && !nodes.has(c.connectTo))
      report(`clients[${i}].connectTo`, `no node named "${c.connectTo}"`);
  });

  checkGroupReplication(
    raw,
    report,
    (path) => ctx.locate(path).pos?.line,
    (n) => n.port ?? defaultPort(ROLES.filter((r) => n.roles?.includes(r))),
  );

  const caCn = caCommonName(raw);
  if (caCn === undefined) return;
  const clash = (cn: string) => cn.toLowerCase() === caCn.toLowerCase();
  const why = `equals the CA's commonName "${caCn}"; a certificate's CN must differ from its CA's`;
  (raw.nodes ?? []).forEach((n, i) => {
    if (n?.name !== undefined && clash(n.name)) report(`nodes[${i}].name`, why);
  });
  (raw.clients ?? []).forEach((c, i) => {
    const field = c?.commonName !== undefined ? 'commonName' : 'name';
    const cn = c?.[field];
    if (cn !== undefined && clash(cn)) report(`clients[${i}].${field}`, why);
  });
}

/**
 * Merged ssh settings as the model holds them: proxyJump parsed (already checked by its rule), its user
 * defaulting to the ssh user of the same level, and `none` (a node opting out of the cluster's bastion) gone.
 */
function settle(raw: RawSsh): SshSettings {
  const { proxyJump, ...rest } = raw;
  if (proxyJump === undefined || proxyJump === 'none') return rest;
  const jump = parseJumpHost(proxyJump);
  if (typeof jump === 'string') throw new Error(`unchecked proxyJump ${JSON.stringify(proxyJump)}: ${jump}`);
  return {
    ...rest,
    proxyJump: { user: jump.user ?? rest.user ?? DEFAULTS.ssh.user, host: jump.host, port: jump.port },
  };
}

/** Key files: "~/" is the home folder, and relative paths are relative to the inventory's folder. */
function paths(ssh: RawSsh | undefined, dir: string): RawSsh {
  const out: RawSsh = { ...ssh };
  if (out.identityFile !== undefined) out.identityFile = resolve(dir, expandHome(out.identityFile));
  if (out.knownHostsFile !== undefined) out.knownHostsFile = resolve(dir, expandHome(out.knownHostsFile));
  return out;
}

export function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}
