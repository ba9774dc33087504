// What a scheduled rotation runs and with what, decided once for both cron and systemd: the exact
// argv of `dbtls rotate leaf`, the lock around it, where its output goes, when it runs. Every path
// is absolute here, because the job runs with a minimal environment in another working directory.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseDuration } from '../check/duration.js';
import { usageError } from '../errors.js';
import { unixName } from '../inventory/rules.js';
import type { Cluster } from '../inventory/model.js';
import { DEFAULT_AT, parseAt, type TimeOfDay } from './clock.js';

export type ScheduleKind = 'cron' | 'systemd';

export const DEFAULT_WITHIN = '30d';
export const DEFAULT_RANDOMIZED_DELAY = '15m';
/** The lock file's name in the PKI directory (distinct from the .dbtls.lock each run takes inside). */
export const LOCK_NAME = '.dbtls-schedule.lock';
/** flock's exit status when another run holds the lock (flock -E), so a skipped run is told apart. */
export const LOCK_CONFLICT_EXIT = 75;

export interface ScheduleInput {
  kind: ScheduleKind;
  cluster: Pick<Cluster, 'cluster' | 'file' | 'pki'>;
  /** How to run dbtls: [node, main.js] or [an installed dbtls]; absolute paths. */
  dbtls: string[];
  /** Inventory options the rotation needs as well (--cluster, --role-map for Ansible inventories). */
  inventoryArgs?: string[];
  /** The absolute path of flock(1). */
  flock: string;
  within?: string;
  at?: string;
  name?: string;
  user?: string;
  envFile?: string;
  lock?: string;
  /** cron only: the file that collects stdout and stderr. */
  log?: string;
  /** systemd only: the timer's RandomizedDelaySec=. */
  randomizedDelay?: string;
  /** Where relative paths given by the user start (the current directory). */
  cwd: string;
}

export interface SchedulePlan {
  kind: ScheduleKind;
  cluster: string;
  /** Base name of the unit files or the crontab snippet. */
  name: string;
  at: TimeOfDay;
  within: string;
  inventory: string;
  /** The cluster's PKI directory: its owner is the user the job should run as. */
  pki: string;
  workingDirectory: string;
  lockFile: string;
  flock: string;
  user?: string;
  envFile?: string;
  /** cron: the log file. */
  log?: string;
  /** systemd: the journal's SYSLOG_IDENTIFIER. */
  syslogIdentifier: string;
  randomizedDelayMs: number;
  /** `dbtls rotate leaf …`, without the lock. */
  rotateArgv: string[];
  /** What runs: flock around the rotation. */
  lockedArgv: string[];
  /** Things the user should know before installing (a missing PKI directory, a readable env file). */
  warnings: string[];
}

/** A unit name's base: what systemd accepts in a unit name, and safe as a file name. */
function checkName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9:_.-]*$/.test(name) || name.length > 200) {
    throw usageError(
      'bad-name',
      `--name "${name}" must be letters, digits, ":", "_", "." or "-" (at most 200), starting with a letter or digit`,
    );
  }
  return name;
}

export async function planSchedule(input: ScheduleInput): Promise<SchedulePlan> {
  const { kind, cluster, cwd } = input;
  const name = checkName(input.name ?? `dbtls-rotate-${cluster.cluster}`);
  if (kind === 'systemd' && input.log !== undefined) {
    throw usageError(
      'log-with-systemd',
      '--log is for --cron: a systemd service logs to the journal',
      `read it with journalctl -u ${name}.service`,
    );
  }
  if (kind === 'cron' && input.randomizedDelay !== undefined) {
    throw usageError(
      'delay-with-cron',
      '--randomized-delay is for --systemd: cron has no randomized start',
      'give each controller its own --at instead',
    );
  }
  const within = (input.within ?? DEFAULT_WITHIN).trim().replace(/\s+/g, '');
  parseDuration(within, '--within');
  const at = parseAt(input.at ?? DEFAULT_AT);
  const randomizedDelayMs = parseDuration(input.randomizedDelay ?? DEFAULT_RANDOMIZED_DELAY, '--randomized-delay');
  if (input.user !== undefined) {
    const bad = unixName(input.user);
    if (bad) throw usageError('bad-user', `--user ${bad}`);
  }
  for (const [flag, value] of [
    ['--environment-file', input.envFile],
    ['--lock', input.lock],
    ['--log', input.log],
  ] as const) {
    if (value !== undefined && (value.trim() === '' || /[\u0000-\u001f\u007f]/.test(value))) {
      throw usageError(
        'bad-path',
        `${flag} ${JSON.stringify(value)} is not a usable path (empty, or holds a control character)`,
      );
    }
  }

  const envFile = input.envFile === undefined ? undefined : resolve(cwd, input.envFile);
  const lockFile = input.lock === undefined ? join(cluster.pki, LOCK_NAME) : resolve(cwd, input.lock);
  const log = kind === 'cron' ? resolve(cwd, input.log ?? `/var/log/dbtls/${cluster.cluster}.log`) : undefined;
  const inventory = resolve(cluster.file);
  const rotateArgv = [
    ...input.dbtls,
    'rotate',
    'leaf',
    '-i',
    inventory,
    ...(input.inventoryArgs ?? []),
    '--within',
    within,
    '--yes',
    '--json',
  ];
  const lockedArgv = [input.flock, '-n', '-E', String(LOCK_CONFLICT_EXIT), lockFile, ...rotateArgv];
  // Every path also appears in comments and one-line settings, where a line break cannot go.
  for (const arg of [...lockedArgv, log ?? '']) {
    if (/[\u0000-\u001f\u007f]/.test(arg))
      throw usageError(
        'bad-path',
        `${JSON.stringify(arg)} holds a control character or line break; a scheduled job cannot carry it`,
      );
  }

  const warnings: string[] = [];
  if (input.lock === undefined && !(await isDir(cluster.pki))) {
    warnings.push(
      `the PKI directory ${cluster.pki} does not exist yet (nothing issued?): the job takes its lock there, so run dbtls issue first`,
    );
  }
  if (envFile === undefined && (await caKeyEncrypted(join(cluster.pki, 'ca-key.pem')))) {
    warnings.push(
      'the CA key is encrypted and no --environment-file was given: the job will not have DBTLS_CA_PASSPHRASE; give --environment-file FILE',
    );
  }
  if (envFile !== undefined) {
    const st = await stat(envFile).catch(() => undefined);
    if (!st)
      warnings.push(`--environment-file ${envFile} does not exist yet: create it (mode 0600) before the first run`);
    else if (st.mode & 0o077)
      warnings.push(
        `--environment-file ${envFile} is readable by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): it holds secrets, chmod 600 it`,
      );
  }

  return {
    kind,
    cluster: cluster.cluster,
    name,
    at,
    within,
    inventory,
    pki: cluster.pki,
    workingDirectory: dirname(inventory),
    lockFile,
    flock: input.flock,
    ...(input.user !== undefined ? { user: input.user } : {}),
    ...(envFile !== undefined ? { envFile } : {}),
    ...(log !== undefined ? { log } : {}),
    syslogIdentifier: `dbtls-${cluster.cluster}`,
    randomizedDelayMs,
    rotateArgv,
    lockedArgv,
    warnings,
  };
}

async function caKeyEncrypted(file: string): Promise<boolean> {
  const pem = await readFile(file, 'utf8').catch(() => '');
  return /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem);
}

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}
