// Options shared by every command that reads an inventory, and the loading itself.
import type { Command } from 'commander';
import type { Cluster, Role } from '../lib/inventory/model.js';
import { collect, GROUP, inGroup } from './options.js';

export interface InventoryFlags {
  inventory: string;
  cluster?: string;
  roleMap: string[];
}

export function addInventoryOptions(cmd: Command): Command {
  return inGroup(cmd, GROUP.inventory, (c) =>
    c
      .requiredOption('-i, --inventory <file>', 'the inventory: dbtls YAML, or an Ansible INI/YAML inventory')
      .option('--cluster <name>', 'cluster name for an Ansible inventory (default: from its file name)')
      .option('--role-map <group=role,…>', 'map an Ansible group to dbtls roles (repeatable)', collect, [] as string[]),
  );
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
  const cluster = await loadInventory(flags.inventory, { cluster: flags.cluster, roleMap });
  await checkPkiFolder(cluster);
  return cluster;
}

/**
 * The PKI folder the inventory names may be missing (issue creates it), but a file there, or a file
 * where one of its parents should be, is an input error naming the inventory and its `pki` — not
 * a raw ENOTDIR from whichever command touches it first.
 */
async function checkPkiFolder(cluster: Cluster): Promise<void> {
  const { stat } = await import('node:fs/promises');
  const { inputError } = await import('../lib/errors.js');
  let problem: string | undefined;
  try {
    if (!(await stat(cluster.pki)).isDirectory()) problem = `the PKI folder ${cluster.pki} is not a directory`;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') problem = `the PKI folder ${cluster.pki} cannot exist: a part of its path is a file`;
    else if (code !== 'ENOENT') problem = `the PKI folder ${cluster.pki} cannot be read: ${(e as Error).message}`;
  }
  if (problem) {
    throw inputError(
      'pki-not-a-folder',
      problem,
      { file: cluster.file, field: 'pki' },
      'point pki: in the inventory at a folder, or move the file away',
    );
  }
}
