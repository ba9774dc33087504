// Ansible inventories with the proxy roles: a group named after a role gives it (GROUP_ROLES), and
// the nodes get the listeners' default ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadInventory } from '../../lib/inventory/load.js';
import type { Cluster } from '../../lib/inventory/model.js';
import { tempDir } from '../helpers/tmp.js';

async function load(t: Parameters<typeof tempDir>[0], text: string): Promise<Cluster> {
  const file = join(await tempDir(t), 'hosts.ini');
  await writeFile(file, text);
  return loadInventory(file);
}

test('INI: [maxscale] and [mysqlrouter] groups give their roles, and the listener ports by default', async (t) => {
  const c = await load(
    t,
    [
      '[maxscale]',
      'mxs1 ansible_host=10.0.0.30',
      '[mysqlrouter]',
      'router1 ansible_host=10.0.0.31',
      '[mariadb]',
      'db1 ansible_host=10.0.0.11',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    c.nodes.map((n) => [n.name, n.host, n.roles, n.port]),
    [
      ['mxs1', '10.0.0.30', ['maxscale'], 4006],
      ['router1', '10.0.0.31', ['mysqlrouter'], 6446],
      ['db1', '10.0.0.11', ['mariadb'], 3306],
    ],
  );
});
