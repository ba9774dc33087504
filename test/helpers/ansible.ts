// Runs Debian's real ansible-playbook for the tests, sealed off from the machine's own Ansible set-up:
// an empty ansible.cfg (ANSIBLE_CONFIG), its own ANSIBLE_HOME, local and remote temp folders and SSH
// ControlPath folder in the test's temp dir, /usr/bin/python3 on the nodes, host keys checked (the
// inventory points ssh at the test's known_hosts). Every run is bounded by a timeout, and the SSH
// masters Ansible leaves behind (ControlPersist) are closed right after it, so nothing keeps running.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run, type RunResult } from './run.js';
import { which } from './which.js';

export interface Ansible {
  /** ansible-playbook ARGS in CWD; EXTRA env on top of the sealed one. */
  playbook(
    args: string[],
    opts?: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
  ): Promise<PlaybookResult>;
  /** Another Ansible program beside ansible-playbook (`ansible`, `ansible-inventory`), sealed the same way. */
  tool(
    name: string,
    args: string[],
    opts?: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
  ): Promise<RunResult>;
}

export interface Recap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export interface PlaybookResult extends RunResult {
  /** The PLAY RECAP, per host. */
  recap: Record<string, Recap>;
}

/** Parses `host : ok=2 changed=1 unreachable=0 failed=0 …` lines. */
export function parseRecap(stdout: string): Record<string, Recap> {
  const recap: Record<string, Recap> = {};
  const at = stdout.lastIndexOf('PLAY RECAP');
  if (at < 0) return recap;
  for (const line of stdout.slice(at).split('\n').slice(1)) {
    const m = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const counts = Object.fromEntries([...m[2]!.matchAll(/(\w+)=(\d+)/g)].map((c) => [c[1]!, Number(c[2])]));
    recap[m[1]!] = { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0, ...counts };
  }
  return recap;
}

/** The ansible-playbook executable, or null (the test then skips, naming the package). */
export function findAnsiblePlaybook(): Promise<string | null> {
  return which('ansible-playbook', ['/usr/bin']);
}

async function closeMasters(controlDir: string): Promise<void> {
  const sockets = await readdir(controlDir).catch(() => [] as string[]);
  await Promise.all(
    sockets.map((s) =>
      run('ssh', ['-O', 'exit', '-o', `ControlPath=${join(controlDir, s)}`, 'dbtls-test'], { timeoutMs: 10_000 }).catch(
        () => undefined,
      ),
    ),
  );
}

/** A sealed Ansible set-up in DIR (a test's temp folder). */
export async function sealedAnsible(dir: string, executable: string): Promise<Ansible> {
  const home = join(dir, 'ansible-home');
  const controlDir = join(dir, 'ansible-cp');
  await mkdir(home, { recursive: true });
  await mkdir(controlDir, { recursive: true });
  const cfg = join(dir, 'ansible.cfg');
  await writeFile(cfg, '[defaults]\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ANSIBLE_CONFIG: cfg,
    ANSIBLE_HOME: home,
    ANSIBLE_LOCAL_TEMP: join(home, 'tmp'),
    ANSIBLE_REMOTE_TEMP: join(dir, 'ansible-remote-tmp'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    ANSIBLE_PIPELINING: 'True',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_STDOUT_CALLBACK: 'default',
    ANSIBLE_DEPRECATION_WARNINGS: 'False',
  };
  return {
    async playbook(args, opts = {}) {
      try {
        const r = await run(executable, args, {
          cwd: opts.cwd ?? dir,
          env: { ...env, ...opts.env },
          timeoutMs: opts.timeoutMs ?? 120_000,
        });
        return { ...r, recap: parseRecap(r.stdout) };
      } finally {
        await closeMasters(controlDir);
      }
    },
    async tool(name, args, opts = {}) {
      try {
        return await run(join(dirname(executable), name), args, {
          cwd: opts.cwd ?? dir,
          env: { ...env, ...opts.env },
          timeoutMs: opts.timeoutMs ?? 120_000,
        });
      } finally {
        await closeMasters(controlDir);
      }
    },
  };
}
