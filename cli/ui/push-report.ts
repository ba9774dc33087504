// What `dbtls push` and `dbtls apply` print when they are done (their progress: push-progress.ts):
// a line that counts the nodes and uploads, or names the failed nodes; apply's line for its issue and
// render steps, and, with --check, where it stops; with --json one report.
import type { IssueReport } from '../../lib/issue/issue.js';
import type { PushReport } from '../../lib/deliver/push.js';
import { plural, type OutputMode } from './mode.js';

/** What apply did before the push: in its JSON report as `issue` and `render`. */
export interface ApplySteps {
  issue?: { changed: boolean; issued: number; stores: number };
  render?: { changed: boolean; written?: number };
}

const out = (s: string): void => void process.stdout.write(s);
const json = (report: object): void => out(JSON.stringify(report, null, 2) + '\n');

/** "3 nodes ok, 30 files uploaded" + note, or "1 of 3 nodes failed: db2"; push's and init's last line. */
export function pushSummaryLine(report: PushReport, note = ''): string {
  if (!report.ok)
    return `${report.failed.length} of ${report.nodes.length} nodes failed: ${report.failed.join(', ')}\n`;
  const uploaded = report.nodes.reduce((n, r) => n + r.uploaded.length, 0);
  return `${plural(report.nodes.length, 'node')} ok, ${plural(uploaded, 'file')} uploaded${note}\n`;
}

export function printPushReport(report: PushReport, mode: OutputMode, check: boolean, steps: ApplySteps = {}): void {
  if (mode === 'json') {
    const changed = report.changed || Boolean(steps.issue?.changed) || Boolean(steps.render?.changed);
    return json({
      ok: report.ok,
      ...(check ? { check: true } : {}),
      changed,
      failed: report.failed,
      ...steps,
      nodes: report.nodes,
    });
  }
  const would = report.nodes.reduce((n, r) => n + r.wouldUpload.length, 0);
  out(
    pushSummaryLine(
      report,
      !check
        ? ''
        : would
          ? ` (check: ${plural(would, 'file')} would change; nothing written)`
          : ' (check: nothing would change)',
    ),
  );
}

/** apply --check when issue would change something: what would be rendered and pushed depends on it. */
export function printApplyWouldIssue(issued: IssueReport, steps: ApplySteps, mode: OutputMode): void {
  if (mode === 'json')
    return json({ ok: true, check: true, changed: true, failed: [], ...steps, render: { changed: true }, nodes: [] });
  out(
    `check: would issue ${issued.issued.length}${issued.ca.action === 'created' ? ' (and a new CA)' : ''}, build ${issued.stores.length} stores, then render and push; nothing written\n`,
  );
}

/** apply --check when render would write files: the push would send them. */
export function printApplyWouldRender(steps: ApplySteps, mode: OutputMode): void {
  if (mode === 'json') return json({ ok: true, check: true, changed: true, failed: [], ...steps, nodes: [] });
  out(`check: would render ${steps.render?.written} files, then push; nothing written\n`);
}

/** apply's line before the push starts (not with --json). */
export function printApplySteps(issued: IssueReport, steps: ApplySteps, mode: OutputMode, check: boolean): void {
  if (mode === 'json') return;
  out(
    check
      ? 'check: certificates and configs up to date\n'
      : `issue: ${issued.issued.length} issued, ${issued.stores.length} stores built; render: ${steps.render?.written} written\n`,
  );
}
