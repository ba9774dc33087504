// `rotate leaf` keeps the CRL alive when revocation is on: it is what `dbtls schedule` runs every
// day, and a CRL that lapses locks every client out. A CRL past half its life is signed again and
// delivered (push + reload) to the nodes whose servers read it, and only to them; one that is not
// due changes nothing. Nodes of transport local, the reload a command that logs it ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCrl } from '../../lib/pki/crl.js';
import { keySigner } from '../../lib/pki/signer.js';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';

const DAY = 86_400_000;

test('rotate leaf signs a CRL past half its life again and delivers it to the nodes that read one; a fresh CRL changes nothing', async (t) => {
  const dir = await tempDir(t);
  const reloads = join(dir, 'reloads.log');
  const inv = await writeInventory(dir, {
    nodes: [
      { name: 'db1', host: '10.9.0.1', roles: ['mariadb'], dest: '/etc/mysql/ssl', reload: `echo db1 >> ${reloads}` },
      { name: 'kv1', host: '10.9.0.2', roles: ['tikv'], dest: '/etc/tikv/ssl', reload: `echo kv1 >> ${reloads}` },
    ],
    crlDays: 7,
  });
  const root = join(dir, 'nodes');
  const pki = join(dir, 'pki');
  const applied = await dbtls(['apply', '-i', inv, '--local-root', root]);
  assert.equal(applied.code, 0, applied.stdout + applied.stderr);
  await rm(reloads);
  const rotate = (json = true) =>
    dbtls(['rotate', 'leaf', '-i', inv, '--local-root', root, '--yes', ...(json ? ['--json'] : [])], {
      timeoutMs: 60_000,
    });

  const fresh = await rotate();
  assert.equal(fresh.code, 0, fresh.stderr);
  const quiet = JSON.parse(fresh.stdout);
  assert.deepEqual([quiet.crl.refreshed, quiet.changed, quiet.nodes], [false, false, []]);
  await assert.rejects(readFile(reloads), 'nothing reloaded');

  // Five of its seven days gone: the CA signs it as if then.
  const ca = await readFile(join(pki, 'ca.pem'), 'utf8');
  const now = Date.now();
  const old = buildCrl({
    issuerCertPem: ca,
    signer: keySigner(createPrivateKey(await readFile(join(pki, 'ca-key.pem')))),
    revoked: [],
    crlNumber: 1,
    thisUpdate: new Date(now - 5 * DAY),
    nextUpdate: new Date(now + 2 * DAY),
  });
  await writeFile(join(pki, 'crl.pem'), old.pem);
  const due = await rotate(false);
  assert.equal(due.code, 0, due.stdout + due.stderr);
  assert.match(due.stdout, /^crl\.pem: signed again \(CRL 2, next update \S+\)$/m);
  assert.match(due.stdout, /^delivered the CRL to 1 node$/m);
  const signed = await readFile(join(pki, 'crl.pem'), 'utf8');
  assert.notEqual(signed, old.pem);
  assert.equal(await readFile(join(root, 'db1/etc/mysql/ssl/crl.pem'), 'utf8'), signed, 'db1 reads the new CRL');
  assert.deepEqual((await readFile(reloads, 'utf8')).split('\n').filter(Boolean), ['db1'], 'only db1 reloaded');
  const check = await dbtls(['check', '-i', inv]);
  assert.equal(check.code, 0, check.stdout);
});
