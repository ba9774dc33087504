// Shows `dbtls issue` as it runs: a listr2 task tree on a terminal (one task per node and client),
// plain lines otherwise (cron, CI, pipes), nothing but the final JSON with --json.
import type { IssueEvent, IssueReport } from '../../lib/issue/issue.js';
import { deferred, type Deferred } from './deferred.js';
import { printLines, type Formatters } from './formatters.js';
import type { OutputMode } from './mode.js';

const ownerKey = (o: { kind: string; name: string }) => `${o.kind === 'node' ? 'node' : 'client'} ${o.name}`;

/** Runs `work` (given the event callback) and shows its progress in the chosen mode. */
export async function withIssueProgress(
  mode: OutputMode,
  work: (onEvent: (e: IssueEvent) => void) => Promise<IssueReport>,
): Promise<IssueReport> {
  if (mode === 'json') return work(() => {});
  if (mode === 'plain') return work(printLines(issueLines));
  return withListr(work);
}

/** What each issue event shows: a plain line, and (for `rotate`) the title of its first task. */
export const issueLines: Formatters<IssueEvent> = {
  ca: (e) => `CA ${e.action}: ${e.subject} (SHA-256 ${e.fingerprint256})`,
  plan: (e) =>
    e.toIssue.length
      ? `issuing ${e.toIssue.length}, ${e.unchanged.length} up to date`
      : `all ${e.unchanged.length} up to date`,
  issued: ({ item: i }) => {
    const detail = i.subject
      ? ` ${i.subject}${i.sans?.length ? ` [${i.sans.join(', ')}]` : ''} until ${i.notAfter!.slice(0, 10)}`
      : ' RSA key pair';
    return `issued ${i.id} (${i.reason}):${detail}`;
  },
  store: (e) => `built ${e.store.path} (${e.store.reason})`,
  committed: (e) => `wrote ${e.files} files`,
};

async function withListr(work: (onEvent: (e: IssueEvent) => void) => Promise<IssueReport>): Promise<IssueReport> {
  // listr2 and its renderer load only on a terminal: cron, CI and --json runs never need them.
  const { Listr } = await import('listr2');
  const ca = deferred<Extract<IssueEvent, { type: 'ca' }>>();
  const plan = deferred<Extract<IssueEvent, { type: 'plan' }>>();
  const committed = deferred<number>();
  const owners = new Map<string, { left: number; done: Deferred<void> }>();

  const running = work((e) => {
    if (e.type === 'ca') ca.resolve(e);
    else if (e.type === 'plan') {
      for (const item of e.toIssue) {
        const key = ownerKey(item.owner);
        const o = owners.get(key) ?? { left: 0, done: deferred<void>() };
        o.left++;
        owners.set(key, o);
      }
      plan.resolve(e);
    } else if (e.type === 'issued') {
      const o = owners.get(ownerKey(e.item.owner));
      if (o && --o.left === 0) o.done.resolve();
    } else if (e.type === 'committed') committed.resolve(e.files);
  });
  // A failure anywhere ends every task that is still waiting.
  running.catch((err) => {
    for (const d of [ca, plan, committed, ...[...owners.values()].map((o) => o.done)]) d.reject(err);
  });
  // Nothing to write ends the run without a 'committed' event.
  running.then(
    (r) => {
      if (!r.changed) committed.resolve(0);
    },
    () => undefined,
  );

  const list = new Listr(
    [
      {
        title: 'CA',
        task: async (_ctx, task) => {
          const e = await ca.promise;
          task.title = `CA ${e.action}: ${e.subject}`;
        },
      },
      {
        title: 'Plan',
        task: async (_ctx, task) => {
          const e = await plan.promise;
          task.title = e.toIssue.length
            ? `Issuing ${e.toIssue.length} (${e.unchanged.length} up to date)`
            : `All ${e.unchanged.length} up to date`;
          return task.newListr(
            [...owners.entries()].map(([key, o]) => ({ title: key, task: () => o.done.promise })),
            { concurrent: true, exitOnError: true },
          );
        },
      },
      {
        title: 'Write',
        task: async (_ctx, task) => {
          const n = await committed.promise;
          task.title = n ? `Wrote ${n} files` : 'Nothing to write';
        },
      },
    ],
    { exitOnError: true, rendererOptions: { collapseSubtasks: false } },
  );
  const [report] = await Promise.all([running, list.run().catch(() => undefined)]);
  return report;
}
