// The wizard's questions about the nodes: listed in the answers file, or at the terminal typed one by
// one, pasted as a list or imported from an Ansible inventory (ask-ansible.ts); then the folder on the
// nodes for those that do not name their own.
import * as rules from '../inventory/rules.js';
import { ROLES, type Role } from '../inventory/model.js';
import type { AnsibleImport } from './ansible-import.js';
import { importInteractively } from './ask-ansible.js';
import { ROLE_CHOICES } from './ask-cluster.js';
import { hostPort, nameForHost, parseHostPort, parseNodeLines, type NodeAnswer } from './nodes.js';
import { emptyOr, type AnswerSource } from './questions.js';
import { plural } from '../text/plural.js';

/** A node with its roles in ROLES' order; a port given with the host is its own SSH port. */
const nodeAnswer = (name: string, host: string, roles: Role[], port: number | undefined): NodeAnswer => ({
  name,
  host,
  roles: ROLES.filter((r) => roles.includes(r)),
  ...(port !== undefined ? { ssh: { port } } : {}),
});

/** Names become directories, and some file systems ignore case: compared folded, as the inventory does. */
const isTaken = (taken: string[], name: string) => taken.some((t) => t.toLowerCase() === name.toLowerCase());

/** The roles a node can be given: the cluster's. */
const roleChoices = (roles: Role[]) => ROLE_CHOICES.filter((c) => roles.includes(c.value));
const atLeastOneRole = (v: Role[]) => (v.length ? undefined : 'choose at least one role');

/**
 * The nodes, from the first that applies: FROM_ANSWERS (the answers file's ansible, imported before
 * the products were asked), the answers file's nodes, else the terminal (typed, pasted or imported).
 * `imported`: the Ansible import the nodes came from, if any.
 */
export async function nodesAnswer(
  src: AnswerSource,
  cluster: string,
  roles: Role[],
  fromAnswers: AnsibleImport | undefined,
): Promise<{ nodes: NodeAnswer[]; imported?: AnsibleImport }> {
  if (fromAnswers) return { nodes: fromAnswers.nodes, imported: fromAnswers };
  if (src.has('nodes')) return { nodes: await nodesFromAnswers(src, roles) };
  if (!src.interactive)
    throw src.missing('nodes', "the cluster's servers: a list of { name, host, roles }, or ansible: { file }");
  const how = await src.select({
    key: 'nodeSource',
    message: 'How will you give the nodes?',
    choices: [
      { value: 'typed' as const, name: 'one by one', description: 'host, name and roles of each node' },
      {
        value: 'paste' as const,
        name: 'paste a list',
        description: 'one node a line: host, or name host, or name host roles',
      },
      {
        value: 'ansible' as const,
        name: 'from an Ansible inventory',
        description: 'an INI or YAML inventory; groups become roles',
      },
    ],
    default: 'typed',
    askWithoutDefault: true,
  });
  if (how === 'typed') return { nodes: await typedNodes(src, roles) };
  if (how === 'paste') return { nodes: await pastedNodes(src, roles) };
  const found = await importInteractively(src, cluster);
  return { nodes: found.nodes, imported: found };
}

async function nodesFromAnswers(src: AnswerSource, roles: Role[]): Promise<NodeAnswer[]> {
  const given = src.given('nodes') as Array<{ name?: string; host: string; roles?: Role[] }>;
  const taken: string[] = [];
  const out: NodeAnswer[] = [];
  for (const [i, n] of given.entries()) {
    const addr = parseHostPort(n.host);
    if (typeof addr === 'string') throw src.bad(`nodes[${i}].host`, addr);
    const name = n.name ?? nameForHost(addr.host, i + 1, taken);
    if (isTaken(taken, name)) throw src.bad(`nodes[${i}].name`, `duplicate node name "${name}"`);
    taken.push(name);
    let nodeRoles = n.roles;
    if (!nodeRoles) {
      if (roles.length !== 1)
        throw src.bad(`nodes[${i}]`, `roles is required: the cluster has more than one role (${roles.join(', ')})`);
      nodeRoles = roles;
    }
    out.push(nodeAnswer(name, addr.host, nodeRoles, addr.port));
  }
  return out;
}

async function typedNodes(src: AnswerSource, roles: Role[]): Promise<NodeAnswer[]> {
  const out: NodeAnswer[] = [];
  for (let i = 0; ; i++) {
    const taken = out.map((n) => n.name);
    const hostText = await src.text({
      key: `nodes[${i}].host`,
      message: `Node ${i + 1}: host name or IP address (host:port for another SSH port)`,
      validate: hostPort,
    });
    const addr = parseHostPort(hostText) as { host: string; port?: number };
    const name = await src.text({
      key: `nodes[${i}].name`,
      message: `Node ${i + 1}: name (the server certificate's CN)`,
      default: nameForHost(addr.host, i + 1, taken),
      askWithoutDefault: true,
      validate: (s) => rules.safeName(s) ?? (isTaken(taken, s) ? `there is already a node named "${s}"` : undefined),
    });
    const nodeRoles =
      roles.length === 1
        ? roles
        : await src.multi<Role>({
            key: `nodes[${i}].roles`,
            message: `Node ${i + 1}: roles of ${name}`,
            choices: roleChoices(roles),
            default: out[i - 1]?.roles ?? [roles[0]!],
            askWithoutDefault: true,
            validate: atLeastOneRole,
          });
    out.push(nodeAnswer(name, addr.host, nodeRoles, addr.port));
    if (
      !(await src.confirm({ key: 'moreNodes', message: 'Add another node?', default: false, askWithoutDefault: true }))
    )
      return out;
  }
}

async function pastedNodes(src: AnswerSource, roles: Role[]): Promise<NodeAnswer[]> {
  const lines = await src.lines({
    key: 'nodeList',
    message:
      'Paste the nodes, one a line: "host", "name host" or "name host role[,role…]" (host:port for another SSH port); an empty line ends the list',
    validate: (ls) => {
      const { nodes, problems } = parseNodeLines(ls);
      if (problems.length)
        return problems
          .slice(0, 5)
          .map((p) => `line ${p.line}: ${p.message}`)
          .join('; ');
      return nodes.length ? undefined : 'no node in the list';
    },
  });
  const { nodes } = parseNodeLines(lines);
  const bare = nodes.filter((n) => n.roles.length === 0);
  let shared = roles;
  if (bare.length && roles.length > 1) {
    shared = await src.multi<Role>({
      key: 'nodeListRoles',
      message: `Roles of the ${plural(bare.length, 'node')} without roles on their line (${bare.map((n) => n.name).join(', ')})`,
      choices: roleChoices(roles),
      default: [roles[0]!],
      askWithoutDefault: true,
      validate: atLeastOneRole,
    });
  }
  src.note(
    `${plural(nodes.length, 'node')}: ${nodes.map((n) => `${n.name} (${n.host}${n.port ? `:${n.port}` : ''})`).join(', ')}`,
  );
  return nodes.map((n) => nodeAnswer(n.name, n.host, n.roles.length ? n.roles : shared, n.port));
}

/** Asked only when some node has no dest of its own; undefined: each role's default. */
export async function destAnswer(src: AnswerSource, nodes: NodeAnswer[]): Promise<string | undefined> {
  if (!nodes.some((n) => n.dest === undefined)) return undefined;
  return (
    (await src.text({
      key: 'dest',
      message: "Folder on the nodes for their files (absolute; empty: each role's default, e.g. /etc/mysql/ssl)",
      default: '',
      optional: true,
      validate: emptyOr(rules.dest),
    })) || undefined
  );
}
