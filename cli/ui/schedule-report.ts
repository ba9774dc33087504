// What `dbtls schedule` prints: the file(s) to install (or, with --out, where they were written)
// on stdout; warnings and the install steps on stderr, so `> crontab-snippet` keeps only the file;
// with --json one report, the files' text included.
import { formatAt } from '../../lib/schedule/clock.js';
import type { SchedulePlan } from '../../lib/schedule/plan.js';
import type { OutputMode } from './mode.js';

export interface ScheduleFile {
  fileName: string;
  text: string;
}

export interface ScheduleOutcome {
  plan: SchedulePlan;
  files: ScheduleFile[];
  /** cron: the crontab line. */
  line?: string;
  /** With --out: each file's path there (written now, or already the same). */
  written?: string[];
  changed: boolean;
  /** The commands that install what was printed or written. */
  install: string[];
}

export function printSchedule(o: ScheduleOutcome, mode: OutputMode): void {
  const { plan, files, written } = o;
  if (mode === 'json') {
    const report = {
      ok: true,
      changed: o.changed,
      kind: plan.kind,
      cluster: plan.cluster,
      name: plan.name,
      at: formatAt(plan.at),
      within: plan.within,
      command: plan.rotateArgv,
      lock: plan.lockFile,
      ...(plan.kind === 'cron' ? { line: o.line, log: plan.log } : { syslogIdentifier: plan.syslogIdentifier }),
      files: files.map((f, i) => ({ name: f.fileName, ...(written ? { path: written[i] } : {}), text: f.text })),
      install: o.install,
      warnings: plan.warnings,
    };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  if (written) for (const p of written) process.stdout.write(`wrote ${p}\n`);
  else process.stdout.write(files.map((f) => f.text).join('\n'));
  for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`);
  process.stderr.write(
    `\nto install${plan.user === undefined ? '' : ` (runs as ${plan.user})`}:\n${o.install.map((s) => `  ${s}\n`).join('')}`,
  );
}

/** --out with --check: whether the files there would change; `paths` are where they would go. */
export function printScheduleCheck(files: ScheduleFile[], paths: string[], changed: boolean, mode: OutputMode): void {
  if (mode === 'json')
    process.stdout.write(
      JSON.stringify({ ok: true, check: true, changed, files: files.map((f) => f.fileName) }, null, 2) + '\n',
    );
  else
    process.stdout.write(
      changed ? paths.map((p) => `would write ${p}\n`).join('') : 'nothing to do: the files are up to date\n',
    );
}
