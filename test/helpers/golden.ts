// Golden CLI transcripts (test/golden/*.txt): parsing, running, normalising, comparing and
// rewriting them. The format is described in test/cli/golden.test.ts, which runs them.
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { run, type RunResult } from './run.js';
import { cliPath, repoRoot } from './paths.js';

/** A file written into $WORK when the script reaches it (again, later: the file changed). */
export interface FileStep {
  kind: 'file';
  name: string;
  content: string;
  /** Its lines as written in the transcript, marker first: an update keeps them as they are. */
  raw: string[];
}

/** What a command printed and how it ended. */
export interface Outcome {
  /** An exit status, or the signal that ended the process (`! signal SIGKILL`). */
  exit: number | string;
  stdout: string;
  stderr: string;
}

/** `$ dbtls …` and what it is expected to print. */
export interface CommandStep {
  kind: 'command';
  /** The command line as written, after `$ `. */
  line: string;
  /** Its 1-based line number in the transcript, for messages. */
  lineNo: number;
  expected: Outcome;
}

export type Step = FileStep | CommandStep;

export interface Transcript {
  /** The lines before the first step (what the file is about). */
  header: string[];
  steps: Step[];
}

const FILE = /^-- file: (.+) --$/;
const STREAM = /^-- (stdout|stderr) --$/;
const COMMAND = /^\$ (.*)$/;
const EXIT = /^! exit (\d+)$/;
const SIGNAL = /^! signal (SIG[A-Z0-9]+)$/;
/** The last line of a section whose text does not end in a newline (as diff's "\ No newline"). */
export const NO_NEWLINE = '\\ no newline at end';

function isMarker(line: string): boolean {
  return FILE.test(line) || STREAM.test(line) || COMMAND.test(line) || EXIT.test(line) || SIGNAL.test(line);
}

/** A section's lines as text: each line ends in a newline unless the last line says it does not. */
function sectionText(lines: string[]): string {
  if (lines.length === 0) return '';
  if (lines[lines.length - 1] === NO_NEWLINE) return lines.slice(0, -1).join('\n');
  return lines.join('\n') + '\n';
}

/** The lines that hold TEXT in a section (sectionText's inverse). */
function sectionLines(text: string): string[] {
  if (text === '') return [];
  if (text.endsWith('\n')) return text.slice(0, -1).split('\n');
  return [...text.split('\n'), NO_NEWLINE];
}

export function parseTranscript(text: string, name = 'transcript'): Transcript {
  const lines = text.split('\n');
  // A file ends with a newline; the empty string after it is not a line.
  if (lines[lines.length - 1] === '') lines.pop();
  const header: string[] = [];
  const steps: Step[] = [];
  let i = 0;
  while (i < lines.length && !isMarker(lines[i]!)) header.push(lines[i++]!);
  const fail = (n: number, why: string): never => {
    throw new Error(`${name}:${n + 1}: ${why}`);
  };
  /** The lines from i up to the next marker. */
  const body = (): string[] => {
    const start = i;
    while (i < lines.length && !isMarker(lines[i]!)) i++;
    return lines.slice(start, i);
  };
  while (i < lines.length) {
    const line = lines[i]!;
    const file = FILE.exec(line);
    if (file) {
      i++;
      const content = body();
      steps.push({ kind: 'file', name: file[1]!, content: sectionText(content), raw: [line, ...content] });
      continue;
    }
    const cmd = COMMAND.exec(line);
    if (!cmd) fail(i, `expected "$ dbtls …" or "-- file: NAME --", got "${line}"`);
    const step: CommandStep = {
      kind: 'command',
      line: cmd![1]!,
      lineNo: i + 1,
      expected: { exit: 0, stdout: '', stderr: '' },
    };
    i++;
    const exit = EXIT.exec(lines[i] ?? '') ?? SIGNAL.exec(lines[i] ?? '');
    if (exit) {
      step.expected.exit = /^\d+$/.test(exit[1]!) ? Number(exit[1]) : exit[1]!;
      i++;
    }
    const seen = new Set<string>();
    let stream: RegExpExecArray | null;
    while (i < lines.length && (stream = STREAM.exec(lines[i]!))) {
      const which = stream[1] as 'stdout' | 'stderr';
      if (seen.has(which)) fail(i, `a second -- ${which} -- for one command`);
      seen.add(which);
      i++;
      step.expected[which] = sectionText(body());
    }
    if (i < lines.length && !FILE.test(lines[i]!) && !COMMAND.test(lines[i]!))
      fail(i, `"${lines[i]}" here is outside any section`);
    steps.push(step);
  }
  return { header, steps };
}

/** The transcript as text, each command followed by OUTCOMES[k] (its k-th command's) or what it expects. */
export function formatTranscript(t: Transcript, outcomes?: Outcome[]): string {
  const out = [...t.header];
  let k = 0;
  for (const step of t.steps) {
    if (step.kind === 'file') {
      out.push(...step.raw);
      continue;
    }
    const o = outcomes?.[k++] ?? step.expected;
    out.push(`$ ${step.line}`);
    if (o.exit !== 0) out.push(typeof o.exit === 'number' ? `! exit ${o.exit}` : `! signal ${o.exit}`);
    // stderr first: for a refused command it is the message, and stdout (the --json error) follows it.
    if (o.stderr) out.push('-- stderr --', ...sectionLines(o.stderr));
    if (o.stdout) out.push('-- stdout --', ...sectionLines(o.stdout));
  }
  return out.join('\n') + '\n';
}

// ---- the command line ----

export interface CommandLine {
  env: Record<string, string>;
  args: string[];
}

/**
 * A `$` line in words, as a POSIX shell splits it (without globs, pipes or other expansions):
 * blanks separate words, '…' is literal, "…" and bare words expand $WORK, \x is x, a word starting
 * with # starts a comment, and NAME=value words before `dbtls` set the command's environment.
 */
export function parseCommandLine(line: string, work: string): CommandLine {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length || line[i] === '#') break;
    let word = '';
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') {
      const c = line[i]!;
      if (c === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) throw new Error(`unclosed ' in: ${line}`);
        word += line.slice(i + 1, end);
        i = end + 1;
      } else if (c === '"') {
        let j = i + 1;
        let quoted = '';
        while (j < line.length && line[j] !== '"') {
          if (line[j] === '\\' && j + 1 < line.length) j++;
          quoted += line[j++];
        }
        if (j >= line.length) throw new Error(`unclosed " in: ${line}`);
        word += expandWork(quoted, work);
        i = j + 1;
      } else if (c === '\\' && i + 1 < line.length) {
        word += line[i + 1];
        i += 2;
      } else {
        let j = i;
        while (j < line.length && !' \t\'"\\'.includes(line[j]!)) j++;
        word += expandWork(line.slice(i, j), work);
        i = j;
      }
    }
    words.push(word);
  }
  const env: Record<string, string> = {};
  while (words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const w = words.shift()!;
    env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
  }
  if (words.shift() !== 'dbtls') throw new Error(`a transcript runs only dbtls: ${line}`);
  return { env, args: words };
}

function expandWork(text: string, work: string): string {
  return text.replace(/\$WORK\b|\$\{WORK\}/g, work);
}

// ---- running ----

export interface Workspace {
  /** The folder as created (the command's cwd, $WORK in the commands). */
  dir: string;
  /** The same folder with symlinks resolved, as a process may print it. */
  real: string;
}

export async function workspace(dir: string): Promise<Workspace> {
  return { dir, real: await realpath(dir) };
}

/** Writes a file step into the workspace ($WORK in its text expanded). */
export async function writeStep(ws: Workspace, step: FileStep): Promise<void> {
  const rel = normalize(step.name);
  if (isAbsolute(rel) || rel.startsWith('..')) throw new Error(`-- file: ${step.name} -- must stay inside $WORK`);
  const path = join(ws.dir, rel);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, expandWork(step.content, ws.dir));
}

/**
 * The environment every transcript command starts from, nothing inherited but PATH: no DBTLS_*
 * variable of the developer's, no CI, no terminal; HOME is $WORK (no ~/.my.cnf or ~/.ssh of the
 * machine); DBTLS_SERVER=none, so `setup` asks no local mysqld for its version (the CN suffix).
 */
export function baseEnv(ws: Workspace): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: ws.dir,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    NO_COLOR: '1',
    COLUMNS: '80',
    TERM: 'dumb',
    DBTLS_SERVER: 'none',
  };
}

/** Runs one `$` line in the workspace; the outcome is normalised (see normalise). */
export async function runStep(ws: Workspace, step: CommandStep, fixed: Fixed): Promise<Outcome> {
  const { env, args } = parseCommandLine(step.line, ws.dir);
  const r: RunResult = await run(process.execPath, [cliPath, ...args], {
    cwd: ws.dir,
    env: { ...baseEnv(ws), ...env },
    timeoutMs: 60_000,
  });
  const exit = r.code ?? r.signal ?? 'unknown';
  return { exit, stdout: normalise(r.stdout, ws, fixed), stderr: normalise(r.stderr, ws, fixed) };
}

// ---- normalising ----

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What is fixed for a run but differs between machines and checkouts. */
export interface Fixed {
  /** The package version. */
  version: string;
  /** This checkout (the repository root) and the node binary that runs the CLI. */
  repo: string;
  node: string;
}

/** The Fixed of this run. */
export function fixedOf(version: string): Fixed {
  return { version, repo: repoRoot, node: process.execPath };
}

/**
 * Replaces what changes from run to run, and only that, by a named placeholder, so that any other
 * change of the text still fails the test. Each shape is narrow:
 *   $WORK       the workspace path (as created and as resolved), as a whole path
 *   $REPO       this checkout, <NODE> the node binary (schedule writes both into its jobs)
 *   <VERSION>   the package version, as a whole token
 *   <TIME>      an ISO 8601 time (2026-12-03T05:34:27.123Z) or inspect's 2026-12-03 05:34:27 UTC
 *   <DATE>      a calendar date 20YY-MM-DD
 *   <SHA256>    a SHA-256 as 32 colon-separated hex pairs, or 64 hex digits
 *   <SERIAL>    hex pairs (colons allowed, a digit among them) after "serial" (inspect's row, "serial
 *               7a…", "serial: …") or in JSON "serial"/"serialHex"
 *   <UID>       the uid of this process after "uid " or "uid": (the PKI folder's owner)
 */
export function normalise(text: string, ws: Workspace, fixed: Fixed): string {
  let t = text;
  // A path, not a longer name that starts like it (/tmp/x is not in /tmp/x2).
  const path = (p: string, to: string) => (t = t.replace(new RegExp(`${escape(p)}(?![\\w.-])`, 'g'), to));
  for (const p of new Set([ws.real, ws.dir])) path(p, '$WORK');
  path(fixed.node, '<NODE>');
  path(fixed.repo, '$REPO');
  t = t.replace(new RegExp(`(?<![\\w.])${escape(fixed.version)}(?![\\w.]*\\d)`, 'g'), '<VERSION>');
  t = t.replace(
    /\b20\d\d-[01]\d-[0-3]\d(?:T[0-2]\d:[0-5]\d:[0-5]\d(?:\.\d+)?Z| [0-2]\d:[0-5]\d:[0-5]\d UTC)/g,
    '<TIME>',
  );
  t = t.replace(/\b20\d\d-[01]\d-[0-3]\d\b/g, '<DATE>');
  t = t.replace(/\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31}\b/g, '<SHA256>');
  t = t.replace(/\b[0-9a-f]{64}\b/g, '<SHA256>');
  t = t.replace(
    /(\b[Ss]erial:? +|"serial(?:Hex)?": ")(?=[0-9A-Fa-f:]*\d)[0-9A-Fa-f]{2}(?::?[0-9A-Fa-f]{2})*\b/g,
    '$1<SERIAL>',
  );
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== undefined) t = t.replace(new RegExp(`(\\buid |"uid": )${uid}\\b`, 'g'), '$1<UID>');
  return t;
}

// ---- comparing ----

/** Where a command's outcome differs from what it expects: undefined when it does not. */
export function compareOutcome(expected: Outcome, actual: Outcome): string | undefined {
  const problems: string[] = [];
  if (expected.exit !== actual.exit) problems.push(`exit status: expected ${expected.exit}, got ${actual.exit}`);
  for (const stream of ['stderr', 'stdout'] as const) {
    const d = firstDifference(expected[stream], actual[stream]);
    if (d) problems.push(`${stream} ${d}\n${shortDiff(stream, expected[stream], actual[stream])}`);
  }
  return problems.length ? problems.join('\n') : undefined;
}

/** "line N differs" with both lines, or undefined when the texts are equal. */
export function firstDifference(expected: string, actual: string): string | undefined {
  if (expected === actual) return undefined;
  const e = linesOf(expected);
  const a = linesOf(actual);
  let n = 0;
  while (n < e.length && n < a.length && e[n] === a[n]) n++;
  if (n === e.length && n === a.length)
    return `line ${n}: expected ${expected.endsWith('\n') ? 'a final newline, got none' : 'no final newline, got one'}`;
  const show = (lines: string[]) => (n < lines.length ? JSON.stringify(lines[n]) : '(end of output)');
  return `line ${n + 1} differs:\n  expected: ${show(e)}\n  actual:   ${show(a)}`;
}

/** TEXT's lines, a final newline ending the last one (not starting an empty one). */
const linesOf = (text: string): string[] =>
  text === '' ? [] : (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');

/** A unified diff of the two texts, at most 40 lines of it. */
function shortDiff(stream: string, expected: string, actual: string): string {
  // Without the ===== line, and the file lines without their empty header tabs.
  const patch = createTwoFilesPatch(`expected ${stream}`, `actual ${stream}`, expected, actual, '', '', { context: 2 })
    .split('\n')
    .slice(1)
    .map((l) => l.replace(/^(---|\+\+\+) (.*)\t$/, '$1 $2'));
  if (patch[patch.length - 1] === '') patch.pop();
  return (patch.length > 40 ? [...patch.slice(0, 40), `… (${patch.length - 40} more diff lines)`] : patch).join('\n');
}
