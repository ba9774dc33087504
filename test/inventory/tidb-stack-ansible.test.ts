// The TiDB stack's new roles from an Ansible inventory: groups named after the role ([tiflash]) or as
// TiUP's topology names its hosts (tiflash_servers, cdc_servers, tiproxy_servers) give the role, and
// each node gets the role's default port and folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadInventory } from '../../lib/inventory/load.js';
import { nodeDest } from '../../lib/deliver/layout.js';
import { tempDir } from '../helpers/tmp.js';

test('[tiflash], [tiflash_servers], [cdc_servers], [ticdc], [tiproxy_servers] give tiflash, ticdc and tiproxy', async (t) => {
  const file = join(await tempDir(t), 'hosts.ini');
  await writeFile(
    file,
    `[tidb]
tidb1 ansible_host=10.0.0.1

[tiflash]
flash1 ansible_host=10.0.0.4

[tiflash_servers]
flash2 ansible_host=10.0.0.5

[cdc_servers]
cdc1 ansible_host=10.0.0.6

[ticdc]
cdc2 ansible_host=10.0.0.7

[tiproxy_servers]
proxy1 ansible_host=10.0.0.8
`,
  );
  const c = await loadInventory(file);
  const got = Object.fromEntries(c.nodes.map((n) => [n.name, { roles: n.roles, port: n.port, dest: nodeDest(n) }]));
  const tls = '/etc/tidb/tls';
  assert.deepEqual(got, {
    tidb1: { roles: ['tidb'], port: 4000, dest: tls },
    flash1: { roles: ['tiflash'], port: 3930, dest: tls },
    flash2: { roles: ['tiflash'], port: 3930, dest: tls },
    cdc1: { roles: ['ticdc'], port: 8300, dest: tls },
    cdc2: { roles: ['ticdc'], port: 8300, dest: tls },
    proxy1: { roles: ['tiproxy'], port: 6000, dest: tls },
  });
});
