// The work of `dbtls render` (spec: cli/commands/render.ts).
import { runRender } from '../../lib/render/render.js';
import { loadCluster } from '../inventory-options.js';
import type { RenderFlags } from '../commands/render.js';
import { outputMode } from '../ui/mode.js';
import { printRenderReport } from '../ui/render-report.js';
import { VERSION } from '../version.js';

export async function render(flags: RenderFlags): Promise<number> {
  const report = await runRender(await loadCluster(flags), {
    out: flags.out,
    templates: flags.templates,
    nodes: flags.node.length ? flags.node : undefined,
    check: flags.check,
    generator: `dbtls ${VERSION}`,
  });
  printRenderReport(report, outputMode(flags.json), Boolean(flags.check));
  const differs = report.files.some((f) => f.state !== 'unchanged');
  return flags.check && differs ? 1 : 0;
}
