// `dbtls schedule -i INVENTORY --cron|--systemd`: the cron line, or systemd .service + .timer, that
// runs `dbtls rotate leaf --yes --json` every day under a lock with its output logged, for the user
// to install. Nothing is installed here: the files are printed, or written with --out.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';
import { run } from '../run.js';

export interface ScheduleFlags extends InventoryFlags {
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
    .option('--user <user>', "run as this user (systemd User=; cron: whose crontab); the PKI directory's owner")
    // Not --env-file: Node 20 takes that as its own option even after the script name.
    .option(
      '--environment-file <file>',
      "NAME='value' lines: DBTLS_CA_PASSPHRASE, DBTLS_STOREPASS, DBTLS_SSH_PASSPHRASE",
    )
    .option('--lock <file>', 'the flock file (default <pki>/.dbtls-schedule.lock)')
    .option('--dbtls <path>', "the dbtls to run (default: this node binary + this dbtls's dist/cli/main.js)")
    .option('--out <dir>', 'write the file(s) into this directory (0644, atomically) instead of printing')
    .option('--json', "print a JSON report (the files' text included)")
    .option('--check', 'with --out: change nothing, say whether the files would change (`changed` in --json)')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          [
            'dbtls schedule -i cluster.yml --systemd --user dbtls --environment-file /etc/dbtls/prod.env --out /etc/systemd/system',
            'a systemd timer, installed',
          ],
          ['dbtls schedule -i cluster.yml --cron --at 04:41 --log /var/log/dbtls/prod.log', 'a crontab line'],
          [
            'dbtls schedule -i cluster.yml --cron --dbtls /usr/local/bin/dbtls',
            'run an installed dbtls instead of this checkout',
          ],
        ],
        exitCodes: [
          [0, 'printed (or written with --out)'],
          [1, 'the files could not be written'],
          [
            2,
            'usage or input error (neither or both of --cron/--systemd, bad --within/--at, inventory problems); nothing was written',
          ],
        ],
      }),
    )
    .action((flags: ScheduleFlags) => run('schedule', flags));
}
