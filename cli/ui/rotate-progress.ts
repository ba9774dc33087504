// Shows a rotation as it runs: the issue's lines, then each node's reload, roll-back and probe as
// they happen (plain lines), or a task per node under a lead task that follows the issue and the
// phases (a terminal); nothing but the final JSON with --json.
import type { PushEvent } from '../../lib/deliver/push.js';
import { liveFailed, type ProbeEvent } from '../../lib/check/live.js';
import type { RolloutEvent } from '../../lib/rotate/rollout.js';
import type { RotateCaEvent } from '../../lib/rotate/ca.js';
import type { RotateIntermediateEvent } from '../../lib/rotate/intermediate.js';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';
import { lineOf, printLines, type Formatters } from './formatters.js';
import { issueLines } from './issue-progress.js';
import type { OutputMode } from './mode.js';
import { withNodeTasks } from './node-tasks.js';
import { nodeFailedLine, pushNodeOf, rollbackLine } from './push-progress.js';

/** A rotation shows each node's reload and what went wrong, not every file (`push` does that). */
export const rotatePushLines: Formatters<PushEvent> = {
  'node-start': () => undefined,
  file: () => undefined,
  reload: (e) =>
    `${e.node}: reload ${e.result.status}: ${e.result.what}${e.result.message ? `: ${sanitizeForTerminal(e.result.message, 1000)}` : ''}`,
  rollback: rollbackLine,
  'node-done': (e) => (e.result.ok ? undefined : nodeFailedLine(e.result)),
};

/** Each node's probe right after its reload: what it serves, or why it was not probed or failed. */
export const rotateProbeLines: Formatters<ProbeEvent> = {
  'probe-start': () => undefined,
  'probe-done': ({ result: l }) => {
    const what = l.served ? `serves serial ${l.served.serialHex}${l.tls ? ` (${l.tls.protocol})` : ''}` : '';
    return `${l.node}${l.channel ? ` ${l.channel}` : ''}: live ${l.status}${what ? `, ${what}` : ''}${l.problem && l.status !== 'ok' ? `: ${sanitizeForTerminal(l.problem, 1000)}` : ''}`;
  },
};

export const rolloutLines: Formatters<RolloutEvent> = {
  issue: (e) => lineOf(issueLines, e.event),
  render: () => undefined,
  push: (e) => lineOf(rotatePushLines, e.event),
  'probe-start': (e) => lineOf(rotateProbeLines, e),
  'probe-done': (e) => lineOf(rotateProbeLines, e),
};

export const rotateCaLines: Formatters<RotateCaEvent> = {
  ...rolloutLines,
  'phase-start': (e) => `phase ${e.phase}: ${e.what}`,
  pki: (e) => `phase ${e.phase}: ${e.message}`,
  'phase-done': (e) => `phase ${e.phase}: done`,
  'phase-failed': (e) => `phase ${e.phase}: FAILED on ${e.report.failed.join(', ')}; run again to resume it`,
  complete: (e) => `rotation complete; the old CA is in ${e.archived}`,
};

export const rotateIntermediateLines: Formatters<RotateIntermediateEvent> = {
  ...rolloutLines,
  pki: (e) => e.message,
};

type AnyRotateEvent = RotateCaEvent | RotateIntermediateEvent;

/** The node an event of a rotation is about (undefined: the issue, the render, a phase). */
function nodeOf(e: AnyRotateEvent): string | undefined {
  if (e.type === 'push') return pushNodeOf(e.event);
  if (e.type === 'probe-start') return e.node;
  if (e.type === 'probe-done') return e.result.node;
  return undefined;
}

/** A node's task ends failed with its push or its probe; otherwise it stays open to the rotation's end (a CA rotation comes back to it each phase). */
function end(e: AnyRotateEvent): 'failed' | undefined {
  if (e.type === 'push' && e.event.type === 'node-done' && !e.event.result.ok) return 'failed';
  if (e.type === 'probe-done' && liveFailed(e.result)) return 'failed';
  return undefined;
}

/**
 * Runs a rotation (given the event callback) and shows it in the chosen mode. `table` is the
 * rotation's own (leaf: rolloutLines, CA: rotateCaLines); `lead` is the first task's title on a terminal.
 */
export async function withRotateProgress<E extends AnyRotateEvent, R>(
  mode: OutputMode,
  table: Formatters<E>,
  nodes: string[],
  lead: string,
  work: (onEvent: (e: E) => void) => Promise<R>,
): Promise<R> {
  if (mode === 'json') return work(() => {});
  if (mode === 'plain') return work(printLines(table));
  return withNodeTasks<E, R>(nodes, { nodeOf, line: (e) => lineOf(table, e), end, lead }, work);
}
