// Shows `dbtls push` as it runs: a listr2 task per node on a terminal (its files as they go),
// one line per change otherwise, nothing but the final JSON with --json.
import type { PushEvent, PushReport } from '../../lib/deliver/push.js';
import { deferred, type Deferred } from './deferred.js';
import type { OutputMode } from './mode.js';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';

function plainLine(e: PushEvent): void {
  if (e.type === 'rollback') process.stdout.write(`${e.node}: ${e.ok ? `rolled back ${e.files.length} file${e.files.length === 1 ? '' : 's'}` : `ROLLBACK FAILED: ${sanitizeForTerminal(e.message ?? '', 1000)}`}\n`);
  if (e.type === 'file' && e.action !== 'unchanged') process.stdout.write(`${e.node}: ${e.action === 'uploaded' ? 'uploaded' : 'would upload'} ${e.remote}\n`);
  if (e.type === 'node-done') {
    const r = e.result;
    process.stdout.write(r.ok ? `${r.node}: ok, ${r.uploaded.length} uploaded, ${r.unchanged.length} unchanged${r.wouldUpload.length ? `, ${r.wouldUpload.length} would change` : ''}\n` : `${r.node}: FAILED: ${sanitizeForTerminal(r.error?.message ?? '', 1000)}\n`);
  }
}

export async function withPushProgress(mode: OutputMode, nodes: string[], work: (onEvent: (e: PushEvent) => void) => Promise<PushReport>): Promise<PushReport> {
  if (mode === 'json') return work(() => {});
  if (mode === 'plain') return work(plainLine);
  const { Listr } = await import('listr2');
  const done = new Map<string, Deferred<string>>(nodes.map((n) => [n, deferred<string>()]));
  const titles = new Map<string, (t: string) => void>();
  const running = work((e) => {
    if (e.type === 'file') titles.get(e.node)?.(`${e.node}: ${e.action} ${e.remote}`);
    if (e.type === 'node-done') {
      const r = e.result;
      const d = done.get(r.node);
      if (r.ok) d?.resolve(`${r.node}: ${r.uploaded.length} uploaded, ${r.unchanged.length} unchanged`);
      else d?.reject(new Error(`${r.node}: ${sanitizeForTerminal(r.error?.message ?? '', 1000)}`));
    }
  });
  running.catch((err) => done.forEach((d) => d.reject(err)));
  const list = new Listr(
    nodes.map((n) => ({
      title: n,
      task: async (_ctx: unknown, task: { title: string }) => {
        titles.set(n, (t) => (task.title = t));
        task.title = await done.get(n)!.promise;
      },
    })),
    { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } },
  );
  const [report] = await Promise.all([running, list.run().catch(() => undefined)]);
  return report;
}
