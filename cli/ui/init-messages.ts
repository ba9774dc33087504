// The lines `dbtls init` prints between its steps (the review and the summary: init-summary.ts;
// the progress: init-progress.ts, issue-progress.ts, push-progress.ts).
import { writeSync } from 'node:fs';
import type { PushReport } from '../../lib/deliver/push.js';
import { plural, type OutputMode } from './mode.js';
import { pushSummaryLine } from './push-report.js';

/** Where the run was when it was interrupted: what is written decides what the message says. */
export type InitPhase = 'asking' | 'writing' | 'written';

const INTERRUPTED: Record<InitPhase, string> = {
  asking: 'interrupted; nothing was written',
  writing:
    'interrupted while writing; run dbtls init (or dbtls apply) again to finish: the PKI directory completes or undoes a half-done write',
  written: 'interrupted; the inventory and certificates are written, nothing was pushed',
};

const out = (s: string): void => void process.stdout.write(s);

/** Ctrl-C at a question. */
export function printInterrupted(phase: InitPhase): void {
  process.stderr.write(`dbtls init: ${INTERRUPTED[phase]}\n`);
}

/** Ctrl-C outside a question (a signal): written to fd 2 directly, as listr2 holds back process.stderr while it draws. */
export function printInterruptedNow(phase: InitPhase): void {
  writeSync(2, `\ndbtls init: ${INTERRUPTED[phase]}\n`);
}

export function printTestingSsh(mode: OutputMode, nodes: number): void {
  if (mode !== 'json') out(`\nTesting SSH to ${plural(nodes, 'node')}:\n`);
}

export function printStoppedAtReview(): void {
  process.stderr.write('dbtls init: stopped at the review; nothing was written\n');
}

export function printWrote(inventory: string): void {
  out(`\nWrote ${inventory}\n`);
}

/** The push question: which nodes, and which are left out because their connection test failed. */
export function pushQuestion(ready: string[], unreachable: string[]): string {
  const which = unreachable.length
    ? `${ready.join(', ')} (not ${unreachable.join(', ')}: the connection test failed)`
    : `the ${plural(ready.length, 'node')}`;
  return `Push the files to ${which} now?`;
}

export function printNotPushed(apply: string): void {
  out(`\nNot pushed. To deliver the files (and reload TLS on the servers): ${apply}\n`);
}

export function printPushing(nodes: string[]): void {
  out(`\nPushing to ${nodes.join(', ')}:\n`);
}

/** After the push: its count, then what is left to do. localRoot: shown when local nodes were pushed to. */
export function printPushed(report: PushReport, localRoot: string | undefined, left: string[], apply: string): void {
  out(pushSummaryLine(report, localRoot === undefined ? '' : ` (local nodes under ${localRoot})`));
  out(
    left.length
      ? `Not delivered to ${left.join(', ')}: fix their SSH access, then run ${apply}\n`
      : `Next: include the rendered configs from each server's own config, then run ${apply} to reload TLS (and after every change).\n`,
  );
}
