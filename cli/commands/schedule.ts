// `dbtls schedule -i INVENTORY --cron|--systemd`: the cron line, or systemd .service + .timer, that
// runs `dbtls rotate leaf --yes --json` every day under a lock with its output logged, for the user
// to install. Nothing is installed here: the files are printed, or written with --out.
import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { helpSections } from '../help.js';
import { reportError } from '../report-error.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';

interface ScheduleFlags extends InventoryFlags {
  check?: boolean;
  cron?: boolean;
  systemd?: boolean;
  within?: string;
  at?: string;
  log?: string;
  name?: string;
  user?: string;
  environmentFile?: string;
  lock?: string;
  randomizedDelay?: string;
  dbtls?: string;
  out?: string;
  json?: boolean;
}

export function registerSchedule(program: Command): void {
  const cmd = program
    .command('schedule')
    .summary('print a cron line or systemd timer that rotates expiring leaf certificates every day')
    .description(
      'Prints what to install so that `dbtls rotate leaf --within 30d --yes --json` ' +
        'runs every day on this controller: a crontab line (--cron) or a systemd ' +
        '.service + .timer pair (--systemd). Every path is absolute, runs never overlap ' +
        '(flock on a lock file in the PKI directory), output goes to a log file (cron) ' +
        'or the journal (systemd), and secrets come from --environment-file, never from ' +
        'the job itself. See docs/schedule.md.',
    );
  addInventoryOptions(cmd)
    .option('--cron', 'a crontab line')
    .option('--systemd', 'a systemd .service and .timer')
    .option('--within <duration>', 'rotate certificates that expire within this window (30d, 12h, 2w)', '30d')
    .option('--at <HH:MM>', 'time of day (local time), off the hour so fleets do not start together', '03:17')
    .option('--randomized-delay <duration>', 'systemd: start up to this much later, at random (default 15m)')
    .option('--log <file>', 'cron: append stdout and stderr here (default /var/log/dbtls/<cluster>.log)')
    .option('--name <name>', 'unit or snippet base name (default dbtls-rotate-<cluster>)')
    .option('--user <user>', 'run as this user (systemd User=; cron: whose crontab); the PKI directory\'s owner')
    // Not --env-file: Node 20 takes that as its own option even after the script name.
    .option('--environment-file <file>', 'NAME=\'value\' lines: DBTLS_CA_PASSPHRASE, DBTLS_STOREPASS, DBTLS_SSH_PASSPHRASE')
    .option('--lock <file>', 'the flock file (default <pki>/.dbtls-schedule.lock)')
    .option('--dbtls <path>', 'the dbtls to run (default: this node binary + this dbtls\'s dist/cli/main.js)')
    .option('--out <dir>', 'write the file(s) into this directory (0644, atomically) instead of printing')
    .option('--json', 'print a JSON report (the files\' text included)')
    .option('--check', 'with --out: change nothing, say whether the files would change (`changed` in --json)')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls schedule -i cluster.yml --systemd --user dbtls --environment-file /etc/dbtls/prod.env --out /etc/systemd/system', 'a systemd timer, installed'],
          ['dbtls schedule -i cluster.yml --cron --at 04:41 --log /var/log/dbtls/prod.log', 'a crontab line'],
          ['dbtls schedule -i cluster.yml --cron --dbtls /usr/local/bin/dbtls', 'run an installed dbtls instead of this checkout'],
        ],
        exitCodes: [
          [0, 'printed (or written with --out)'],
          [1, 'the files could not be written'],
          [2, 'usage or input error (neither or both of --cron/--systemd, bad --within/--at, inventory problems); nothing was written'],
        ],
      }),
    )
    .action(async (flags: ScheduleFlags) => {
      process.exitCode = await scheduleCommand(flags);
    });
}

async function scheduleCommand(flags: ScheduleFlags): Promise<number> {
  try {
    const { usageError } = await import('../../lib/errors.js');
    if (Boolean(flags.cron) === Boolean(flags.systemd)) {
      throw usageError('schedule-kind', 'give exactly one of --cron or --systemd');
    }
    const kind = flags.cron ? 'cron' : 'systemd';
    const { planSchedule } = await import('../../lib/schedule/plan.js');
    const { findOnPath, resolveProgram } = await import('../../lib/schedule/executable.js');
    const { loadCluster } = await import('../inventory-options.js');
    const cwd = process.cwd();

    const dbtls = flags.dbtls !== undefined
      ? [await resolveProgram(flags.dbtls, '--dbtls', cwd)]
      : [process.execPath, fileURLToPath(new URL('../main.js', import.meta.url))];
    const found = await findOnPath('flock');
    const flock = found ?? '/usr/bin/flock';
    const cluster = await loadCluster(flags);
    const inventoryArgs = [...(flags.cluster !== undefined ? ['--cluster', flags.cluster] : []), ...flags.roleMap.flatMap((m) => ['--role-map', m])];
    const plan = await planSchedule({
      kind, cluster, dbtls, inventoryArgs, flock, cwd,
      within: flags.within, at: flags.at, name: flags.name, user: flags.user, envFile: flags.environmentFile,
      lock: flags.lock, log: flags.log, randomizedDelay: flags.randomizedDelay,
    });
    if (!found) plan.warnings.push('flock (util-linux) is not on PATH here; the job assumes /usr/bin/flock');

    let files: Array<{ fileName: string; text: string }>;
    let line: string | undefined;
    if (kind === 'cron') {
      const { cronEntry } = await import('../../lib/schedule/cron.js');
      const entry = cronEntry(plan);
      line = entry.line;
      files = [{ fileName: entry.fileName, text: entry.text }];
      // Vixie cron (Debian's) reads at most 1000 characters of a command.
      const length = line.length - line.indexOf('{');
      if (length >= 1000) plan.warnings.push(`the cron command is ${length} characters long; some crons cut commands at 1000: shorten the paths or use --systemd`);
    } else {
      const { systemdUnits } = await import('../../lib/schedule/systemd.js');
      const units = systemdUnits(plan);
      files = [units.service, units.timer];
    }

    let written: string[] | undefined;
    let changed = false;
    if (flags.out !== undefined) {
      // Changed when a file would differ from what --out holds now.
      // Read without following a link, bounded, regular files only: anything else there is "changed".
      const { readTextNoFollow } = await import('../../lib/store/safe-fs.js');
      const { resolve: resolvePath } = await import('node:path');
      for (const f of files) {
        const now = await readTextNoFollow(resolvePath(cwd, flags.out, f.fileName), { maxBytes: 1 << 20 }).catch(() => undefined);
        if (now !== f.text) changed = true;
      }
      if (flags.check) {
        if (flags.json) process.stdout.write(JSON.stringify({ ok: true, check: true, changed, files: files.map((f) => f.fileName) }, null, 2) + '\n');
        else process.stdout.write(changed ? files.map((f) => `would write ${resolvePath(cwd, flags.out!, f.fileName)}\n`).join('') : 'nothing to do: the files are up to date\n');
        return 0;
      }
      const { writeScheduleFiles } = await import('../../lib/schedule/write.js');
      if (changed) written = await writeScheduleFiles(flags.out, files, cwd);
      else written = files.map((f) => resolvePath(cwd, flags.out!, f.fileName));
    }
    const outDir = written ? (await import('node:path')).dirname(written[0]!) : undefined;
    const install = kind === 'cron'
      ? (await import('../../lib/schedule/cron.js')).cronInstallSteps(plan, written?.[0])
      : (await import('../../lib/schedule/systemd.js')).systemdInstallSteps(plan, outDir);

    if (flags.json) {
      const report = {
        ok: true,
        changed,
        kind,
        cluster: plan.cluster,
        name: plan.name,
        at: (await import('../../lib/schedule/clock.js')).formatAt(plan.at),
        within: plan.within,
        command: plan.rotateArgv,
        lock: plan.lockFile,
        ...(kind === 'cron' ? { line, log: plan.log } : { syslogIdentifier: plan.syslogIdentifier }),
        files: files.map((f, i) => ({ name: f.fileName, ...(written ? { path: written[i] } : {}), text: f.text })),
        install,
        warnings: plan.warnings,
      };
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      return 0;
    }
    if (written) for (const p of written) process.stdout.write(`wrote ${p}\n`);
    else process.stdout.write(files.map((f) => f.text).join('\n'));
    for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stderr.write(`\nto install${plan.user === undefined ? '' : ` (runs as ${plan.user})`}:\n${install.map((s) => `  ${s}\n`).join('')}`);
    return 0;
  } catch (e) {
    return reportError(e, { json: Boolean(flags.json) });
  }
}
