// The work of `dbtls push` (spec: cli/commands/push.ts), and the delivery `dbtls apply` ends with
// (cli/run/apply.ts).
import { auditLogPath } from '../../lib/audit/audit-log.js';
import { join } from 'node:path';
import { usageError } from '../../lib/errors.js';
import { runPush, type ReloadPolicy } from '../../lib/deliver/push.js';
import { dest as destRule } from '../../lib/inventory/rules.js';
import type { Cluster } from '../../lib/inventory/model.js';
import type { PushFlags } from '../commands/push.js';
import { checkInputFile } from '../input-files.js';
import { loadCluster } from '../inventory-options.js';
import { transportFrom, type Transport } from '../transport-options.js';
import { outputMode } from '../ui/mode.js';
import { withPushProgress } from '../ui/push-progress.js';
import { printPushReport, type ApplySteps } from '../ui/push-report.js';
import { auditUnless, both, type AuditSink } from '../audit.js';
import { pushAudit } from '../audit-events.js';

export async function push(flags: PushFlags): Promise<number> {
  return deliver(flags, await preparePush(flags, 'push'));
}

export interface PreparedPush {
  transport: Transport;
  cluster: Cluster;
  audit: AuditSink;
}

/** Every flag is checked before anything is issued or sent; then the inventory is read. */
export async function preparePush(flags: PushFlags, command: 'push' | 'apply'): Promise<PreparedPush> {
  if (!['changed', 'always', 'never'].includes(flags.reload))
    throw usageError('bad-reload', `--reload must be changed, always or never, got "${flags.reload}"`);
  const transport = await transportFrom(flags, Boolean(flags.json));
  const files = flags.files ?? [];
  if (files.length && !flags.dest) throw usageError('files-dest', '--files needs --dest');
  if (flags.dest && !files.length) throw usageError('files-dest', '--dest goes with --files');
  const cluster = await loadCluster(flags);
  const audit = await auditUnless(flags.check, { command, path: auditLogPath(cluster.pki), inventory: cluster.file });
  return { transport, cluster, audit };
}

/** Pushes every chosen node and prints the report (with apply's steps before it); the exit status. */
export async function deliver(
  flags: PushFlags,
  { transport: { connect, concurrency }, cluster, audit }: PreparedPush,
  steps: ApplySteps = {},
): Promise<number> {
  const files = flags.files?.length ? await localFiles(flags.files, flags.dest!) : undefined;
  const mode = outputMode(flags.json);
  const chosen = flags.node.length ? flags.node : cluster.nodes.map((n) => n.name);
  const report = await withPushProgress(mode, chosen, (onEvent) =>
    runPush(
      cluster,
      {
        nodes: flags.node.length ? flags.node : undefined,
        check: flags.check,
        concurrency,
        renderedDir: join(cluster.pki, 'rendered'),
        reload: flags.reload as ReloadPolicy,
        restartTungsten: flags.restartTungsten,
        ...(flags.rollback === false ? { rollback: false } : {}),
        ...(files ? { files } : {}),
      },
      connect,
      both(onEvent, pushAudit(audit)),
    ),
  ).finally(() => connect.close());
  printPushReport(report, mode, Boolean(flags.check), steps);
  return report.ok ? 0 : 1;
}

/** --files and --dest: the local files to copy, each a file that is there now. */
async function localFiles(patterns: string[], dest: string): Promise<{ paths: string[]; dest: string }> {
  const why = destRule(dest);
  if (why) throw usageError('bad-dest', `--dest ${why}`);
  // Loaded only with --files: the pattern matcher is needed by no other push.
  const { expandFiles } = await import('../../lib/deliver/glob.js');
  // Each source must be a file that is there now, and each pattern must match one: a usage
  // error naming it, not an ENOENT mid-push or a silent no-op.
  const paths: string[] = [];
  for (const pattern of patterns) {
    const got = await expandFiles([pattern]);
    if (!got.length) throw usageError('files-none', `--files ${pattern}: matches no file`);
    paths.push(...got);
  }
  for (const p of paths) checkInputFile('--files', p);
  return { paths, dest };
}
