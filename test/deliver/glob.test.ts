// `--files` patterns against bash itself: every row's expected answer is what bash's own pathname
// expansion gives for that pattern over the same files. The pattern reaches bash through the
// environment and `compgen -G "$PAT"` (bash's glob of one word, the code `for f in $PAT` runs, with
// no eval and no quoting of ours), under bash's default options (no dotglob, extglob or globstar)
// and LC_ALL=C.UTF-8. No name holds a newline (compgen prints one a line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandFiles, patternToRegExp } from '../../lib/deliver/glob.js';
import { isDbtlsError } from '../../lib/errors.js';

const NAMES = [
  'a*',
  'ab',
  'a',
  'b',
  'abc',
  'A1',
  '1',
  '9x',
  'x',
  'x y',
  '.hidden',
  '.a',
  '.pem',
  'a.pem',
  'b.pem',
  'ca-key.pem',
  '[x]',
  '!x',
  '^x',
  '(a)',
  '+(a)',
  '{a,b}',
  'a,b',
  'a\\b',
  'a?',
  ']x',
  '-',
  '1a.',
  '1ab',
  'a\\\\b',
  'jgroups.xml',
  'passwords.store',
  'tungsten_keystore.jks',
  '.jks-backup',
  'other.txt',
];
// é only here, away from the class rows: classes are ASCII ([[:alpha:]] is [A-Za-z]) where bash in a
// UTF-8 locale counts é as a letter — the one difference glob.ts names.
const SUB = ['a.pem', '.k.pem', 'x y.pem', 'b.txt', 'é'];

const ROWS = [
  '*',
  'a\\*',
  'a*',
  '[[:alpha:]]*',
  '[[:digit:]]',
  '[[:digit:]]*',
  '[[:upper:]]*',
  '[[:punct:]]*',
  '[!a]*',
  '[^a]*',
  '[![:alpha:]]*',
  '?',
  '??',
  'a?',
  'a\\?',
  '*.pem',
  '**',
  '**.pem',
  '.*',
  '\\.*',
  '[.]*',
  '[jpt]*',
  '.[jpt]*',
  '[a-c]',
  '[a-]',
  '[]x]*',
  '[!]x]*',
  '[x]',
  '\\[x\\]',
  '!x',
  '^x',
  '(a)',
  '+(a)',
  '?(a)',
  '*(a)',
  '{a,b}',
  'a,b',
  'x y',
  'x\\ y',
  '*\\ *',
  '*\\\\*',
  '[a\\]]',
  '[[.a.]]b',
  '[[:digit:]]a\\.',
  '[a]\\\\\\\\b',
  'sub/?',
  'sub/é',
  'sub/*.pem',
  'sub/.*',
  'sub/[!a]*',
  's\\ub/*',
  'sub/*\\ *',
];

function fixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbtls-glob-'));
  for (const n of NAMES) writeFileSync(join(dir, n), '');
  mkdirSync(join(dir, 'sub'));
  for (const n of SUB) writeFileSync(join(dir, 'sub', n), '');
  return dir;
}

/** What bash's pathname expansion makes of PATTERN in DIR, sorted. */
function bashGlob(dir: string, pattern: string): string[] {
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', 'cd -- "$1" && compgen -G "$PAT"; exit 0', 'bash', dir], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PAT: pattern, LC_ALL: 'C.UTF-8' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

/** The rows of ROWS where EXPAND (a pattern under DIR to the paths it names) disagrees with bash. */
async function disagreements(dir: string, expand: (pattern: string) => Promise<string[]>, rows: string[]) {
  const out: { pattern: string; bash: string[]; ours: string[] }[] = [];
  for (const pattern of rows) {
    const bash = bashGlob(dir, pattern);
    const ours = (await expand(pattern)).map((p) => p.slice(dir.length + 1)).sort();
    if (JSON.stringify(bash) !== JSON.stringify(ours)) out.push({ pattern, bash, ours });
  }
  return out;
}

test('expandFiles gives what bash gives, for every pattern of the table', async (t) => {
  const dir = fixture();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The table is not vacuous: most rows match something, and rows differ from each other.
  const answers = ROWS.map((p) => JSON.stringify(bashGlob(dir, p)));
  assert.ok(answers.filter((a) => a !== '[]').length >= ROWS.length - 3, 'bash matches something for nearly every row');
  assert.ok(new Set(answers).size >= ROWS.length - 12, 'the rows give different answers');
  assert.deepEqual(
    (await disagreements(dir, (p) => expandFiles([join(dir, p)]), ROWS)).map((d) => d.pattern),
    [],
  );
});

test("patternToRegExp over one folder's names agrees with bash too", async (t) => {
  const dir = fixture();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rows = ROWS.filter((p) => !p.includes('/'));
  const byRegExp = async (p: string) => {
    const re = patternToRegExp(p);
    return [...NAMES, 'sub'].filter((n) => re.test(n)).map((n) => join(dir, n));
  };
  assert.deepEqual(
    (await disagreements(dir, byRegExp, rows)).map((d) => d.pattern),
    [],
  );
});

test('the named corners, as bash answers them', async (t) => {
  const dir = fixture();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Spelled out so that a reader sees what the table holds; bash is still the judge.
  assert.deepEqual(bashGlob(dir, 'a\\*'), ['a*']);
  assert.deepEqual(await expandFiles([join(dir, 'a\\*')]), [join(dir, 'a*')]);
  assert.ok(bashGlob(dir, '[[:alpha:]]*').includes('tungsten_keystore.jks'));
  assert.ok(patternToRegExp('[[:alpha:]]*').test('tungsten_keystore.jks'));
  assert.ok(!patternToRegExp('[!a]*').test('.hidden'), 'a set never matches a leading dot');
  assert.ok(!patternToRegExp('*').test('.hidden'));
  assert.ok(patternToRegExp('.[jpt]*').test('.jks-backup'));
  assert.ok(!patternToRegExp('**').test('sub/a.pem'), '** is * (no globstar)');
});

// The hand parser this module had before picomatch, kept here as the wrong matcher the comparison
// must catch.
function oldPatternToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let set = pattern.slice(i + 1, end);
      const negate = set.startsWith('!') || set.startsWith('^');
      if (negate) set = set.slice(1);
      re += `[${negate ? '^' : ''}${set.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

test('the comparison fails for a matcher that is wrong: the old hand parser disagrees with bash', async (t) => {
  const dir = fixture();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const old = async (p: string) => {
    const re = oldPatternToRegExp(p);
    const dotOk = p.startsWith('.');
    return [...NAMES, 'sub'].filter((n) => re.test(n) && (dotOk || !n.startsWith('.'))).map((n) => join(dir, n));
  };
  const wrong = (await disagreements(dir, old, ['a\\*', '[[:alpha:]]*', '*.pem'])).map((d) => d.pattern);
  assert.deepEqual(wrong, ['a\\*', '[[:alpha:]]*']);
});

test('a pattern bash would read otherwise than we can is a usage error naming --files and the pattern, exit 2', async () => {
  const cases: [string, RegExp][] = [
    ['/opt/*/x', /only the last part of a path may hold a pattern/],
    ['/opt/x*\\', /ends with a lone backslash/],
    ['/opt/[[:foo:]]*', /\[:foo:\] is not a character class/],
    ['/opt/[z-a]*', /the range z-a is backwards/],
    ['/opt/[[.hyphen.]]', /\[\.hyphen\.\] is not supported/],
    ['/opt/[[:alpha]*', /\[: in a set has no closing :\]/],
  ];
  for (const [pattern, why] of cases) {
    await assert.rejects(expandFiles([pattern]), (e: unknown) => {
      assert.ok(isDbtlsError(e), String(e));
      assert.equal(e.code, 'files-pattern');
      assert.equal(e.exitCode, 2);
      assert.ok(e.message.startsWith(`--files "${pattern}": `), e.message);
      assert.match(e.message, why);
      return true;
    });
  }
});

test('a path with no pattern comes back as it is, escapes taken away; one that matches nothing gives nothing', async (t) => {
  const dir = fixture();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(await expandFiles([join(dir, 'no-such-file')]), [join(dir, 'no-such-file')]);
  assert.deepEqual(await expandFiles([join(dir, 'x\\ y')]), [join(dir, 'x y')]);
  assert.deepEqual(await expandFiles(['/opt/x\\']), ['/opt/x\\'], 'a lone backslash in no pattern stays');
  assert.deepEqual(await expandFiles([join(dir, 'zz*')]), []);
  assert.deepEqual(await expandFiles([join(dir, 'no-such-dir', '*')]), []);
});
