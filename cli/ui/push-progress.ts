// Shows `dbtls push` as it runs: a listr2 task per node on a terminal (its files as they go),
// one line per change otherwise, nothing but the final JSON with --json.
import type { PushEvent, PushReport } from '../../lib/deliver/push.js';
import { lineOf, printLines, type Formatters } from './formatters.js';
import { plural, type OutputMode } from './mode.js';
import { withNodeTasks } from './node-tasks.js';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';

/** What `push` shows of each event: a plain line, and on a terminal its node's task title. */
export const pushLines: Formatters<PushEvent> = {
  'node-start': () => undefined,
  file: (e) =>
    e.action === 'unchanged'
      ? undefined
      : `${e.node}: ${e.action === 'uploaded' ? 'uploaded' : 'would upload'} ${e.remote}`,
  reload: () => undefined,
  rollback: rollbackLine,
  'node-done': ({ result: r }) =>
    r.ok
      ? `${r.node}: ok, ${r.uploaded.length} uploaded, ${r.unchanged.length} unchanged${r.wouldUpload.length ? `, ${r.wouldUpload.length} would change` : ''}`
      : nodeFailedLine(r),
};

/** A node's files put back after a failed reload (or probe), or that putting back failing. */
export function rollbackLine(e: Extract<PushEvent, { type: 'rollback' }>): string {
  return `${e.node}: ${e.ok ? `rolled back ${plural(e.files.length, 'file')}` : `ROLLBACK FAILED: ${sanitizeForTerminal(e.message ?? '', 1000)}`}`;
}

export function nodeFailedLine(r: Extract<PushEvent, { type: 'node-done' }>['result']): string {
  return `${r.node}: FAILED: ${sanitizeForTerminal(r.error?.message ?? '', 1000)}`;
}

/** The node a push event is about. */
export const pushNodeOf = (e: PushEvent): string => (e.type === 'node-done' ? e.result.node : e.node);

/** A node's push ends with its node-done event. */
export const pushEnd = (e: PushEvent): 'ok' | 'failed' | undefined =>
  e.type === 'node-done' ? (e.result.ok ? 'ok' : 'failed') : undefined;

export async function withPushProgress(
  mode: OutputMode,
  nodes: string[],
  work: (onEvent: (e: PushEvent) => void) => Promise<PushReport>,
): Promise<PushReport> {
  if (mode === 'json') return work(() => {});
  if (mode === 'plain') return work(printLines(pushLines));
  return withNodeTasks(nodes, { nodeOf: pushNodeOf, line: (e) => lineOf(pushLines, e), end: pushEnd }, work);
}
