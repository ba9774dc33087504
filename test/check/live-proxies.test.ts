// What a live check (and so a rotation, after its reload) probes on a MaxScale and a MySQL Router node:
// the node's port, which is their listener, speaking the MySQL protocol and serving the node's own
// certificate. A MySQL-speaking TLS double on 127.0.0.1 stands in for the listener (neither product is
// installable here); the default ports are MaxScale's 4006 and Router's 6446 when the inventory names none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { liveCheck } from '../../lib/check/live.js';
import { runIssue } from '../../lib/issue/issue.js';
import { loadInventory } from '../../lib/inventory/load.js';
import { fileScope } from '../helpers/scope.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';
import { fakeMysql } from '../probe/fake-servers.js';

const scope = fileScope();

test("maxscale and mysqlrouter nodes are probed on their listener port and pass when it serves the node's certificate", async () => {
  const dir = await tempDir(scope, 'dbtls-live-proxies-');
  const mxsTls: SecureContextOptions = {};
  const routerTls: SecureContextOptions = {};
  const mxs = await fakeMysql(scope, { tls: mxsTls });
  const router = await fakeMysql(scope, { tls: routerTls });
  const ssh = { transport: 'ssh' as const, ssh: { port: 22 } };
  const inv = await writeInventory(dir, {
    nodes: [
      { name: 'mxs1', host: '127.0.0.1', roles: ['maxscale'], port: mxs.port, ...ssh },
      { name: 'router1', host: '127.0.0.1', roles: ['mysqlrouter'], port: router.port, ...ssh },
    ],
  });
  const c = await loadInventory(inv);
  await runIssue(c);
  for (const [name, tls] of [
    ['mxs1', mxsTls],
    ['router1', routerTls],
  ] as const) {
    tls.cert = await readFile(join(c.pki, `nodes/${name}/server-cert.pem`), 'utf8');
    tls.key = await readFile(join(c.pki, `nodes/${name}/server-key.pem`), 'utf8');
  }
  const results = await liveCheck(c, { timeoutMs: 5000 });
  assert.deepEqual(
    results.map((r) => [r.node, r.port, r.status, r.problem]),
    [
      ['mxs1', mxs.port, 'ok', undefined],
      ['router1', router.port, 'ok', undefined],
    ],
  );

  // Without a port in the inventory: the listener defaults.
  const defaults = await writeInventory(
    dir,
    {
      nodes: [
        { name: 'mxs1', host: '10.0.0.30', roles: ['maxscale'] },
        { name: 'router1', host: '10.0.0.31', roles: ['mysqlrouter'] },
      ],
    },
    'defaults.yml',
  );
  assert.deepEqual(
    (await loadInventory(defaults)).nodes.map((n) => [n.name, n.port]),
    [
      ['mxs1', 4006],
      ['router1', 6446],
    ],
  );
});
