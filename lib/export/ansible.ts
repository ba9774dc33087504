// `dbtls export ansible`: the same delivery as `dbtls push` (lib/deliver/plan.ts: sources, paths on
// the node, modes, owner and group), handed to Ansible's own copy module for fleets that push
// everything through Ansible. The folder holds a copy of each node's files, a vars file listing them,
// a playbook (copy with mode, owner, group, backup and an openssl validator on the node; a handler
// running the node's reload only when a file changed), and an inventory made from the dbtls one.
import { join, posix } from 'node:path';
import { readFileNoFollow } from '../store/safe-fs.js';
import { nodeDelivery, type DeliveryItem } from '../deliver/plan.js';
import { reloadPlans } from '../reload/commands.js';
import { hostsDocument, type HostsOptions } from './ansible-hosts.js';
import { writeTree, type TreeFile } from './tree.js';
import { ansibleYaml, checkKey, yamlComment, type AnsibleValue } from './ansible-yaml.js';
import { isGaleraNode, type Cluster, type NodeSpec } from '../inventory/model.js';

export interface AnsibleExportOptions extends HostsOptions {
  /** The folder to write (absolute). */
  out: string;
  /** Replace an earlier, different export in OUT. */
  force?: boolean;
  /** Compare only: write nothing, report whether the folder would change. */
  check?: boolean;
  /** Write no hosts.yml: the playbook runs against the user's own Ansible inventory (same host names). */
  hostsFromInventory?: boolean;
  /** Where `dbtls render` wrote the configs (default <pki>/rendered, as push reads them). */
  renderedDir?: string;
}

export interface AnsibleExportResult {
  /** OUT was (with check: would be) written; false when it already holds this very export. */
  changed: boolean;
  out: string;
  /** Every file of the export, relative to OUT, sorted. */
  files: string[];
  /** How many node files the playbook copies. */
  copies: number;
}

export const PLAYBOOK = 'playbook.yml';
export const HOSTS = 'hosts.yml';
export const NODES_VARS = 'dbtls-nodes.yml';
/** Marks a folder as an export that a later `--force` export may replace. */
export const MARKER = '.dbtls-export';
const TEXT_MODE = 0o644;

/** The check Ansible runs on the node before a file replaces the old one (copy's `validate`), by content. */
export function validatorFor(data: Buffer): string | undefined {
  const head = data.subarray(0, 64).toString('latin1');
  if (head.startsWith('-----BEGIN CERTIFICATE-----')) return 'openssl x509 -noout -in %s';
  if (/^-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(head)) return 'openssl pkey -noout -in %s';
  if (head.startsWith('-----BEGIN PUBLIC KEY-----')) return 'openssl pkey -pubin -noout -in %s';
  return undefined; // Java stores, rendered configs, encrypted keys (openssl would ask for a passphrase)
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

interface NodeExport {
  node: NodeSpec;
  items: Array<DeliveryItem & { data: Buffer; copy: string }>;
}

/** dbtls-nodes.yml; every string in it is !unsafe (ansible-yaml.ts), so Ansible evaluates none of them. */
function nodesVars(cluster: Cluster, nodes: NodeExport[], generated: string): string {
  const byNode: { [name: string]: AnsibleValue } = {};
  for (const { node, items } of nodes) {
    const files = items.map((i): AnsibleValue => {
      const validate = validatorFor(i.data);
      return {
        src: i.copy,
        dest: i.remote,
        mode: octal(i.mode),
        ...(i.owner ? { owner: i.owner } : {}),
        ...(i.group ? { group: i.group } : {}),
        ...(validate ? { validate } : {}),
      };
    });
    // Ansible reaches every node over SSH and does its own become: the reload is the one dbtls would
    // run on an SSH node, without dbtls's sudo wrapper.
    const reload = reloadPlans({ ...node, transport: 'ssh', become: undefined }).flatMap((p): AnsibleValue[] => {
      if (p.kind === 'command') return [{ kind: 'command', command: p.command, describe: p.describe }];
      if (p.kind === 'restart-required')
        return [{ kind: 'restart-required', message: `${node.name}: ${p.why}; run on the node: ${p.command}` }];
      return [];
    });
    // The folders the files go to, created (mkdir -p) when missing, as push does; existing ones untouched.
    const dirs = [...new Set(items.map((i) => posix.dirname(i.remote)))].sort();
    byNode[node.name] = { dirs, files, reload };
  }
  return ansibleYaml(
    { dbtls_cluster: cluster.cluster, dbtls_nodes: byNode },
    `${generated}\nWhat each node receives (the files dbtls push delivers) and how it reloads TLS; read by ${PLAYBOOK}.`,
  );
}

/** One play over HOSTS: make the folders, copy the files, and reload when one of them changed. */
function play(title: string, hosts: string[], extra: string[] = []): string {
  return `- name: ${title}
  hosts: ${JSON.stringify(hosts)}
${extra.map((l) => `  ${l}\n`).join('')}  gather_facts: false
  vars_files:
    - ${NODES_VARS}
  vars:
    dbtls_node: "{{ dbtls_nodes[inventory_hostname] }}"
  tasks:
    - name: folders
      ansible.builtin.file:
        path: "{{ item }}"
        state: directory
      loop: "{{ dbtls_node.dirs }}"

    - name: certificates, keys, stores and configs
      ansible.builtin.copy:
        src: "{{ playbook_dir }}/{{ item.src }}"
        dest: "{{ item.dest }}"
        mode: "{{ item.mode }}"
        owner: "{{ item.owner | default(omit) }}"
        group: "{{ item.group | default(omit) }}"
        backup: true
        validate: "{{ item.validate if (item.validate is defined and (dbtls_validate | default(true) | bool)) else omit }}"
      diff: false
      loop: "{{ dbtls_node.files }}"
      loop_control:
        label: "{{ item.dest }}"
      notify: dbtls files changed

  handlers:
    - name: reload TLS
      ansible.builtin.shell:
        cmd: "{{ item.command }}"
      loop: "{{ dbtls_node.reload | selectattr('kind', 'equalto', 'command') | list }}"
      loop_control:
        label: "{{ item.describe }}"
      listen: dbtls files changed

    - name: restart required
      ansible.builtin.debug:
        msg: "{{ item.message }}"
      loop: "{{ dbtls_node.reload | selectattr('kind', 'equalto', 'restart-required') | list }}"
      loop_control:
        label: "{{ item.message }}"
      listen: dbtls files changed
`;
}

/**
 * The playbook is dbtls's own text with Jinja on purpose; the only values it takes from the inventory
 * are the cluster name and the node names, and those are held to the plain key alphabet (checkKey), so
 * neither can carry Jinja or YAML syntax. The rest comes from the inventory only through dbtls-nodes.yml.
 * Galera nodes get a play of their own that goes one node at a time, as dbtls push does: each node's
 * handlers (its reload, which waits for Synced) run before the next node starts, and the first failure
 * ends the play, so a bad certificate never reaches a second member of the cluster.
 */
function playbook(cluster: Cluster, generated: string, hostsFromInventory: boolean): string {
  const run = hostsFromInventory
    ? `ansible-playbook -i YOUR-INVENTORY ${PLAYBOOK}`
    : `ansible-playbook -i ${HOSTS} ${PLAYBOOK}`;
  const clusterName = checkKey(cluster.cluster);
  const names = (nodes: NodeSpec[]) => nodes.map((n) => checkKey(n.name));
  const others = names(cluster.nodes.filter((n) => !isGaleraNode(n)));
  const galera = names(cluster.nodes.filter(isGaleraNode));
  const plays: string[] = [];
  if (others.length) plays.push(play(`dbtls certificates for cluster ${clusterName}`, others));
  if (galera.length)
    plays.push(
      play(`dbtls certificates for cluster ${clusterName}, Galera nodes one at a time`, galera, [
        'serial: 1',
        'max_fail_percentage: 0',
        'order: inventory',
      ]),
    );
  return `${yamlComment(generated).join('\n')}
# Copies each node's certificates, keys, stores and rendered configs with Ansible's copy module
# (mode, owner/group, a backup of the file replaced), and reloads TLS on a node only when one of its
# files changed. Run from this folder:
#
#   ${run}              # deliver
#   ${run} --check      # what would change, changing nothing
#
# Variables (-e NAME=VALUE):
#   dbtls_validate   (default true) check each certificate and key with openssl ON THE NODE before it
#                    replaces the old one (openssl x509 / openssl pkey -noout): needs openssl there.
#                    -e dbtls_validate=false copies without the check.
#${hostsFromInventory ? ' The hosts are the dbtls node names: your inventory must name them the same way.\n#' : ''}${
    galera.length
      ? ' Galera nodes go one at a time in inventory order (serial: 1), each reloaded and Synced before the\n# next; the first failure stops them (max_fail_percentage: 0) and leaves the rest untouched.\n#'
      : ''
  }
# Diffs are off for the copies (--diff would print private keys).
${plays.join('\n')}`;
}

/** The export as files (relative path, bytes, mode), without writing anything. */
export async function ansibleExportFiles(
  cluster: Cluster,
  opts: Omit<AnsibleExportOptions, 'out' | 'force' | 'check'> = {},
): Promise<TreeFile[]> {
  const renderedDir = opts.renderedDir ?? join(cluster.pki, 'rendered');
  const generated = `Generated by dbtls export ansible from ${cluster.file} (cluster ${cluster.cluster}); export again rather than edit.`;
  const nodes: NodeExport[] = [];
  for (const node of cluster.nodes) {
    const plan = await nodeDelivery(cluster, node, renderedDir);
    const items = await Promise.all(
      plan.map(async (i) => ({
        ...i,
        data: await readFileNoFollow(i.source, { what: 'the files an export copies' }),
        copy: posix.join('files', node.name, i.remote),
      })),
    );
    nodes.push({ node, items });
  }
  const files: TreeFile[] = [];
  for (const { items } of nodes) for (const i of items) files.push({ path: i.copy, data: i.data, mode: i.mode });
  files.push({ path: NODES_VARS, data: nodesVars(cluster, nodes, generated), mode: TEXT_MODE });
  files.push({
    path: PLAYBOOK,
    data: playbook(cluster, generated, Boolean(opts.hostsFromInventory)),
    mode: TEXT_MODE,
  });
  if (!opts.hostsFromInventory) {
    const hosts = ansibleYaml(
      hostsDocument(cluster, opts),
      `${generated}\nEvery node as Ansible reaches it over SSH (from the dbtls inventory's ssh settings).`,
    );
    files.push({ path: HOSTS, data: hosts, mode: TEXT_MODE });
  }
  files.push({ path: MARKER, data: `${generated}\n`, mode: TEXT_MODE });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Writes (or with check, compares) the export folder; see writeTree for how OUT is replaced. */
export async function exportAnsible(cluster: Cluster, opts: AnsibleExportOptions): Promise<AnsibleExportResult> {
  const files = await ansibleExportFiles(cluster, opts);
  const { changed } = await writeTree(opts.out, files, {
    marker: MARKER,
    ...(opts.force ? { force: true } : {}),
    ...(opts.check ? { check: true } : {}),
  });
  return {
    changed,
    out: opts.out,
    files: files.map((f) => f.path),
    copies: files.filter((f) => f.path.startsWith('files/')).length,
  };
}
