// Golden transcripts of the CLI: test/golden/<name>.txt holds commands and exactly what each prints
// (in the manner of age's cmd/age/testdata/*.txt and smallstep's txtar scripts). One test per file,
// one sub-test per command, run in order in a fresh folder, $WORK, that every command of the file
// shares (so an inventory issued by one command is checked by the next). The format:
//
//   # Lines before the first step say what the file is about.
//   -- file: inventory.yml --
//   (its text, $WORK expanded, written to $WORK/inventory.yml when the script reaches this
//    point; a later -- file: -- of the same name rewrites it: "the inventory changed")
//   $ dbtls setup --datadir $WORK/certs --days 0 --json   # from a word starting with #: a comment
//   ! exit 2
//   -- stderr --
//   dbtls: --days must be …
//   -- stdout --
//   { "ok": false, … }
//
// - `$ dbtls ARGS`: run the compiled CLI (node dist/cli/main.js) with cwd $WORK. ARGS split as a
//   shell splits them ('…', "…", \x; $WORK expands outside '…'); NAME=value words before dbtls set
//   variables. The environment is otherwise fixed (test/helpers/golden.ts baseEnv): PATH only from
//   the caller, HOME=$WORK, NO_COLOR=1, COLUMNS=80, TERM=dumb, LANG=C.UTF-8, TZ=UTC,
//   DBTLS_SERVER=none (setup asks no local mysqld for its version), no DBTLS_* or CI of the
//   caller's; stdin empty and neither stream a terminal.
// - `! exit N` (or `! signal SIGX`) right after it: the expected status; none means exit 0.
// - `-- stderr --` and `-- stdout --`: the exact text, up to the next marker line; a stream with
//   no section must print nothing. A last line `\ no newline at end` means the text ends without one.
// - Volatile parts are replaced before comparing by named placeholders, each a narrow shape
//   (normalise in test/helpers/golden.ts): $WORK, $REPO (this checkout), <NODE> (the node binary),
//   <VERSION>, <TIME>, <DATE>, <SHA256>, <SERIAL>, <UID>. Anything else that changes fails, with the
//   first differing line and a short diff. Each file also checks that it can fail: its commands'
//   expectations, each with one line changed, are reported by the same comparison.
//
// DBTLS_GOLDEN_UPDATE=1 rewrites every file with what the commands print now (headers, files and
// command lines stay as written): after a deliberate change of an output, run
//   DBTLS_GOLDEN_UPDATE=1 node --test dist/test/cli/golden.test.js
// and read the diff of test/golden/ before committing it.
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import {
  compareOutcome,
  firstDifference,
  fixedOf,
  formatTranscript,
  normalise,
  parseCommandLine,
  parseTranscript,
  runStep,
  workspace,
  writeStep,
  type CommandStep,
  type Outcome,
} from '../helpers/golden.js';

const goldenDir = join(repoRoot, 'test/golden');
const update = process.env.DBTLS_GOLDEN_UPDATE === '1';
const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const fixed = fixedOf(version);
const files = (await readdir(goldenDir)).filter((f) => f.endsWith('.txt')).sort();

/** EXPECTED with one line changed: the first line of stderr, else of stdout, else the exit status. */
function mutated(expected: Outcome): Outcome {
  for (const stream of ['stderr', 'stdout'] as const) {
    if (expected[stream]) return { ...expected, [stream]: `X${expected[stream]}` };
  }
  return { ...expected, exit: expected.exit === 0 ? 1 : 0 };
}

// Files run side by side (each in its own $WORK), the commands of one file one after the other:
// most of the time is node starting up, and two cores are shared with the rest of the suite.
describe('golden transcripts', { concurrency: 3 }, () => {
  for (const file of files) {
    it(file, async (t) => {
      const path = join(goldenDir, file);
      const text = await readFile(path, 'utf8');
      const transcript = parseTranscript(text, `test/golden/${file}`);
      assert.ok(
        transcript.steps.some((s) => s.kind === 'command'),
        `${file} runs no command`,
      );
      const dir = await mkdtemp(join(tmpdir(), 'dbtls-golden-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const ws = await workspace(dir);
      const outcomes: Outcome[] = [];
      const ran: Array<[CommandStep, Outcome]> = [];
      for (const step of transcript.steps) {
        if (step.kind === 'file') {
          await writeStep(ws, step);
          continue;
        }
        const actual = await runStep(ws, step, fixed);
        outcomes.push(actual);
        ran.push([step, actual]);
        await t.test(`${file}:${step.lineNo} $ ${step.line}`, () => {
          if (update) return;
          const problem = compareOutcome(step.expected, actual);
          if (problem)
            assert.fail(
              `test/golden/${file}:${step.lineNo}: $ ${step.line}\n${problem}\n(DBTLS_GOLDEN_UPDATE=1 rewrites the file with the actual output)`,
            );
        });
      }
      if (update) {
        const next = formatTranscript(transcript, outcomes);
        // An output line that reads as a marker ("$ …", "-- stdout --") would not come back as written.
        assert.deepEqual(
          parseTranscript(next, file)
            .steps.filter((s) => s.kind === 'command')
            .map((s) => (s as CommandStep).expected),
          outcomes,
          `${file}: an output line looks like a transcript marker`,
        );
        if (next !== text) {
          await writeFile(path, next);
          t.diagnostic(`rewrote test/golden/${file}`);
        }
        return;
      }
      await t.test(`${file}: a changed expected line is reported`, () => {
        // The comparison that passed above fails once any one command's expectation is changed.
        for (const [step, actual] of ran) {
          const problem = compareOutcome(mutated(step.expected), actual);
          assert.ok(problem, `${file}:${step.lineNo}: a changed expectation passed`);
          assert.match(
            problem,
            step.expected.stderr || step.expected.stdout ? /^(stderr|stdout) line 1 differs/ : /^exit status: expected/,
          );
        }
      });
    });
  }
});

test('golden files: there are enough, and each parses back to itself', async () => {
  assert.ok(files.length >= 10, `only ${files.length} golden files in test/golden`);
  for (const file of files) {
    const text = await readFile(join(goldenDir, file), 'utf8');
    assert.equal(
      formatTranscript(parseTranscript(text, file)),
      text,
      `${file} is not in the canonical form (DBTLS_GOLDEN_UPDATE=1 writes it)`,
    );
  }
});

test('golden: the comparison names the first differing line, a missing newline and the exit status', () => {
  const expected: Outcome = { exit: 0, stdout: 'one\ntwo\nthree\n', stderr: '' };
  assert.equal(compareOutcome(expected, { ...expected }), undefined);
  // The first differing line, then a unified diff around it.
  assert.equal(
    compareOutcome(expected, { ...expected, stdout: 'one\nTWO\nthree\n' }),
    'stdout line 2 differs:\n  expected: "two"\n  actual:   "TWO"\n--- expected stdout\n+++ actual stdout\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three',
  );
  assert.match(
    compareOutcome(expected, { ...expected, stdout: 'one\ntwo\n' })!,
    /^stdout line 3 differs:\n {2}expected: "three"\n {2}actual: {3}\(end of output\)/,
  );
  assert.match(
    compareOutcome(expected, { ...expected, stdout: 'one\ntwo\nthree\nfour\n' })!,
    /^stdout line 4 differs:\n {2}expected: \(end of output\)\n {2}actual: {3}"four"/,
  );
  assert.equal(firstDifference('one\n', 'one'), 'line 1: expected a final newline, got none');
  assert.equal(firstDifference('one', 'one\n'), 'line 1: expected no final newline, got one');
  assert.match(compareOutcome(expected, { ...expected, exit: 2 })!, /^exit status: expected 0, got 2$/);
  assert.match(
    compareOutcome(expected, { ...expected, stderr: 'dbtls: oops\n' })!,
    /^stderr line 1 differs:\n {2}expected: \(end of output\)\n {2}actual: {3}"dbtls: oops"/,
  );
});

test('golden: normalising replaces the volatile shapes and nothing else', () => {
  const ws = { dir: '/tmp/dbtls-golden-abc', real: '/private/tmp/dbtls-golden-abc' };
  const fixed = { version: '9.8.7', repo: '/src/dbtls', node: '/src/dbtls/.node-versions/v22/bin/node' };
  const fp = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const text = [
    'dbtls 9.8.7 wrote /private/tmp/dbtls-golden-abc/pki and /tmp/dbtls-golden-abc/x',
    '/src/dbtls/.node-versions/v22/bin/node /src/dbtls/dist/cli/main.js',
    'until 2029-03-07, issued 2026-12-03T05:34:27.123Z, valid 2026-12-03 05:34:27 UTC to 2029-03-07 05:34:27 UTC',
    `SHA-256 ${fp}  key ${'ab'.repeat(32)}  serial 1F:2a:03  "serial": "00ff"`,
    '    serial         5619915ad3221a58a71472b98f92deef',
    ...(uid === undefined ? [] : [`owner uid ${uid}`, `"uid": ${uid},`]),
  ].join('\n');
  const want = [
    'dbtls <VERSION> wrote $WORK/pki and $WORK/x',
    '<NODE> $REPO/dist/cli/main.js',
    'until <DATE>, issued <TIME>, valid <TIME> to <TIME>',
    'SHA-256 <SHA256>  key <SHA256>  serial <SERIAL>  "serial": "<SERIAL>"',
    '    serial         <SERIAL>',
    ...(uid === undefined ? [] : ['owner uid <UID>', '"uid": <UID>,']),
  ].join('\n');
  assert.equal(normalise(text, ws, fixed), want);
  // Near misses stay as they are: another version, short hex, numbers that are no date, a foreign
  // path, a word after "serial", another uid.
  const kept =
    'MariaDB 10.11.6 and 9.8.70, key id AB:CD, 825 days, 3649 days left, /tmp/other/pki, /src/dbtls2, 19.8.7, 1999-01-01, serial added, owner uid 123456789';
  assert.equal(normalise(kept, ws, fixed), kept);
});

test('golden: a $ line splits as a shell splits it, $WORK expanded outside single quotes', () => {
  assert.deepEqual(parseCommandLine(`dbtls setup -d $WORK/certs --san 'a b' "$WORK/x y" \\$WORK # the usual`, '/w'), {
    env: {},
    args: ['setup', '-d', '/w/certs', '--san', 'a b', '/w/x y', '$WORK'],
  });
  assert.deepEqual(parseCommandLine(`DBTLS_STOREPASS=secret dbtls inspect x.p12`, '/w'), {
    env: { DBTLS_STOREPASS: 'secret' },
    args: ['inspect', 'x.p12'],
  });
  assert.throws(() => parseCommandLine('openssl x509', '/w'), /runs only dbtls/);
});

test('golden: the parser refuses text outside a section and keeps a missing final newline', () => {
  assert.throws(() => parseTranscript('$ dbtls x\nstray\n', 'f'), /f:2: "stray" here is outside any section/);
  const t = parseTranscript(
    '# h\n$ dbtls x\n! exit 2\n-- stderr --\nno newline\n\\ no newline at end\n$ dbtls y\n',
    'f',
  );
  assert.deepEqual(
    t.steps.map((s) => (s as CommandStep).expected),
    [
      { exit: 2, stdout: '', stderr: 'no newline' },
      { exit: 0, stdout: '', stderr: '' },
    ],
  );
  assert.equal(
    formatTranscript(t),
    '# h\n$ dbtls x\n! exit 2\n-- stderr --\nno newline\n\\ no newline at end\n$ dbtls y\n',
  );
});
