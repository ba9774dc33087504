// Per-node work on a terminal: one listr2 task per node, whose title is the line of that node's
// latest event and which ends ok or failed — push, rotate's push/reload/probe and `check --live` all
// show their nodes this way. An optional first task follows the events about no single node (the
// issue before a push, a rotation's phases). Plain and JSON runs never come here.
import { deferred, type Deferred } from './deferred.js';

export interface NodeView<E> {
  /** The node an event is about; undefined: the run as a whole (shown on the lead task, if any). */
  nodeOf(e: E): string | undefined;
  /** The event's line (its formatter table's), which becomes its task's title; undefined: the title stays. */
  line(e: E): string | undefined;
  /** Whether this event ends its node's task, and how; undefined: not yet (a task still open when the work ends, ends ok). */
  end?(e: E): 'ok' | 'failed' | undefined;
  /** The lead task's first title; without it there is no lead task. */
  lead?: string;
}

interface NodeTask {
  title: string;
  setTitle?: (t: string) => void;
  done: Deferred<void>;
  ended: boolean;
}

/** Runs `work` (given the event callback) under a live task list of `nodes`; resolves with the work's result. */
export async function withNodeTasks<E, R>(
  nodes: string[],
  view: NodeView<E>,
  work: (onEvent: (e: E) => void) => Promise<R>,
): Promise<R> {
  // listr2 and its renderer load only here, on a terminal: cron, CI and --json runs never need them.
  const { Listr } = await import('listr2');
  const make = (title: string): NodeTask => ({ title, done: deferred<void>(), ended: false });
  const lead = view.lead === undefined ? undefined : make(view.lead);
  const tasks = new Map(nodes.map((n) => [n, make(n)]));
  const retitle = (t: NodeTask, title: string) => {
    t.title = title;
    t.setTitle?.(title);
  };
  const finish = (t: NodeTask, how: 'ok' | 'failed') => {
    if (t.ended) return;
    t.ended = true;
    if (how === 'ok') t.done.resolve();
    else t.done.reject(new Error(t.title));
  };

  const running = work((e) => {
    const node = view.nodeOf(e);
    const t = node === undefined ? lead : tasks.get(node);
    if (!t || t.ended) return;
    const line = view.line(e);
    if (line !== undefined) retitle(t, line);
    const how = node === undefined ? undefined : view.end?.(e);
    if (how) finish(t, how);
  });
  const all = [...(lead ? [lead] : []), ...tasks.values()];
  // The work's end ends every task still open: ok if it succeeded, failed with its error if it threw.
  running.then(
    () => all.forEach((t) => finish(t, 'ok')),
    (err: unknown) =>
      all.forEach((t) => {
        if (!t.ended) {
          t.ended = true;
          t.done.reject(err);
        }
      }),
  );

  const list = new Listr(
    all.map((t) => ({
      title: t.title,
      task: async (_ctx: unknown, task: { title: string }) => {
        t.setTitle = (title) => (task.title = title);
        task.title = t.title;
        await t.done.promise;
        task.title = t.title;
      },
    })),
    { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } },
  );
  const [result] = await Promise.all([running, list.run().catch(() => undefined)]);
  return result;
}
