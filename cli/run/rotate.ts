// The work of `dbtls rotate leaf|ca|status` (spec: cli/commands/rotate.ts).
import { auditLogPath } from '../../lib/audit/audit-log.js';
import { parseDuration } from '../../lib/check/duration.js';
import { usageError } from '../../lib/errors.js';
import { storepassFromSources } from '../../lib/keystore/passwords.js';
import { rotationStatus, runRotateCa } from '../../lib/rotate/ca.js';
import { dueCertificates, dueNodes, runRotateLeaf } from '../../lib/rotate/leaf.js';
import type { RolloutEvent } from '../../lib/rotate/rollout.js';
import { PHASES } from '../../lib/rotate/state.js';
import type { Cluster } from '../../lib/inventory/model.js';
import type { RotateCaFlags, RotateFlags, RotateLeafFlags, RotateStatusFlags } from '../commands/rotate.js';
import { loadCluster } from '../inventory-options.js';
import { caPassphrase, storepassFlags } from '../secrets.js';
import { transportFrom } from '../transport-options.js';
import { confirm } from '../ui/confirm.js';
import { outputMode, plural, printJson } from '../ui/mode.js';
import { rolloutLines, rotateCaLines, rotateIntermediateLines, withRotateProgress } from '../ui/rotate-progress.js';
import {
  printCaPlan,
  printDue,
  printIntermediateOutcome,
  printLeafOutcome,
  printRotationStatus,
} from '../ui/rotate-report.js';
import { runRotateIntermediate } from '../../lib/rotate/intermediate.js';
import { VERSION } from '../version.js';
import { auditUnless, both, type AuditSink } from '../audit.js';
import { rolloutAudit } from '../audit-events.js';
import { crlSigned } from './revoke.js';

interface Settings {
  cluster: Cluster;
  passphrase?: string;
  storepass?: string;
}

async function settings(flags: RotateFlags): Promise<Settings> {
  const cluster = await loadCluster(flags);
  const passphrase = await caPassphrase(flags.caPassphraseFile);
  const storepass = await storepassFromSources(await storepassFlags({ storepassFile: flags.storepassFile }));
  return { cluster, passphrase, storepass };
}

/** What every roll-out of a rotation takes from the flags: transport, secrets, Tungsten, probes. */
async function rolloutBase(flags: RotateFlags, s: Settings) {
  const t = await transportFrom(flags, Boolean(flags.json));
  return {
    connect: t.connect,
    concurrency: t.concurrency,
    generator: `dbtls ${VERSION}`,
    passphrase: s.passphrase,
    storepass: s.storepass,
    restartTungsten: flags.restartTungsten,
    probeTimeoutMs: flags.probeTimeout * 1000,
    ...(flags.rollback === false ? { rollback: false } : {}),
  };
}

export async function rotateLeaf(flags: RotateLeafFlags): Promise<number> {
  const mode = outputMode(flags.json);
  const withinMs = parseDuration(flags.within);
  const s = await settings(flags);
  const nodes = flags.node.length ? flags.node : undefined;
  const due = await dueCertificates(s.cluster, { withinMs, all: flags.all, nodes });
  if (mode !== 'json') printDue(due, flags.within);
  if (due.length && !flags.check)
    await confirm(flags, `re-issue ${plural(due.length, 'certificate')}, push and reload the nodes`);
  const base = await rolloutBase(flags, s);
  const audit = await auditUnless(flags.check, auditTarget('rotate leaf', s.cluster));
  const onAudit = rolloutAudit(audit);
  const rotate = (onEvent: (e: RolloutEvent) => void) =>
    runRotateLeaf(s.cluster, {
      ...base,
      withinMs,
      all: flags.all,
      nodes,
      check: flags.check,
      due,
      onEvent: both(onEvent, onAudit),
    });
  // Nothing due, or --check: nothing runs, so there is no progress to show.
  const work =
    due.length && !flags.check
      ? withRotateProgress(mode, rolloutLines, dueNodes(due), `re-issue ${plural(due.length, 'certificate')}`, rotate)
      : rotate(() => {});
  const report = await work.finally(() => base.connect.close());
  if (report.crl?.refreshed) crlSigned(audit, report.crl.crl);
  if (!flags.check && (report.due.length || report.crl?.refreshed))
    audit.record('rotated', {
      kind: 'leaf',
      ok: report.ok,
      certificates: report.due.map((d) => d.id),
      nodes: report.nodes,
      ...(report.failed.length ? { failed: report.failed } : {}),
    });
  if (mode === 'json') printJson(report);
  else if ((report.due.length || report.crl?.refreshed) && !flags.check) printLeafOutcome(report);
  return report.ok ? 0 : 1;
}

export async function rotateCa(flags: RotateCaFlags): Promise<number> {
  const mode = outputMode(flags.json);
  const phase = flags.phase;
  const s = await settings(flags);
  const state = await rotationStatus(s.cluster);
  if (flags.check) {
    const next = state?.phase ?? 1;
    const runs = (phase ? [phase] : ([1, 2, 3] as const).filter((p) => p >= next)).map((p) => ({
      phase: p,
      what: PHASES[p],
    }));
    if (phase && phase !== next)
      throw usageError('wrong-phase', `the rotation is at phase ${next}; --phase ${phase} cannot run now`);
    if (mode === 'json') printJson({ ok: true, check: true, changed: true, inProgress: state !== null, runs });
    else printCaPlan(runs);
    return 0;
  }
  await confirm(
    flags,
    state
      ? `resume the CA rotation at phase ${state.phase}`
      : `start a CA rotation of cluster "${s.cluster.cluster}" (phase 1: trust a new CA beside the old)`,
  );
  const base = await rolloutBase(flags, s);
  const onAudit = rolloutAudit(await auditUnless(false, auditTarget('rotate ca', s.cluster)));
  const report = await withRotateProgress(
    mode,
    rotateCaLines,
    s.cluster.nodes.map((n) => n.name),
    'CA rotation',
    (onEvent) => runRotateCa(s.cluster, { ...base, ...(phase ? { phase } : {}), onEvent: both(onEvent, onAudit) }),
  ).finally(() => base.connect.close());
  if (mode === 'json') printJson(report);
  return report.ok ? 0 : 1;
}

export async function rotateIntermediate(flags: RotateFlags): Promise<number> {
  const mode = outputMode(flags.json);
  const s = await settings(flags);
  await confirm(
    flags,
    `have the root sign a new intermediate for cluster "${s.cluster.cluster}", re-issue every leaf, push and reload`,
  );
  const base = await rolloutBase(flags, s);
  const audit: AuditSink = await auditUnless(false, auditTarget('rotate intermediate', s.cluster));
  const onAudit = rolloutAudit(audit);
  const report = await withRotateProgress(
    mode,
    rotateIntermediateLines,
    s.cluster.nodes.map((n) => n.name),
    'intermediate rotation',
    (onEvent) => runRotateIntermediate(s.cluster, { ...base, onEvent: both(onEvent, onAudit) }),
  ).finally(() => base.connect.close());
  audit.record('rotated', {
    kind: 'intermediate',
    ok: report.ok,
    old: report.old,
    new: report.new,
    ...(report.failed.length ? { failed: report.failed } : {}),
  });
  if (mode === 'json') printJson(report);
  else printIntermediateOutcome(report);
  return report.ok ? 0 : 1;
}

const auditTarget = (command: string, cluster: Cluster) => ({
  command,
  path: auditLogPath(cluster.pki),
  inventory: cluster.file,
});

export async function rotateStatus(flags: RotateStatusFlags): Promise<number> {
  const state = await rotationStatus(await loadCluster(flags));
  if (flags.json) printJson({ inProgress: state !== null, ...(state ? { state } : {}) });
  else printRotationStatus(state);
  return 0;
}
