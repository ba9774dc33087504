// What `dbtls rotate` prints around a roll-out: what is due, the last line of a leaf rotation, the
// phases `rotate ca --check` would run, and where a CA rotation stands. --json prints the reports.
import type { DueCertificate, RotateLeafReport } from '../../lib/rotate/leaf.js';
import type { RotateIntermediateReport } from '../../lib/rotate/intermediate.js';
import { PHASES, type Phase, type RotationState } from '../../lib/rotate/state.js';
import { plural } from './mode.js';

const out = (line: string): void => void process.stdout.write(line + '\n');

export function printDue(due: DueCertificate[], within: string): void {
  // The line says "due:" already; an expiring certificate's reason ("due: expires in 3 days") would say it twice.
  for (const d of due)
    out(`due: ${d.id}${d.notAfter ? ` (until ${d.notAfter})` : ''}: ${d.reason.replace(/^due: /, '')}`);
  if (!due.length) out(`nothing due within ${within}`);
}

/** The last line of a leaf rotation that had something to do. */
export function printLeafOutcome(report: RotateLeafReport): void {
  if (report.crl?.refreshed)
    out(
      `${report.crl.crl.path}: signed again (CRL ${report.crl.crl.number}, next update ${report.crl.crl.nextUpdate})`,
    );
  out(
    !report.ok
      ? `FAILED on ${report.failed.join(', ')}`
      : report.due.length
        ? `rotated ${plural(report.due.length, 'certificate')} on ${plural(report.nodes.length, 'node')}`
        : `delivered the CRL to ${plural(report.nodes.length, 'node')}`,
  );
}

/** The last line of an intermediate rotation. */
export function printIntermediateOutcome(report: RotateIntermediateReport): void {
  out(
    report.ok
      ? `intermediate ${report.new.serial} (until ${report.new.notAfter}) signs ${plural(report.rollout.issue.issued.length, 'leaf', 'leaves')} on ${plural(report.rollout.push.nodes.length, 'node')}; the old one is in ${report.archived}`
      : `FAILED on ${report.failed.join(', ')}; the new intermediate is in place: run dbtls rotate leaf --all to finish`,
  );
}

export function printCaPlan(runs: Array<{ phase: Phase; what: string }>): void {
  for (const r of runs) out(`would run phase ${r.phase}: ${r.what}`);
}

export function printRotationStatus(state: RotationState | null): void {
  if (!state) return out('no CA rotation in progress');
  out(`CA rotation started ${state.startedAt}: old CA ${state.oldCa.serial} → new CA ${state.newCa.serial}`);
  for (const d of state.done) out(`  phase ${d.phase} done ${d.at}`);
  out(`  next: phase ${state.phase}: ${PHASES[state.phase]}`);
}
