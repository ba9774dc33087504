// A node's `groupReplication:` in the dbtls YAML inventory: the defaults it gets, and every way it can be
// wrong reported at file:line:col with its field (and, through the CLI, as one line per problem).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadInventory } from '../../lib/inventory/load.js';
import { InventoryError } from '../../lib/inventory/errors.js';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

type Ctx = Parameters<typeof tempDir>[0];
type Where = [line: number, column: number, field: string, message: string];

async function write(t: Ctx, text: string): Promise<string> {
  const file = join(await tempDir(t), 'inventory.yml');
  await writeFile(file, text);
  return file;
}

async function problems(t: Ctx, text: string): Promise<Where[]> {
  const err = await loadInventory(await write(t, text)).then(
    () => assert.fail('the inventory loaded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof InventoryError, String(err));
  return err.problems.map((p) => [p.line, p.column, p.field, p.message]);
}

const inv = (nodes: string) => `cluster: demo\nnodes:\n${nodes}`;

test('defaults: stack MYSQL (local address on the SQL port), sslMode VERIFY_IDENTITY; XCOM takes SQL port × 10 + 1', async (t) => {
  const c = await loadInventory(
    await write(
      t,
      inv(`  - { name: a, host: a.example.com, roles: [mysql], groupReplication: {} }
  - { name: b, host: "2001:db8::2", roles: [percona], port: 3307, groupReplication: { sslMode: VERIFY_IDENTITY } }
  - { name: c, host: c.example.com, roles: [mysql] }
`),
    ),
  );
  assert.deepEqual(c.nodes[0]!.groupReplication, {
    stack: 'MYSQL',
    localAddress: { host: 'a.example.com', port: 3306 },
    sslMode: 'VERIFY_IDENTITY',
  });
  assert.deepEqual(c.nodes[1]!.groupReplication?.localAddress, { host: '2001:db8::2', port: 3307 });
  assert.equal(c.nodes[2]!.groupReplication, undefined);
  const x = await loadInventory(
    await write(t, inv(`  - { name: a, host: a.example.com, roles: [mysql], groupReplication: { stack: XCOM } }\n`)),
  );
  assert.deepEqual(x.nodes[0]!.groupReplication?.localAddress, { host: 'a.example.com', port: 33061 });
});

test('a local address named in the certificate passes VERIFY_IDENTITY: the host, a san, a wildcard san, localhost when asked', async (t) => {
  const c = await loadInventory(
    await write(
      t,
      inv(`  - { name: a, host: 10.0.0.1, roles: [mysql], sans: [gr-a.example.com], groupReplication: { localAddress: "GR-A.example.com:33061" } }
  - { name: b, host: 10.0.0.2, roles: [mysql], sans: ["*.gr.example.com"], groupReplication: { localAddress: "b.gr.example.com:3306" } }
  - { name: c, host: 10.0.0.3, roles: [mysql], localhost: true, groupReplication: { localAddress: "127.0.0.1:3306" } }
  - { name: d, host: "2001:db8::4", roles: [mysql], groupReplication: { localAddress: "[2001:db8::4]:3306" } }
`),
    ),
  );
  assert.deepEqual(
    c.nodes.map((n) => n.groupReplication?.localAddress),
    [
      { host: 'GR-A.example.com', port: 33061 },
      { host: 'b.gr.example.com', port: 3306 },
      { host: '127.0.0.1', port: 3306 },
      { host: '2001:db8::4', port: 3306 },
    ],
  );
});

test('every problem at its place: a mariadb node, a name outside the certificate, bad values, a group on two stacks', async (t) => {
  assert.deepEqual(
    await problems(
      t,
      inv(`  - { name: m1, host: m1.example.com, roles: [mariadb], groupReplication: {} }
  - { name: my1, host: my1.example.com, roles: [mysql], groupReplication: { localAddress: "other.example.com:3306" } }
  - { name: my2, host: my2.example.com, roles: [mysql], groupReplication: { stack: XCOM } }
  - { name: my3, host: my3.example.com, roles: [mysql], groupReplication: { stack: TCP, localAddress: "my3:0", sslMode: DISABLED } }
  - { name: my4, host: my4.example.com, roles: [mysql], groupReplication: { localAddress: "2001:db8::1:3306" } }
  - { name: my5, host: my5.example.com, roles: [mysql], groupReplication: { sslMode: VERIFY_CA } }
`),
    ),
    [
      [
        3,
        75,
        'nodes[0].groupReplication',
        'Group Replication needs a mysql or percona role on the node (it has mariadb); MariaDB has no Group Replication plugin',
      ],
      [
        4,
        91,
        'nodes[1].groupReplication.localAddress',
        `host "other.example.com" is not a name in my1's certificate (my1, my1.example.com), so sslMode VERIFY_IDENTITY would refuse it; add it to the node's sans, or use sslMode VERIFY_CA`,
      ],
      [
        5,
        84,
        'nodes[2].groupReplication.stack',
        'stack XCOM differs from MYSQL on node "my1" (line 4); every member of the group must use the same communication stack',
      ],
      [
        6,
        84,
        'nodes[3].groupReplication.stack',
        '"TCP" is not a Group Replication communication stack; use MYSQL or XCOM',
      ],
      [
        6,
        103,
        'nodes[3].groupReplication.localAddress',
        '"0" is not a port (1–65535); write it as host:port, e.g. "db1.example.com:33061" or "[2001:db8::1]:33061"',
      ],
      [
        6,
        121,
        'nodes[3].groupReplication.sslMode',
        '"DISABLED" is not a group_replication_ssl_mode dbtls renders; use REQUIRED, VERIFY_CA, VERIFY_IDENTITY',
      ],
      [
        7,
        91,
        'nodes[4].groupReplication.localAddress',
        '"2001:db8::1:3306" is not host:port; write it as host:port, e.g. "db1.example.com:33061" or "[2001:db8::1]:33061"',
      ],
      [
        8,
        86,
        'nodes[5].groupReplication.sslMode',
        'sslMode VERIFY_CA differs from VERIFY_IDENTITY on node "my1" (line 4); every member of the group must use the same group_replication_ssl_mode',
      ],
    ],
  );
});

test('through the CLI: Group Replication on a MariaDB node is one line naming file:line:col and the field (exit 2)', async (t) => {
  const file = await write(
    t,
    inv(`  - { name: db1, host: 10.0.0.11, roles: [mariadb], transport: local, groupReplication: { stack: MYSQL } }\n`),
  );
  const r = await dbtls(['check', '-i', 'inventory.yml'], { cwd: dirname(file) });
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(
    lines[0],
    'dbtls: inventory.yml:3:89: nodes[0].groupReplication: Group Replication needs a mysql or percona role on the node (it has mariadb); MariaDB has no Group Replication plugin',
  );
  assert.match(lines[1]!, /^hint: /);
  assert.equal(lines.length, 2);
});
