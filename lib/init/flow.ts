// The order of `dbtls init`'s questions, each group asked (and its answers checked) in its own file:
// the cluster's name, products and transport (ask-cluster.ts); the nodes, typed, pasted or imported
// from Ansible, and dest (ask-nodes.ts, ask-ansible.ts); SSH (ask-ssh.ts); the connection test with
// its host keys (accept-host-keys.ts); the CA (ask-ca.ts); clients (ask-clients.ts); where the
// inventory and the PKI directory go (ask-paths.ts). Answers come from an AnswerSource (answers file,
// terminal, defaults); the connection test's progress is the caller's to show. Nothing is written
// here: the result is the inventory text, read back through the inventory loader, plus the host keys
// to add to known_hosts once the caller decides to write.
import { join } from 'node:path';
import { inputError } from '../errors.js';
import { DEFAULTS, ROLES, type Cluster, type NodeSpec, type Role } from '../inventory/model.js';
import { testAndAcceptKeys } from './accept-host-keys.js';
import { DEFAULT_KEY_SIZE } from '../pki/keys.js';
import { importFromAnswers } from './ask-ansible.js';
import { caAnswers } from './ask-ca.js';
import { clientAnswers } from './ask-clients.js';
import { clusterAnswer, rolesAnswer, transportAnswer } from './ask-cluster.js';
import { destAnswer, nodesAnswer } from './ask-nodes.js';
import { inventoryAnswer, pkiAnswer } from './ask-paths.js';
import { sshAnswers, sshOverrides } from './ask-ssh.js';
import type { ConnectionTester, ConnectionResult, OfferedKey } from './host-keys.js';
import { renderInventory, parseInventoryText } from './inventory-yaml.js';
import { transportOf, type InitAnswers } from './model.js';
import type { AnswerSource } from './questions.js';

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

export async function runFlow(ctx: FlowContext): Promise<InitPlan> {
  const { src } = ctx;
  const cwd = src.cwd;
  const cluster = await clusterAnswer(src);

  // Nodes an answers file gives decide the products when it does not list them.
  const fromAnswers = src.has('ansible') ? await importFromAnswers(src, cluster) : undefined;
  const givenNodes = (src.given('nodes') as Array<{ roles?: Role[] }> | undefined) ?? [];
  const roles = await rolesAnswer(
    src,
    unionRoles([...givenNodes.map((n) => n.roles ?? []), ...(fromAnswers?.nodes.map((n) => n.roles) ?? [])]),
  );
  const transport = await transportAnswer(src);

  const { nodes, imported } = await nodesAnswer(src, cluster, roles, fromAnswers);
  const allRoles = unionRoles([roles, ...nodes.map((n) => n.roles)]);
  const dest = await destAnswer(src, nodes);

  const partial = { cluster, roles: allRoles, transport, nodes, ...(dest ? { dest } : {}) };
  const anySsh = nodes.some((n) => transportOf(partial, n) === 'ssh');
  const ssh = anySsh
    ? await sshAnswers(src, imported?.ssh ?? {})
    : { user: DEFAULTS.ssh.user, port: DEFAULTS.ssh.port };
  if (imported) for (const n of nodes) n.ssh = sshOverrides(n.ssh ?? {}, ssh);

  let connections: ConnectionResult[] = [];
  if (anySsh) {
    const provisional = parseInventoryText(
      renderInventory(complete({ ...partial, ssh }, cwd), ctx.generator),
      join(cwd, '.dbtls-init.yml'),
    );
    connections = await testAndAcceptKeys(
      ctx,
      provisional.nodes.filter((n) => n.transport === 'ssh'),
    );
  }

  const ca = await caAnswers(src, cluster, nodes);
  const clients = await clientAnswers(src, ca.ca.commonName);
  const { inventory, replaces } = await inventoryAnswer(ctx, cluster);
  const pki = await pkiAnswer(src, cluster, inventory);

  const answers: InitAnswers = { ...partial, roles: allRoles, ssh, ...ca, clients, inventory, pki };
  const text = renderInventory(answers, ctx.generator);
  let model: Cluster;
  try {
    model = parseInventoryText(text, inventory);
  } catch (e) {
    // Every answer was checked on its own; what is left are rules across answers.
    throw inputError(
      'bad-answers',
      `these answers do not make a valid inventory:\n${(e as Error).message}`,
      undefined,
      'the inventory rules are in docs/inventory.md',
    );
  }
  return { answers, text, cluster: model, replaces, connections, acceptedKeys: ctx.tester.acceptedKeys };
}

/** Placeholders for what is asked after the connection test, so the nodes can be built already. */
function complete(
  a: Pick<InitAnswers, 'cluster' | 'roles' | 'transport' | 'nodes' | 'dest' | 'ssh'>,
  cwd: string,
): InitAnswers {
  return {
    ...a,
    subject: {},
    ca: { commonName: `${a.cluster} CA`, days: DEFAULTS.ca.days, keySize: DEFAULT_KEY_SIZE },
    leaf: { days: DEFAULTS.leaf.days, keySize: DEFAULT_KEY_SIZE },
    clients: [],
    inventory: join(cwd, '.dbtls-init.yml'),
    pki: join(cwd, 'pki'),
  };
}
