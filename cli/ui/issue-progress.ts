// Shows `dbtls issue` as it runs: a listr2 task tree on a terminal (one task per node and client),
// plain lines otherwise (cron, CI, pipes), nothing but the final JSON with --json.
import type { IssueEvent, IssueReport } from '../../lib/issue/issue.js';
import { deferred, type Deferred } from './deferred.js';
import type { OutputMode } from './mode.js';


const ownerKey = (o: { kind: string; name: string }) => `${o.kind === 'node' ? 'node' : 'client'} ${o.name}`;

/** Runs `work` (given the event callback) and shows its progress in the chosen mode. */
export async function withIssueProgress(mode: OutputMode, work: (onEvent: (e: IssueEvent) => void) => Promise<IssueReport>): Promise<IssueReport> {
  if (mode === 'json') return work(() => {});
  if (mode === 'plain') return work(plainLine);
  return withListr(work);
}

function plainLine(e: IssueEvent): void {
  const out = (s: string): void => void process.stdout.write(s + '\n');
  switch (e.type) {
    case 'ca':
      return out(`CA ${e.action}: ${e.subject} (SHA-256 ${e.fingerprint256})`);
    case 'plan':
      return out(e.toIssue.length ? `issuing ${e.toIssue.length}, ${e.unchanged.length} up to date` : `all ${e.unchanged.length} up to date`);
    case 'issued': {
      const i = e.item;
      const detail = i.subject ? ` ${i.subject}${i.sans?.length ? ` [${i.sans.join(', ')}]` : ''} until ${i.notAfter!.slice(0, 10)}` : ' RSA key pair';
      return out(`issued ${i.id} (${i.reason}):${detail}`);
    }
    case 'store':
      return out(`built ${e.store.path} (${e.store.reason})`);
    case 'committed':
      return out(`wrote ${e.files} files`);
  }
}

async function withListr(work: (onEvent: (e: IssueEvent) => void) => Promise<IssueReport>): Promise<IssueReport> {
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
  running.then((r) => { if (!r.changed) committed.resolve(0); }, () => undefined);

  const list = new Listr(
    [
      { title: 'CA', task: async (_ctx, task) => { const e = await ca.promise; task.title = `CA ${e.action}: ${e.subject}`; } },
      {
        title: 'Plan',
        task: async (_ctx, task) => {
          const e = await plan.promise;
          task.title = e.toIssue.length ? `Issuing ${e.toIssue.length} (${e.unchanged.length} up to date)` : `All ${e.unchanged.length} up to date`;
          return task.newListr(
            [...owners.entries()].map(([key, o]) => ({ title: key, task: () => o.done.promise })),
            { concurrent: true, exitOnError: true },
          );
        },
      },
      { title: 'Write', task: async (_ctx, task) => { const n = await committed.promise; task.title = n ? `Wrote ${n} files` : 'Nothing to write'; } },
    ],
    { exitOnError: true, rendererOptions: { collapseSubtasks: false } },
  );
  const [report] = await Promise.all([running, list.run().catch(() => undefined)]);
  return report;
}
