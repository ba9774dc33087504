// Galera nodes are pushed and reloaded one at a time (the other nodes beside them, in parallel),
// and with reloads on the first Galera node that fails stops the roll: the nodes after it are not
// touched. Shown with real shell reload commands that log when they start and end (transport
// local); the same roll on a real cluster is test/e2e/galera-rotate.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { writeInventory, type TestNode } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';
import { shellCommand } from '../../lib/deliver/quote.js';

/** A reload that logs "start NAME" and "end NAME" around a pause (and fails when FAIL). */
const logged = (log: string, name: string, fail = false) =>
  `echo start ${name} >> ${shellCommand([log])}; sleep 0.3; echo end ${name} >> ${shellCommand([log])}${fail ? '; exit 3' : ''}`;

function nodes(dir: string, log: string, failing?: string): TestNode[] {
  const node = (name: string, roles: string[]): TestNode => ({
    name,
    host: `${name}.example.com`,
    roles,
    dest: join(dir, 'remote', name),
    reload: logged(log, name, name === failing),
  });
  return [
    node('g1', ['mariadb', 'galera']),
    node('db1', ['mariadb']),
    node('g2', ['mariadb', 'galera']),
    node('db2', ['mariadb']),
    node('g3', ['mariadb', 'galera']),
  ];
}

test('Galera nodes reload one after another in inventory order; the other nodes do not wait for them', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'reloads.log');
  const inv = await writeInventory(dir, { nodes: nodes(dir, log) });
  const r = await dbtls(['apply', '-i', inv, '--reload', 'always', '--json'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = (await readFile(log, 'utf8')).trim().split('\n');
  const galera = lines.filter((l) => / g\d$/.test(l));
  assert.deepEqual(galera, ['start g1', 'end g1', 'start g2', 'end g2', 'start g3', 'end g3']);
  // db1 and db2 ran at once with the Galera roll: both started before g1 ended.
  const at = (l: string) => lines.indexOf(l);
  assert.ok(at('start db1') < at('end g1') && at('start db2') < at('end g1'), lines.join(' | '));
});

test('with reloads on, a failing Galera node stops the roll: the nodes after it are not touched; the others finish', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'reloads.log');
  const inv = await writeInventory(dir, { nodes: nodes(dir, log, 'g2') });
  const r = await dbtls(['apply', '-i', inv, '--reload', 'always', '--json'], { timeoutMs: 120_000 });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  const push = report.push ?? report;
  const by = Object.fromEntries(push.nodes.map((n: { node: string }) => [n.node, n]));
  assert.deepEqual(push.failed, ['g2', 'g3']);
  assert.equal(by.g2.error.code, 'reload-failed');
  assert.equal(by.g3.error.code, 'galera-halted');
  assert.deepEqual(by.g3.uploaded, [], 'g3 got no files');
  assert.equal(by.db1.ok && by.db2.ok, true);
  const lines = (await readFile(log, 'utf8')).trim().split('\n');
  assert.ok(!lines.some((l) => l.endsWith(' g3')), `g3 never reloaded: ${lines.join(' | ')}`);
});
