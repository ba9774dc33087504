// The order of `dbtls init`'s questions and what each answer is checked against: cluster, products,
// transport, nodes (typed, pasted or imported from Ansible), dest, SSH, the connection test with its
// host keys, the CA, clients, and where the inventory and the PKI directory go. Answers come from an
// AnswerSource (answers file, terminal, defaults); the connection test's progress is the caller's to
// show. Nothing is written here: the result is the inventory text, read back through the inventory
// loader, plus the host keys to add to known_hosts once the caller decides to write.
import { access, constants, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { DbtlsError, inputError } from '../errors.js';
import * as rules from '../inventory/rules.js';
import { DEFAULTS, ROLES, type Cluster, type NodeSpec, type Role, type SubjectFields, type Transport } from '../inventory/model.js';
import { expandHome } from '../inventory/build.js';
import { clusterNameFromFile } from '../inventory/ansible.js';
import { RSA_KEY_SIZES, type RsaKeySize } from '../pki/keys.js';
import type { StoreType } from '../keystore/types.js';
import { roleMapEntry } from './answers-file.js';
import { importAnsible, type AnsibleImport } from './ansible-import.js';
import { ConnectionTester, keyId, type ConnectionResult, type OfferedKey } from './host-keys.js';
import { renderInventory, parseInventoryText } from './inventory-yaml.js';
import { transportOf, type ClientAnswer, type InitAnswers, type SshAnswers } from './model.js';
import { hostPort, nameForHost, parseHostPort, parseNodeLines, type NodeAnswer, type NodeSsh } from './nodes.js';
import { absolutePath, type AnswerSource, type Choice } from './questions.js';

export const ROLE_CHOICES: Choice<Role>[] = [
  { value: 'mysql', name: 'MySQL' },
  { value: 'mariadb', name: 'MariaDB (and Galera)' },
  { value: 'percona', name: 'Percona Server / XtraDB Cluster' },
  { value: 'tidb', name: 'TiDB (the SQL layer)' },
  { value: 'pd', name: 'TiDB PD (placement driver)' },
  { value: 'tikv', name: 'TiKV (TiDB storage)' },
  { value: 'proxysql', name: 'ProxySQL' },
  { value: 'tungsten', name: 'Tungsten Clustering' },
];

export interface FlowContext {
  src: AnswerSource;
  /** --force: an existing inventory is replaced without asking. */
  force: boolean;
  /** --yes: push without asking (decides whether failed connection tests stop an unattended run). */
  yes: boolean;
  /** "dbtls 0.1.0", for the inventory's header. */
  generator: string;
  tester: ConnectionTester;
  /** Tests these nodes (the caller shows progress); one result per node, in order. */
  testConnections(nodes: NodeSpec[], test: (node: NodeSpec) => Promise<ConnectionResult>): Promise<ConnectionResult[]>;
}

export interface InitPlan {
  answers: InitAnswers;
  /** The inventory file's text, as it will be written. */
  text: string;
  /** The inventory read back from that text. */
  cluster: Cluster;
  /** The inventory file exists and will be replaced. */
  replaces: boolean;
  /** The last connection test of each ssh node (empty when no node uses ssh). */
  connections: ConnectionResult[];
  /** Unknown host keys accepted during the test: appended to known_hosts when the caller writes. */
  acceptedKeys: readonly OfferedKey[];
}

const unionRoles = (lists: Role[][]): Role[] => ROLES.filter((r) => lists.some((l) => l.includes(r)));
const exists = (p: string) => access(p, constants.F_OK).then(() => true, () => false);

export async function runFlow(ctx: FlowContext): Promise<InitPlan> {
  const { src } = ctx;
  const cwd = src.cwd;
  const cluster = await src.text({
    key: 'cluster',
    message: 'Cluster name (a-z, 0-9 and "-"; it names the CA and the PKI folder)',
    default: clusterNameFromFile(basename(cwd) + '.x'),
    askWithoutDefault: true,
    validate: rules.clusterName,
  });

  // Nodes an answers file gives decide the products when it does not list them.
  let imported: AnsibleImport | undefined;
  if (src.has('ansible')) imported = await importFromAnswers(src, cluster);
  const givenNodes = (src.given('nodes') as Array<{ roles?: Role[] }> | undefined) ?? [];
  const knownRoles = unionRoles([...givenNodes.map((n) => n.roles ?? []), ...(imported?.nodes.map((n) => n.roles) ?? [])]);
  const roles = await src.multi<Role>({
    key: 'roles',
    message: 'Which products run in the cluster? (space selects, enter confirms)',
    choices: ROLE_CHOICES,
    ...(knownRoles.length ? { default: knownRoles } : { default: ['mysql'] as Role[], askWithoutDefault: true }),
    validate: (v) => (v.length === 0 ? 'choose at least one' : v.map((r) => rules.role(r)).find(Boolean)),
  });
  const transport = await src.select<Transport>({
    key: 'transport',
    message: 'How are the nodes reached?',
    choices: [
      { value: 'ssh', name: 'ssh', description: 'over SSH (sftp), host keys checked against known_hosts' },
      { value: 'local', name: 'local', description: 'files written on this machine, under --local-root/<node>/ (a try-out)' },
    ],
    default: 'ssh',
  });

  let nodes: NodeAnswer[];
  if (imported) nodes = imported.nodes;
  else if (src.has('nodes')) nodes = await nodesFromAnswers(src, roles);
  else if (!src.interactive) throw src.missing('nodes', "the cluster's servers: a list of { name, host, roles }, or ansible: { file }");
  else {
    const how = await src.select({
      key: 'nodeSource',
      message: 'How will you give the nodes?',
      choices: [
        { value: 'typed' as const, name: 'one by one', description: 'host, name and roles of each node' },
        { value: 'paste' as const, name: 'paste a list', description: 'one node a line: host, or name host, or name host roles' },
        { value: 'ansible' as const, name: 'from an Ansible inventory', description: 'an INI or YAML inventory; groups become roles' },
      ],
      default: 'typed',
      askWithoutDefault: true,
    });
    if (how === 'typed') nodes = await typedNodes(src, roles);
    else if (how === 'paste') nodes = await pastedNodes(src, roles);
    else {
      imported = await importInteractively(src, cluster);
      nodes = imported.nodes;
    }
  }
  const allRoles = unionRoles([roles, ...nodes.map((n) => n.roles)]);

  let dest: string | undefined;
  if (nodes.some((n) => n.dest === undefined)) {
    dest =
      (await src.text({
        key: 'dest',
        message: 'Folder on the nodes for their files (absolute; empty: each role\'s default, e.g. /etc/mysql/ssl)',
        default: '',
        optional: true,
        validate: (s) => (s === '' ? undefined : rules.dest(s)),
      })) || undefined;
  }

  const partial = { cluster, roles: allRoles, transport, nodes, ...(dest ? { dest } : {}) };
  const anySsh = nodes.some((n) => transportOf(partial, n) === 'ssh');
  const ssh = anySsh ? await sshAnswers(src, imported?.ssh ?? {}) : { user: DEFAULTS.ssh.user, port: DEFAULTS.ssh.port };
  if (imported) for (const n of nodes) n.ssh = sshOverrides(n.ssh ?? {}, ssh);

  let connections: ConnectionResult[] = [];
  if (anySsh) {
    const provisional = parseInventoryText(renderInventory(complete({ ...partial, ssh }, cwd), ctx.generator), join(cwd, '.dbtls-init.yml'));
    connections = await testAndAcceptKeys(ctx, provisional.nodes.filter((n) => n.transport === 'ssh'));
  }

  const ca = await caAnswers(src, cluster, nodes);
  const clients = await clientAnswers(src, ca.ca.commonName);
  const { inventory, replaces } = await inventoryPath(ctx, cluster);
  const pkiText = await src.path(
    { key: 'pki', message: 'PKI directory: CA, certificates, keys (relative to the inventory\'s folder)', default: `pki/${cluster}`, validate: rules.filePath },
    dirname(inventory),
  );
  const pki = absolutePath(pkiText, dirname(inventory));
  const pkiStat = await stat(expandHome(pki)).catch(() => undefined);
  if (pkiStat && !pkiStat.isDirectory()) throw src.bad('pki', `${pki} exists and is not a folder`);
  if (await exists(join(expandHome(pki), 'ca.pem'))) src.note(`${pki} already holds a CA: it is kept, and so is every certificate still valid.`);

  const answers: InitAnswers = { ...partial, roles: allRoles, ssh, ...ca, clients, inventory, pki: pkiText.startsWith('~/') ? pkiText : pki };
  const text = renderInventory(answers, ctx.generator);
  let model: Cluster;
  try {
    model = parseInventoryText(text, inventory);
  } catch (e) {
    // Every answer was checked on its own; what is left are rules across answers.
    throw inputError('bad-answers', `these answers do not make a valid inventory:\n${(e as Error).message}`, undefined, 'the inventory rules are in docs/inventory.md');
  }
  return { answers, text, cluster: model, replaces, connections, acceptedKeys: ctx.tester.acceptedKeys };
}

/** Placeholders for what is asked after the connection test, so the nodes can be built already. */
function complete(a: Pick<InitAnswers, 'cluster' | 'roles' | 'transport' | 'nodes' | 'dest' | 'ssh'>, cwd: string): InitAnswers {
  return {
    ...a,
    subject: {},
    ca: { commonName: `${a.cluster} CA`, days: DEFAULTS.ca.days, keySize: DEFAULTS.ca.keySize },
    leaf: { days: DEFAULTS.leaf.days, keySize: DEFAULTS.leaf.keySize },
    clients: [],
    inventory: join(cwd, '.dbtls-init.yml'),
    pki: join(cwd, 'pki'),
  };
}

async function nodesFromAnswers(src: AnswerSource, roles: Role[]): Promise<NodeAnswer[]> {
  const given = src.given('nodes') as Array<{ name?: string; host: string; roles?: Role[] }>;
  const taken: string[] = [];
  const out: NodeAnswer[] = [];
  for (const [i, n] of given.entries()) {
    const addr = parseHostPort(n.host);
    if (typeof addr === 'string') throw src.bad(`nodes[${i}].host`, addr);
    const name = n.name ?? nameForHost(addr.host, i + 1, taken);
    if (taken.some((t) => t.toLowerCase() === name.toLowerCase())) throw src.bad(`nodes[${i}].name`, `duplicate node name "${name}"`);
    taken.push(name);
    let nodeRoles = n.roles;
    if (!nodeRoles) {
      if (roles.length !== 1) throw src.bad(`nodes[${i}]`, `roles is required: the cluster has more than one role (${roles.join(', ')})`);
      nodeRoles = roles;
    }
    out.push({ name, host: addr.host, roles: ROLES.filter((r) => nodeRoles.includes(r)), ...(addr.port !== undefined ? { ssh: { port: addr.port } } : {}) });
  }
  return out;
}

async function typedNodes(src: AnswerSource, roles: Role[]): Promise<NodeAnswer[]> {
  const out: NodeAnswer[] = [];
  for (let i = 0; ; i++) {
    const taken = out.map((n) => n.name);
    const hostText = await src.text({ key: `nodes[${i}].host`, message: `Node ${i + 1}: host name or IP address (host:port for another SSH port)`, validate: hostPort });
    const addr = parseHostPort(hostText) as { host: string; port?: number };
    const name = await src.text({
      key: `nodes[${i}].name`,
      message: `Node ${i + 1}: name (the server certificate's CN)`,
      default: nameForHost(addr.host, i + 1, taken),
      askWithoutDefault: true,
      validate: (s) => rules.safeName(s) ?? (taken.some((t) => t.toLowerCase() === s.toLowerCase()) ? `there is already a node named "${s}"` : undefined),
    });
    const nodeRoles =
      roles.length === 1
        ? roles
        : await src.multi<Role>({
            key: `nodes[${i}].roles`,
            message: `Node ${i + 1}: roles of ${name}`,
            choices: ROLE_CHOICES.filter((c) => roles.includes(c.value)),
            default: out[i - 1]?.roles ?? [roles[0]!],
            askWithoutDefault: true,
            validate: (v) => (v.length ? undefined : 'choose at least one role'),
          });
    out.push({ name, host: addr.host, roles: ROLES.filter((r) => nodeRoles.includes(r)), ...(addr.port !== undefined ? { ssh: { port: addr.port } } : {}) });
    if (!(await src.confirm({ key: 'moreNodes', message: 'Add another node?', default: false, askWithoutDefault: true }))) return out;
  }
}

async function pastedNodes(src: AnswerSource, roles: Role[]): Promise<NodeAnswer[]> {
  const lines = await src.lines({
    key: 'nodeList',
    message: 'Paste the nodes, one a line: "host", "name host" or "name host role[,role…]" (host:port for another SSH port); an empty line ends the list',
    validate: (ls) => {
      const { nodes, problems } = parseNodeLines(ls);
      if (problems.length) return problems.slice(0, 5).map((p) => `line ${p.line}: ${p.message}`).join('; ');
      return nodes.length ? undefined : 'no node in the list';
    },
  });
  const { nodes } = parseNodeLines(lines);
  const bare = nodes.filter((n) => n.roles.length === 0);
  let shared = roles;
  if (bare.length && roles.length > 1) {
    shared = await src.multi<Role>({
      key: 'nodeListRoles',
      message: `Roles of the ${bare.length} node${bare.length === 1 ? '' : 's'} without roles on their line (${bare.map((n) => n.name).join(', ')})`,
      choices: ROLE_CHOICES.filter((c) => roles.includes(c.value)),
      default: [roles[0]!],
      askWithoutDefault: true,
      validate: (v) => (v.length ? undefined : 'choose at least one role'),
    });
  }
  src.note(`${nodes.length} node${nodes.length === 1 ? '' : 's'}: ${nodes.map((n) => `${n.name} (${n.host}${n.port ? `:${n.port}` : ''})`).join(', ')}`);
  return nodes.map((n) => ({ name: n.name, host: n.host, roles: n.roles.length ? n.roles : ROLES.filter((r) => shared.includes(r)), ...(n.port !== undefined ? { ssh: { port: n.port } } : {}) }));
}

async function importFromAnswers(src: AnswerSource, cluster: string): Promise<AnsibleImport> {
  const file = await src.path({ key: 'ansible.file', message: 'Ansible inventory file', validate: rules.filePath });
  const roleMap = (src.given('ansible.roleMap') as string[] | undefined) ?? [];
  try {
    return await importAnsible(expandHome(file), roleMap, cluster);
  } catch (e) {
    throw src.bad('ansible.file', `cannot import ${file}:\n${(e as DbtlsError).describe?.() ?? (e as Error).message}`);
  }
}

async function importInteractively(src: AnswerSource, cluster: string): Promise<AnsibleImport> {
  const firstLines = (e: unknown) => ((e as DbtlsError).describe?.() ?? (e as Error).message).split('\n').slice(0, 3).join('\n');
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
    message: 'Map Ansible groups to roles: group=role[,role…], space-separated (empty: only groups named like a role, e.g. mysql, tidb_servers)',
    default: '',
    askWithoutDefault: true,
    optional: true,
    validate: async (s) => {
      const entries = s.split(/\s+/).filter(Boolean);
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
  if (!found) found = await importAnsible(path, mapText.split(/\s+/).filter(Boolean), cluster);
  src.note(`${found.nodes.length} node${found.nodes.length === 1 ? '' : 's'} from ${relative(src.cwd, path).startsWith('..') ? path : relative(src.cwd, path)}: ${found.nodes.map((n) => `${n.name} (${n.roles.join(', ')})`).join(', ')}`);
  return found;
}

async function sshAnswers(src: AnswerSource, from: NodeSsh): Promise<SshAnswers> {
  const user = await src.text({ key: 'ssh.user', message: 'SSH user', default: from.user ?? DEFAULTS.ssh.user, validate: rules.sshUser });
  const port = await src.integer({ key: 'ssh.port', message: 'SSH port', default: from.port ?? DEFAULTS.ssh.port, validate: rules.port });
  const identityFile = await src.path({
    key: 'ssh.identityFile',
    message: 'SSH private key file (empty: ssh-agent, or ~/.ssh/id_ed25519, id_ecdsa, id_rsa)',
    default: from.identityFile ?? '',
    optional: true,
    validate: async (s) => {
      if (s === '') return undefined;
      const path = expandHome(absolutePath(s, src.baseFor('ssh.identityFile')));
      return (await access(path, constants.R_OK).then(() => true, () => false)) ? undefined : `cannot read ${path}`;
    },
  });
  const knownHostsFile = await src.path({ key: 'ssh.knownHostsFile', message: 'known_hosts file that host keys are checked against', default: from.knownHostsFile ?? '~/.ssh/known_hosts', validate: rules.filePath });
  const proxyJump = await src.text({
    key: 'ssh.proxyJump',
    message: 'Bastion (ProxyJump) as [user@]host[:port] (empty: connect directly)',
    default: from.proxyJump ?? '',
    optional: true,
    validate: (s) => (s === '' ? undefined : rules.proxyJump(s)),
  });
  return { user, port, ...(identityFile ? { identityFile } : {}), ...(knownHostsFile ? { knownHostsFile } : {}), ...(proxyJump ? { proxyJump } : {}) };
}

/** An imported node's SSH settings, minus what the cluster's answers already say. */
function sshOverrides(node: NodeSsh, cluster: SshAnswers): NodeSsh | undefined {
  const out: NodeSsh = {};
  for (const k of ['user', 'port', 'identityFile', 'knownHostsFile'] as const) {
    const v = node[k];
    if (v !== undefined && v !== cluster[k]) (out as Record<string, unknown>)[k] = v;
  }
  if ((node.proxyJump ?? 'none') !== (cluster.proxyJump ?? 'none')) out.proxyJump = node.proxyJump ?? 'none';
  return Object.keys(out).length ? out : undefined;
}

const describeKey = (k: OfferedKey, node: string) =>
  `${k.bastion ? `bastion ${k.bastion} (for ${node})` : `${node} (${k.host}:${k.port})`} offers an unknown ${k.keyType} host key ${k.fingerprint}`;

/**
 * Tests every ssh node; each unknown host key is shown and accepted or not (once, however many nodes
 * share it); nodes waiting on an accepted key are tested again (a bastion's key first, then the
 * node's behind it). A changed or revoked key is never offered.
 */
async function testAndAcceptKeys(ctx: FlowContext, nodes: NodeSpec[]): Promise<ConnectionResult[]> {
  const { src, tester } = ctx;
  const final = new Map<string, ConnectionResult>();
  const declined = new Set<string>();
  let pending = nodes;
  // Each round accepts at least one new key or ends; a node has at most two (its bastion's and its own).
  for (let round = 0; pending.length && round < 4; round++) {
    const results = await ctx.testConnections(pending, (n) => tester.test(n));
    const retry: NodeSpec[] = [];
    for (const [i, r] of results.entries()) {
      final.set(r.node, r);
      if (r.status !== 'unknown-key') continue;
      const id = keyId(r.offered);
      if (declined.has(id)) continue;
      if (!tester.acceptedKeys.some((k) => keyId(k) === id)) {
        if (!src.interactive && !src.has('acceptNewHostKeys')) {
          throw src.bad('acceptNewHostKeys', `${describeKey(r.offered, r.node)}; set acceptNewHostKeys: true to accept it, or add it to known_hosts; nothing was written`);
        }
        const yes = await src.confirm({
          key: 'acceptNewHostKeys',
          message: `${describeKey(r.offered, r.node)}. Is that its fingerprint? Accept it (added to ${r.offered.file})?`,
          default: false,
          askWithoutDefault: true,
        });
        if (!yes) {
          declined.add(id);
          continue;
        }
        tester.accept(r.offered);
        if (!src.interactive) src.note(`accepted (acceptNewHostKeys): ${describeKey(r.offered, r.node)}`);
      }
      retry.push(pending[i]!);
    }
    pending = retry;
  }
  const out = nodes.map((n) => final.get(n.name)!);
  const failed = out.filter((r) => r.status !== 'ok');
  for (const r of failed) src.note(`${r.node}: ${r.status === 'unknown-key' ? `host key ${r.offered.fingerprint} not accepted` : r.message}`);
  // Unattended and about to push: a node that cannot be reached stops the run before anything is written.
  const pushing = src.given('push') === true || (src.given('push') === undefined && ctx.yes);
  if (!src.interactive && pushing && failed.length) {
    const first = failed[0]!;
    if (first.status === 'unknown-key') throw src.bad('acceptNewHostKeys', `${describeKey(first.offered, first.node)}; set acceptNewHostKeys: true to accept it, or add it to known_hosts; nothing was written`);
    throw new DbtlsError('init-connection', `the connection test failed, so nothing was written: ${failed.map((r) => `${r.node}: ${r.status === 'unknown-key' ? 'host key not accepted' : r.message}`).join('; ')}`, {
      hint: 'fix SSH access (or answer push: false to write the inventory and certificates without pushing)',
    });
  }
  return out;
}

async function caAnswers(src: AnswerSource, cluster: string, nodes: NodeAnswer[]): Promise<Pick<InitAnswers, 'ca' | 'leaf' | 'subject'>> {
  const commonName = await src.text({
    key: 'ca.commonName',
    message: 'CA common name (CN)',
    default: `${cluster} CA`,
    validate: (s) => rules.commonName(s) ?? (nodes.some((n) => n.name.toLowerCase() === s.toLowerCase()) ? `equals a node's name; a certificate's CN must differ from its CA's` : undefined),
  });
  const subject: SubjectFields = {};
  const field = async (k: keyof SubjectFields, message: string, rule: rules.Rule<string>) => {
    const v = await src.text({ key: `subject.${k}`, message, default: '', optional: true, validate: (s) => (s === '' ? undefined : rule(s)) });
    // Country codes are upper case in certificates (ISO 3166), whatever was typed.
    if (v) subject[k] = k === 'C' ? v.toUpperCase() : v;
  };
  await field('O', 'Organisation (O) on every certificate (empty: none)', rules.subjectText(64));
  await field('OU', 'Organisational unit (OU) (empty: none)', rules.subjectText(64));
  await field('C', 'Country (C), two letters (empty: none)', rules.country);
  // State and city are rarely wanted: the answers file can give them, the terminal does not ask.
  for (const k of ['ST', 'L'] as const) {
    const v = src.given(`subject.${k}`);
    if (typeof v === 'string') subject[k] = v;
  }
  const caDays = await src.integer({ key: 'ca.days', message: 'CA validity in days', default: DEFAULTS.ca.days, validate: rules.days });
  const leafDays = await src.integer({ key: 'leaf.days', message: 'Node and client certificate validity in days', default: DEFAULTS.leaf.days, validate: rules.days });
  const sizes = RSA_KEY_SIZES.map((n) => ({ value: n as RsaKeySize, name: String(n) }));
  const caKey = await src.select<RsaKeySize>({ key: 'ca.keySize', message: 'RSA key size', choices: sizes, default: DEFAULTS.ca.keySize });
  const leafKey = src.has('leaf.keySize') ? await src.select<RsaKeySize>({ key: 'leaf.keySize', message: 'RSA key size of node and client keys', choices: sizes, default: caKey }) : caKey;
  return { subject, ca: { commonName, days: caDays, keySize: caKey }, leaf: { days: leafDays, keySize: leafKey } };
}

async function clientAnswers(src: AnswerSource, caCn: string): Promise<ClientAnswer[]> {
  const clash = (cn: string) => cn.toLowerCase() === caCn.toLowerCase();
  const given = src.given('clients') as Array<{ name: string; commonName?: string; keystore?: StoreType }> | undefined;
  if (given) {
    const seen = new Set<string>();
    return given.map((c, i) => {
      if (seen.has(c.name.toLowerCase())) throw src.bad(`clients[${i}].name`, `duplicate client name "${c.name}"`);
      seen.add(c.name.toLowerCase());
      const cn = c.commonName ?? c.name;
      if (clash(cn)) throw src.bad(`clients[${i}].${c.commonName ? 'commonName' : 'name'}`, `equals the CA's commonName "${caCn}"; a certificate's CN must differ from its CA's`);
      return { name: c.name, ...(c.commonName ? { commonName: c.commonName } : {}), ...(c.keystore ? { keystore: c.keystore } : {}) };
    });
  }
  const names = (s: string) => s.split(/[\s,]+/).filter(Boolean);
  const text = await src.text({
    key: 'clients',
    message: 'Client identities: application or user names, comma-separated (empty: none)',
    default: '',
    optional: true,
    validate: (s) => {
      const list = names(s);
      for (const n of list) {
        const bad = rules.safeName(n) ?? (clash(n) ? `"${n}" equals the CA's CN` : undefined);
        if (bad) return bad;
      }
      const dup = list.find((n, i) => list.findIndex((m) => m.toLowerCase() === n.toLowerCase()) !== i);
      return dup ? `"${dup}" is listed twice` : undefined;
    },
  });
  const out: ClientAnswer[] = [];
  for (const [i, name] of names(text).entries()) {
    const keystore = await src.select<'' | StoreType>({
      key: `clients[${i}].keystore`,
      message: `${name}: also a Java keystore and truststore?`,
      choices: [
        { value: '', name: 'no', description: 'PEM files only' },
        { value: 'pkcs12', name: 'PKCS#12', description: 'keystore.p12 + truststore.p12' },
        { value: 'jks', name: 'JKS', description: 'keystore.jks + truststore.jks' },
      ],
      default: '',
    });
    out.push({ name, ...(keystore ? { keystore } : {}) });
  }
  return out;
}

async function inventoryPath(ctx: FlowContext, cluster: string): Promise<{ inventory: string; replaces: boolean }> {
  const { src } = ctx;
  for (;;) {
    const inventory = expandHome(
      await src.path({
        key: 'inventory',
        message: 'Inventory file to write',
        default: `${cluster}.yml`,
        validate: async (s) => {
          const why = rules.filePath(s);
          if (why) return why;
          const st = await stat(expandHome(absolutePath(s, src.baseFor('inventory')))).catch(() => undefined);
          return st?.isDirectory() ? 'is a folder; name the file' : undefined;
        },
      }),
    );
    if (!(await exists(inventory))) return { inventory, replaces: false };
    if (ctx.force) return { inventory, replaces: true };
    if (src.given('overwrite') === false || (!src.interactive && src.has('inventory') && !src.has('overwrite'))) {
      throw src.bad('inventory', `${inventory} exists; set overwrite: true (or pass --force) to replace it`);
    }
    const replace = await src.confirm({ key: 'overwrite', message: `${inventory} exists. Replace it?`, default: false, askWithoutDefault: true });
    if (replace) return { inventory, replaces: true };
    if (src.has('inventory')) throw src.bad('inventory', `${inventory} exists and is not to be replaced`);
  }
}
