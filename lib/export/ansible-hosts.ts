// The Ansible inventory (YAML) an export brings along: every node as Ansible reaches it over SSH —
// ansible_host, port, user and key from the dbtls inventory's `ssh`, host keys checked against the
// same known_hosts, a bastion as ProxyCommand (`ssh -W`) so the jump is made with the node's identity
// and known_hosts the way dbtls makes it, and become through sudo where the node says `become: sudo`.
import { shellCommand } from '../deliver/quote.js';
import type { Cluster, NodeSpec } from '../inventory/model.js';
import type { AnsibleValue } from './ansible-yaml.js';

/** Ansible host vars for one node. */
export type HostVars = Record<string, string | number | boolean>;

export interface HostsOptions {
  /** Overrides every node's ssh.knownHostsFile (as `--known-hosts` does for push). */
  knownHostsFile?: string;
}

/** ssh expands %-tokens in these options: a literal "%" in a path is written "%%". */
const tokenSafe = (s: string) => s.replace(/%/g, '%%');

/**
 * `ansible_ssh_common_args` for a node: split by Ansible with shlex (POSIX rules, as shellCommand
 * quotes), each `-o` then reaches ssh as one argument; ProxyCommand is run by ssh through a shell.
 */
export function sshCommonArgs(node: NodeSpec, opts: HostsOptions = {}): string | undefined {
  const knownHosts = opts.knownHostsFile ?? node.ssh.knownHostsFile;
  const args: string[] = [];
  if (knownHosts) args.push('-o', `UserKnownHostsFile=${tokenSafe(knownHosts)}`);
  const jump = node.ssh.proxyJump;
  if (jump) {
    // Expanded twice: by the node's ssh (ProxyCommand), then by the jump's ssh (-i, UserKnownHostsFile).
    const inner = (s: string) => tokenSafe(tokenSafe(s));
    const proxy = [
      'ssh',
      '-W',
      '%h:%p',
      '-p',
      String(jump.port),
      '-l',
      jump.user,
      ...(node.ssh.identityFile ? ['-i', inner(node.ssh.identityFile)] : []),
      ...(knownHosts ? ['-o', `UserKnownHostsFile=${inner(knownHosts)}`, '-o', 'StrictHostKeyChecking=yes'] : []),
      '-o',
      'BatchMode=yes',
      '--',
      jump.host,
    ];
    args.push('-o', `ProxyCommand=${shellCommand(proxy)}`);
  }
  return args.length ? shellCommand(args) : undefined;
}

export function hostVars(node: NodeSpec, opts: HostsOptions = {}): HostVars {
  const vars: HostVars = { ansible_host: node.host };
  if (node.ssh.port !== undefined) vars.ansible_port = node.ssh.port;
  if (node.ssh.user !== undefined) vars.ansible_user = node.ssh.user;
  if (node.ssh.identityFile) vars.ansible_ssh_private_key_file = node.ssh.identityFile;
  const common = sshCommonArgs(node, opts);
  if (common) vars.ansible_ssh_common_args = common;
  if (node.become === 'sudo') Object.assign(vars, { ansible_become: true, ansible_become_method: 'sudo' });
  return vars;
}

/** An Ansible group name (letters, digits, "_") for the cluster's nodes. */
export function groupName(cluster: Cluster): string {
  return `dbtls_${cluster.cluster.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The inventory document: all → children → dbtls_<cluster> → hosts (written by ansible-yaml.ts: every string !unsafe). */
export function hostsDocument(cluster: Cluster, opts: HostsOptions = {}): { [key: string]: AnsibleValue } {
  const hosts: Record<string, HostVars> = {};
  for (const node of cluster.nodes) hosts[node.name] = hostVars(node, opts);
  return { all: { children: { [groupName(cluster)]: { hosts } } } };
}
