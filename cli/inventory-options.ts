// Options shared by every command that reads an inventory, and the loading itself.
import type { Command } from 'commander';
import type { Cluster, Role } from '../lib/inventory/model.js';

export interface InventoryFlags {
  inventory: string;
  cluster?: string;
  roleMap: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addInventoryOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-i, --inventory <file>', 'the inventory: dbtls YAML, or an Ansible INI/YAML inventory')
    .option('--cluster <name>', 'cluster name for an Ansible inventory (default: from its file name)')
    .option('--role-map <group=role,…>', 'map an Ansible group to dbtls roles (repeatable)', collect, [] as string[]);
}

export async function loadCluster(flags: InventoryFlags): Promise<Cluster> {
  const { usageError } = await import('../lib/errors.js');
  const roleMap: Record<string, Role[]> = {};
  for (const entry of flags.roleMap) {
    const m = /^([^=\s]+)=([a-z,]+)$/.exec(entry);
    if (!m) throw usageError('bad-role-map', `--role-map "${entry}" must look like group=role[,role…]`);
    roleMap[m[1]!] = m[2]!.split(',').filter(Boolean) as Role[];
  }
  const { loadInventory } = await import('../lib/inventory/load.js');
  return loadInventory(flags.inventory, { cluster: flags.cluster, roleMap });
}
