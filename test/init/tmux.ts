// A real pseudo-terminal for the wizard tests: a private tmux server (its own socket, no user config)
// running one command in a 200x50 window. Keys go in with send-keys, the screen comes back with
// capture-pane; every wait polls the screen against a deadline. The pane stays after the command
// exits (remain-on-exit), so its last screen can be read. The server is killed when the scope ends.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../helpers/run.js';
import type { Scope } from '../helpers/scope.js';

export interface Terminal {
  /** Types TEXT literally (no key names). */
  type(text: string): Promise<void>;
  /** Presses keys by tmux name: Enter, Space, Down, C-c, … */
  press(...keys: string[]): Promise<void>;
  /** The visible screen plus scrollback, as text. */
  screen(): Promise<string>;
  /** Waits until the screen below the previous match matches PATTERN; fails with the screen after TIMEOUT ms. Returns that part of the screen. */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Waits like waitFor, but later waits still look at the same lines (for a message shown below a prompt that is re-drawn). */
  sees(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Types TEXT and Enter once PATTERN is on screen. */
  answer(pattern: RegExp | string, text: string, timeoutMs?: number): Promise<void>;
  /** Waits for the command to exit; its status (128+n for signal n, as sh reports it). */
  exitCode(timeoutMs?: number): Promise<number>;
}

/** Whether tmux is installed. */
export async function haveTmux(): Promise<boolean> {
  return (await run('sh', ['-c', 'command -v tmux'], { timeoutMs: 5_000 })).code === 0;
}

const DEFAULT_WAIT_MS = 20_000;

export async function startTerminal(
  scope: Scope,
  argv: string[],
  opts: { cwd: string; env?: Record<string, string> },
): Promise<Terminal> {
  const socket = `dbtls-init-${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) => run('tmux', ['-L', socket, '-f', '/dev/null', ...args], { timeoutMs: 10_000 });
  scope.after(async () => {
    await tmux('kill-server');
  });
  const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  // The exit status goes to a file, written by a shell around the command: tmux 3.3 now and then
  // misses a pane process's exit (it stays a zombie, the pane never dies), so it cannot be asked.
  // The shell traps SIGINT (a trap, unlike an ignored signal, is not inherited by the command).
  const statusDir = await mkdtemp(join(tmpdir(), 'dbtls-tmux-'));
  scope.after(() => rm(statusDir, { recursive: true, force: true }));
  const statusFile = join(statusDir, 'status');
  const wrapped = ['sh', '-c', 'trap true INT; "$@"; echo $? > "$0"', statusFile, ...argv];
  // remain-on-exit is set in the same tmux call, before the command can end: the screen stays readable.
  const r = await tmux(
    'new-session',
    '-d',
    '-s',
    'main',
    '-x',
    '200',
    '-y',
    '50',
    '-c',
    opts.cwd,
    ...env,
    ...wrapped,
    ';',
    'set-option',
    '-g',
    'remain-on-exit',
    'on',
    ';',
    'set-option',
    '-g',
    'history-limit',
    '5000',
  );
  if (r.code !== 0) throw new Error(`tmux new-session failed (${r.code}): ${r.stderr}`);

  const screen = async () => {
    const c = await tmux('capture-pane', '-p', '-J', '-S', '-5000', '-t', 'main');
    return c.stdout;
  };
  // Waits look only below the last match, so a question asked twice ("Add another node?") is waited for anew.
  let cursor = 0;
  const waitFor = async (pattern: RegExp | string, timeoutMs = DEFAULT_WAIT_MS, consume = true) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = (await screen()).split('\n');
      const text = lines.slice(cursor).join('\n');
      const at = typeof pattern === 'string' ? text.indexOf(pattern) : text.search(pattern);
      if (at >= 0) {
        if (consume) cursor += text.slice(0, at).split('\n').length;
        return text;
      }
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${pattern} on the terminal; it shows:\n${lines.join('\n')}`,
        );
      await sleep(100);
    }
  };
  const term: Terminal = {
    async type(text) {
      await tmux('send-keys', '-t', 'main', '-l', text);
    },
    async press(...keys) {
      await tmux('send-keys', '-t', 'main', ...keys);
    },
    screen,
    waitFor,
    sees: (pattern, timeoutMs) => waitFor(pattern, timeoutMs, false),
    async answer(pattern, text, timeoutMs) {
      await waitFor(pattern, timeoutMs);
      if (text) await term.type(text);
      await term.press('Enter');
    },
    async exitCode(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const status = (await readFile(statusFile, 'utf8').catch(() => '')).trim();
        if (status) return Number(status);
        if (Date.now() > deadline)
          throw new Error(`the command did not exit within ${timeoutMs} ms; the terminal shows:\n${await screen()}`);
        await sleep(100);
      }
    },
  };
  return term;
}
