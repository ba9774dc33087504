// The work of `dbtls schedule` (spec: cli/commands/schedule.ts).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageError } from '../../lib/errors.js';
import { cronEntry, cronInstallSteps } from '../../lib/schedule/cron.js';
import { findOnPath, resolveProgram } from '../../lib/schedule/executable.js';
import { planSchedule, type SchedulePlan } from '../../lib/schedule/plan.js';
import { systemdInstallSteps, systemdUnits } from '../../lib/schedule/systemd.js';
import { writeScheduleFiles } from '../../lib/schedule/write.js';
import { readTextNoFollow } from '../../lib/store/safe-fs.js';
import type { ScheduleFlags } from '../commands/schedule.js';
import { loadCluster } from '../inventory-options.js';
import { outputMode } from '../ui/mode.js';
import { printSchedule, printScheduleCheck, type ScheduleFile } from '../ui/schedule-report.js';

export async function schedule(flags: ScheduleFlags): Promise<number> {
  if (Boolean(flags.cron) === Boolean(flags.systemd))
    throw usageError('schedule-kind', 'give exactly one of --cron or --systemd');
  const kind = flags.cron ? 'cron' : 'systemd';
  const cwd = process.cwd();
  const mode = outputMode(flags.json);

  const dbtls =
    flags.dbtls !== undefined
      ? [await resolveProgram(flags.dbtls, '--dbtls', cwd)]
      : [process.execPath, fileURLToPath(new URL('../main.js', import.meta.url))];
  const found = await findOnPath('flock');
  const flock = found ?? '/usr/bin/flock';
  const cluster = await loadCluster(flags);
  const inventoryArgs = [
    ...(flags.cluster !== undefined ? ['--cluster', flags.cluster] : []),
    ...flags.roleMap.flatMap((m) => ['--role-map', m]),
  ];
  const plan = await planSchedule({
    kind,
    cluster,
    dbtls,
    inventoryArgs,
    flock,
    cwd,
    within: flags.within,
    at: flags.at,
    name: flags.name,
    user: flags.user,
    envFile: flags.environmentFile,
    lock: flags.lock,
    log: flags.log,
    randomizedDelay: flags.randomizedDelay,
  });
  if (!found) plan.warnings.push('flock (util-linux) is not on PATH here; the job assumes /usr/bin/flock');
  const { files, line } = scheduleFiles(plan);

  let written: string[] | undefined;
  let changed = false;
  if (flags.out !== undefined) {
    const paths = files.map((f) => resolve(cwd, flags.out!, f.fileName));
    // Changed when a file would differ from what --out holds now.
    // Read without following a link, bounded, regular files only: anything else there is "changed".
    for (const [i, f] of files.entries()) {
      const now = await readTextNoFollow(paths[i]!, { maxBytes: 1 << 20 }).catch(() => undefined);
      if (now !== f.text) changed = true;
    }
    if (flags.check) {
      printScheduleCheck(files, paths, changed, mode);
      return 0;
    }
    written = changed ? await writeScheduleFiles(flags.out, files, cwd) : paths;
  }
  const install =
    kind === 'cron'
      ? cronInstallSteps(plan, written?.[0])
      : systemdInstallSteps(plan, written ? dirname(written[0]!) : undefined);
  printSchedule({ plan, files, line, written, changed, install }, mode);
  return 0;
}

/** The file(s) the plan makes: a crontab snippet, or a .service and a .timer. */
function scheduleFiles(plan: SchedulePlan): { files: ScheduleFile[]; line?: string } {
  if (plan.kind === 'systemd') {
    const units = systemdUnits(plan);
    return { files: [units.service, units.timer] };
  }
  const entry = cronEntry(plan);
  // Vixie cron (Debian's) reads at most 1000 characters of a command.
  const length = entry.line.length - entry.line.indexOf('{');
  if (length >= 1000)
    plan.warnings.push(
      `the cron command is ${length} characters long; some crons cut commands at 1000: shorten the paths or use --systemd`,
    );
  return { files: [{ fileName: entry.fileName, text: entry.text }], line: entry.line };
}
