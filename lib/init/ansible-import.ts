// Nodes for `dbtls init` from an existing Ansible inventory (INI or YAML), read by the same loader as
// `dbtls issue -i hosts.ini`: groups give roles (with a group→role map for other group names), the
// ansible_* and dbtls_* variables give addresses, SSH settings, dest, sans and reload commands.
import { inputError } from '../errors.js';
import { readInputText } from '../inventory/read-input.js';
import { detectFormat, loadInventory } from '../inventory/load.js';
import type { Role, SshSettings } from '../inventory/model.js';
import { jumpLabel } from '../deliver/ssh/connect.js';
import type { NodeAnswer, NodeSsh } from './nodes.js';

export interface AnsibleImport {
  nodes: NodeAnswer[];
  /** The `all` group's SSH settings (the cluster's, with dbtls's defaults). */
  ssh: NodeSsh;
}

/** `group=role[,role…]` entries (already checked) as loadInventory's map. */
export function roleMapOf(entries: string[]): Record<string, Role[]> {
  const map: Record<string, Role[]> = {};
  for (const e of entries) {
    const [group, roles] = e.split('=') as [string, string];
    map[group] = roles.split(',').filter(Boolean) as Role[];
  }
  return map;
}

function sshOf(s: SshSettings): NodeSsh {
  return {
    ...(s.user !== undefined ? { user: s.user } : {}),
    ...(s.port !== undefined ? { port: s.port } : {}),
    ...(s.identityFile !== undefined ? { identityFile: s.identityFile } : {}),
    ...(s.knownHostsFile !== undefined ? { knownHostsFile: s.knownHostsFile } : {}),
    ...(s.proxyJump ? { proxyJump: jumpLabel(s.proxyJump) } : {}),
  };
}

/**
 * Reads FILE (absolute) as an Ansible inventory. Rejects with the loader's errors (every problem with
 * file:line:col), and with an input error when the file is not an Ansible inventory at all.
 */
export async function importAnsible(file: string, roleMap: string[], cluster: string): Promise<AnsibleImport> {
  const text = await readInputText(file, 'the Ansible inventory', file);
  if (detectFormat(text, file) === 'dbtls')
    throw inputError(
      'not-ansible',
      `${file} is a dbtls inventory, not an Ansible one (INI, or YAML with groups under all:)`,
      { file },
    );
  const model = await loadInventory(file, { cluster, roleMap: roleMapOf(roleMap) });
  const nodes = model.nodes.map((n): NodeAnswer => ({
    name: n.name,
    host: n.host,
    roles: n.roles,
    ...(n.transport === 'local' ? { transport: 'local' as const } : {}),
    ...(n.sans.length ? { sans: n.sans } : {}),
    ...(n.dest !== undefined ? { dest: n.dest } : {}),
    ...(n.reload !== undefined ? { reload: n.reload } : {}),
    ssh: sshOf(n.ssh),
  }));
  return { nodes, ssh: sshOf(model.ssh) };
}
