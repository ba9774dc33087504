// The formatter tables of cli/ui: one entry per event type, checked by the compiler (a table that
// lacks a type does not build: the @ts-expect-error below fails the build if it ever does), each
// event shown by its own type's entry, and an entry that returns undefined shows nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineOf, printLines, type Formatters } from '../../cli/ui/formatters.js';

type Ev = { type: 'start'; node: string } | { type: 'done'; node: string; ok: boolean } | { type: 'quiet' };

const table: Formatters<Ev> = {
  start: (e) => `${e.node}: started`,
  done: (e) => `${e.node}: ${e.ok ? 'ok' : 'FAILED'}`,
  quiet: () => undefined,
};

// @ts-expect-error a table without an entry for 'quiet' is refused
const incomplete: Formatters<Ev> = { start: () => 's', done: () => 'd' };
void incomplete;

test("lineOf shows each event with its own type's entry", () => {
  assert.equal(lineOf(table, { type: 'start', node: 'db1' }), 'db1: started');
  assert.equal(lineOf(table, { type: 'done', node: 'db2', ok: false }), 'db2: FAILED');
  assert.equal(lineOf(table, { type: 'quiet' }), undefined);
});

test('printLines writes one line per event that has one, nothing for the others', (t) => {
  const written: string[] = [];
  t.mock.method(process.stdout, 'write', (s: string) => (written.push(s), true));
  const show = printLines(table);
  show({ type: 'start', node: 'db1' });
  show({ type: 'quiet' });
  show({ type: 'done', node: 'db1', ok: true });
  t.mock.restoreAll();
  assert.deepEqual(written, ['db1: started\n', 'db1: ok\n']);
});
