// An option's error names the option once: `dbtls: --uid: no such user "…"`, never
// `dbtls: --uid: --uid: …` (the message named it and DbtlsError.describe() prefixed the field again).
// Driven through every command whose option errors carry the option as their field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/scope.js';
import { writeInventory } from '../helpers/inventory.js';

const scope = fileScope();
const dir = await tempDir(scope, 'dbtls-option-errors-');
const datadir = join(dir, 'data');
await mkdir(datadir);
const inv = await writeInventory(dir, { nodes: [{ name: 'db1', host: 'db1.example.com' }] });

/** "--x: --x", "--x: --x …": the option named twice at the start of the error. */
const DOUBLED = /^dbtls: (?:\S+: )?(--[a-z][a-z-]*)(?::| )\s*\1\b/m;

test('option errors name their option once, with exit 2', async () => {
  const root = typeof process.geteuid === 'function' && process.geteuid() === 0;
  const cases: Array<[args: string[], first: string | RegExp]> = [
    [['setup', '-d', datadir, '--days', '0'], 'dbtls: --days must be a whole number from 1 to 36500, got 0'],
    [['setup', '-d', datadir, '--san', 'bad_name!'], 'dbtls: --san "bad_name!": not a DNS name or IP address'],
    [['setup', '-d', datadir, '--suffix', 'a-b'], /^dbtls: --suffix /],
    [['setup', '-d', join(dir, 'nope')], `dbtls: --datadir: data directory ${join(dir, 'nope')} does not exist`],
    [
      ['push', '-i', inv, '--files', join(dir, '*', 'x'), '--dest', '/opt/x'],
      `dbtls: --files "${join(dir, '*', 'x')}": only the last part of a path may hold a pattern`,
    ],
    [['issue', '-i', inv, '--node', 'db9'], /^dbtls: --node: no node named "db9" in /],
  ];
  // --uid is resolved only when running as root (as mysql_ssl_rsa_setup does).
  if (root) {
    cases.push([
      ['setup', '-d', datadir, '--uid', 'no_such_user_dbtls'],
      'dbtls: --uid: no such user "no_such_user_dbtls"',
    ]);
    cases.push([['setup', '-d', datadir, '--uid', 'bad user!'], 'dbtls: --uid "bad user!" is not a valid user name']);
  }
  for (const [args, first] of cases) {
    const r = await dbtls(args);
    const label = args.join(' ');
    assert.equal(r.code, 2, `${label}: exit ${r.code}\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, DOUBLED, label);
    const line = r.stderr.split('\n')[0]!;
    if (typeof first === 'string') assert.equal(line, first, label);
    else assert.match(line, first, label);
  }
});

test("--json keeps the option as the error's field", async () => {
  const r = await dbtls(['setup', '-d', datadir, '--days', '0', '--json']);
  assert.equal(r.code, 2);
  const j = JSON.parse(r.stdout) as { error: { field: string; message: string } };
  assert.equal(j.error.field, '--days');
  assert.match(j.error.message, /^--days must be/);
});
