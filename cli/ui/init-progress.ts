// Progress of the wizard's own steps: the SSH connection test (a listr2 task per node on a terminal,
// one line per node otherwise) and rendering the configs. Issue and push use their own renderers.
import type { NodeSpec } from '../../lib/inventory/model.js';
import type { ConnectionResult } from '../../lib/init/host-keys.js';
import type { RenderReport } from '../../lib/render/render.js';
import type { OutputMode } from './mode.js';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';
import { plural } from './mode.js';

const target = (n: NodeSpec) =>
  `${n.ssh.user ?? 'root'}@${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.ssh.port ?? 22}${n.ssh.proxyJump ? ` via ${n.ssh.proxyJump.host}` : ''}`;

function outcome(r: ConnectionResult): string {
  switch (r.status) {
    case 'ok':
      return 'connected and logged in';
    case 'unknown-key':
      return `unknown host key ${r.offered.fingerprint}${r.offered.bastion ? ` (bastion ${r.offered.bastion})` : ''}`;
    default:
      // An SSH error can quote the server (a banner, a disconnect reason): one clean, bounded line.
      return sanitizeForTerminal(r.message, 1000);
  }
}

export async function withConnectionProgress(
  mode: OutputMode,
  nodes: NodeSpec[],
  test: (n: NodeSpec) => Promise<ConnectionResult>,
): Promise<ConnectionResult[]> {
  if (mode !== 'tty') {
    return Promise.all(
      nodes.map(async (n) => {
        const r = await test(n);
        if (mode === 'plain') process.stdout.write(`connection ${n.name} (${target(n)}): ${outcome(r)}\n`);
        return r;
      }),
    );
  }
  const { Listr } = await import('listr2');
  const results: ConnectionResult[] = new Array(nodes.length);
  const list = new Listr(
    nodes.map((n, i) => ({
      title: `${n.name}: ${target(n)}`,
      task: async (_ctx: unknown, task: { title: string; skip(message?: string): void }) => {
        const r = (results[i] = await test(n));
        if (r.status === 'ok') task.title = `${n.name}: ${target(n)}: ${outcome(r)}`;
        else if (r.status === 'unknown-key') task.skip(`${n.name}: ${outcome(r)}`);
        else throw new Error(`${n.name}: ${outcome(r)}`);
      },
    })),
    // Ctrl-C is the wizard's to handle (exit 130, and what was written), not listr's.
    {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      rendererOptions: { collapseErrors: false, collapseSkips: false },
    },
  );
  await list.run().catch(() => undefined);
  return results;
}

export async function withRenderProgress(mode: OutputMode, work: () => Promise<RenderReport>): Promise<RenderReport> {
  const describe = (r: RenderReport) => {
    const written = r.files.filter((f) => f.state !== 'unchanged').length;
    return `rendered ${plural(r.files.length, 'config file')} (${written} written) in ${r.out}`;
  };
  if (mode !== 'tty') {
    const r = await work();
    if (mode === 'plain') process.stdout.write(describe(r) + '\n');
    return r;
  }
  const { Listr } = await import('listr2');
  let report: RenderReport | undefined;
  await new Listr(
    [
      {
        title: 'Render configs',
        task: async (_ctx: unknown, task: { title: string }) => {
          report = await work();
          task.title = describe(report).replace(/^r/, 'R');
        },
      },
    ],
    {
      exitOnError: true,
    },
  ).run();
  return report!;
}
