// The error-code catalogue (lib/error-codes.ts) against the source and against docs/errors.md: every
// code raised is in it with the kind it is raised with, every code in it is raised somewhere, and the
// page is what scripts/error-codes-doc.mjs writes from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ERROR_CODES, type ErrorCode } from '../../lib/error-codes.js';
import { DbtlsError, type ErrorKind } from '../../lib/errors.js';
import { repoRoot } from '../helpers/paths.js';
import { sourceCodes, type CodeUse } from './source-codes.js';

const REGENERATE = 'make build && node scripts/error-codes-doc.mjs';
const catalogue = Object.keys(ERROR_CODES) as ErrorCode[];
const kindsOf = (code: ErrorCode): readonly ErrorKind[] => {
  const kind: ErrorKind | readonly ErrorKind[] = ERROR_CODES[code].kind;
  return typeof kind === 'string' ? [kind] : kind;
};
const { uses, unexplained } = sourceCodes(repoRoot);
/** The catalogue's codes USE stands for: itself, or every one its pattern matches. */
const matched = (use: CodeUse): ErrorCode[] =>
  typeof use.code === 'string'
    ? catalogue.filter((c) => c === use.code)
    : catalogue.filter((c) => (use.code as RegExp).test(c));
const shown = (use: CodeUse) => `${use.at}: ${String(use.code)}`;

test('the source scan sees the ways codes are given, so the checks below stand for something', () => {
  const at = (code: string) => uses.filter((u) => String(u.code) === code).map((u) => u.at.replace(/:\d+$/, ''));
  assert.ok(at('bad-option').includes(join('cli', 'main.ts')), 'bad-option, a JSON error object in cli/main.ts');
  assert.ok(
    at('failure').includes(join('cli', 'report-error.ts')),
    'failure, the fallback of `err?.code ?? …` in cli/report-error.ts',
  );
  assert.ok(
    at('bad-inventory').includes(join('lib', 'inventory', 'errors.ts')),
    "bad-inventory, InventoryError's super(…)",
  );
  assert.ok(at(String(/^pair-[A-Za-z0-9_-]+$/)).length > 0, '`pair-${…}`, a code built from a template');
  assert.ok(uses.length > 250, `only ${uses.length} places give a code`);
});

test('every code the source raises is in the catalogue', () => {
  const missing = uses.filter((u) => matched(u).length === 0).map(shown);
  assert.deepEqual(missing, [], 'add these to lib/error-codes.ts (and regenerate docs/errors.md)');
});

test("every code argument is a literal, a template or another error's code passed on", () => {
  // A code in a variable would escape both this scan and, typed as string, the compiler.
  assert.deepEqual(unexplained, []);
});

test('every code in the catalogue is raised somewhere in lib/ or cli/ (no dead codes)', () => {
  const raised = new Set(uses.flatMap(matched));
  assert.deepEqual(
    catalogue.filter((c) => !raised.has(c)),
    [],
    'remove these from lib/error-codes.ts, or raise them',
  );
});

test("each code's kind in the catalogue is the kind it is raised with", () => {
  const wrong = uses
    .filter((u) => u.kind !== undefined)
    .flatMap((u) =>
      matched(u)
        .filter((c) => !kindsOf(c).includes(u.kind!))
        .map((c) => `${u.at}: ${c} raised as ${u.kind}, the catalogue says ${kindsOf(c).join(', ')}`),
    );
  assert.deepEqual(wrong, []);
  // And a code the catalogue gives two kinds is raised as each (one kind is the rule; two are named).
  const twoKinds = catalogue.filter((c) => kindsOf(c).length > 1);
  assert.deepEqual(
    twoKinds,
    ['bad-days'],
    'one kind per code is the rule: a code raised as two is an exception named here on purpose',
  );
  const unused = twoKinds.flatMap((c) =>
    kindsOf(c)
      .filter((k) => !uses.some((u) => u.kind === k && matched(u).includes(c)))
      .map((k) => `${c}: never raised as ${k}`),
  );
  assert.deepEqual(unused, []);
});

test('every summary is one line, and no code is listed twice in any case', () => {
  for (const c of catalogue) assert.match(ERROR_CODES[c].summary, /^[^\n]{10,200}$/, c);
  const lower = catalogue.map((c) => c.toLowerCase());
  assert.equal(new Set(lower).size, lower.length);
});

test(`docs/errors.md is what the catalogue generates (regenerate: ${REGENERATE})`, async () => {
  const script = pathToFileURL(join(repoRoot, 'scripts', 'error-codes-doc.mjs')).href;
  const { errorsDoc } = (await import(script)) as { errorsDoc: (codes: typeof ERROR_CODES) => string };
  const expected = errorsDoc(ERROR_CODES);
  const actual = await readFile(join(repoRoot, 'docs', 'errors.md'), 'utf8');
  assert.ok(actual === expected, `docs/errors.md differs from the catalogue in lib/error-codes.ts: run ${REGENERATE}`);
});

test("docs/errors.md gives each code's exit status as DbtlsError exits with it", async () => {
  const doc = await readFile(join(repoRoot, 'docs', 'errors.md'), 'utf8');
  const rows = new Map([...doc.matchAll(/^\| `([^`]+)` \| ([^|]+) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]));
  for (const c of catalogue) {
    const said = kindsOf(c)
      .map((kind) => `${kind} → ${new DbtlsError(c, 'm', { kind }).exitCode}`)
      .join(', ');
    assert.equal(rows.get(c), said, `docs/errors.md's row for ${c}`);
  }
  assert.equal(rows.size, catalogue.length, 'docs/errors.md lists a code the catalogue does not');
});
