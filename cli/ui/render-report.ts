// What `dbtls render` prints: each file it wrote (or, with --check, a unified diff of each file that
// differs) and a last line that counts them; with --json the report without the file contents.
import { createTwoFilesPatch } from 'diff';
import type { RenderReport } from '../../lib/render/render.js';
import type { OutputMode } from './mode.js';

export function printRenderReport(report: RenderReport, mode: OutputMode, check: boolean): void {
  const out = (s: string): void => void process.stdout.write(s);
  const differing = report.files.filter((f) => f.state !== 'unchanged');
  if (mode === 'json') {
    const files = report.files.map(({ before: _b, after: _a, ...f }) => f);
    const revocation = report.revocation ? { revocation: report.revocation } : {};
    return out(
      JSON.stringify({ ok: true, out: report.out, changed: report.changed, check, files, ...revocation }, null, 2) +
        '\n',
    );
  }
  if (check) {
    for (const f of differing) {
      out(
        createTwoFilesPatch(
          `a/${f.path}`,
          `b/${f.path}`,
          f.before ?? '',
          f.after ?? '',
          f.state === 'new' ? '(missing)' : '(on disk)',
          '(rendered)',
        ),
      );
    }
    return out(
      differing.length
        ? `${differing.length} of ${report.files.length} files differ from what would be rendered in ${report.out}\n`
        : `all ${report.files.length} files up to date in ${report.out}\n`,
    );
  }
  for (const f of differing) out(`${f.state === 'new' ? 'wrote' : 'updated'} ${f.path}\n`);
  for (const r of report.revocation ?? []) out(`revocation on ${r.node}: ${r.note}\n`);
  out(
    differing.length
      ? `${differing.length} written, ${report.files.length - differing.length} up to date in ${report.out}\n`
      : `nothing to do: all ${report.files.length} files up to date in ${report.out}\n`,
  );
}
