// `dbtls rotate leaf|ca|status -i INVENTORY`: renew certificates on a live cluster — issue, push,
// reload, probe — and the three-phase CA rotation, resumable from its state in the PKI directory.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { collect, duration, GROUP, seconds } from '../options.js';
import { reportError } from '../report-error.js';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';
import { addTransportOptions, type TransportFlags } from '../transport-options.js';
import { VERSION } from '../version.js';
import type { RolloutReport } from '../../lib/rotate/rollout.js';
import type { PushEvent } from '../../lib/deliver/push.js';

interface RotateFlags extends InventoryFlags, TransportFlags {
  yes?: boolean;
  json?: boolean;
  caPassphraseFile?: string;
  storepassFile?: string;
  restartTungsten?: boolean;
  /** seconds */
  probeTimeout: number;
}


const EXIT_CODES: Array<[number, string]> = [
  [0, 'done: every node took its files, reloaded, and serves what the manifest says (or nothing was due)'],
  [1, 'a node failed to take its files, to reload, or still serves another certificate (named in the report)'],
  [2, 'usage or input error, or no --yes without a terminal; nothing was changed'],
];

function common(cmd: Command): Command {
  return addTransportOptions(addInventoryOptions(cmd))
    .option('--yes', 'do not ask for confirmation (needed without a terminal: cron, Ansible)')
    .optionsGroup(GROUP.output)
    .option('--json', 'print a JSON report')
    .optionsGroup(GROUP.secrets)
    .option('--ca-passphrase-file <file>', 'passphrase of the CA key (default: $DBTLS_CA_PASSPHRASE)')
    .option('--storepass-file <file>', 'password of the Java stores (default: $DBTLS_STOREPASS, else the kept one)')
    .optionsGroup('')
    .option('--restart-tungsten', 'restart Tungsten on its nodes (stopall/startall) instead of only reporting it is required')
    .option('--probe-timeout <seconds>', 'for each probe of a node after its reload', seconds(600), 10)
    .option('--no-rollback', 'when a node\'s reload or probe fails, leave the new files there (default: put the previous ones back)');
}

export function registerRotate(program: Command): void {
  const rotate = program
    .command('rotate')
    .summary('renew leaf certificates or the CA on a live cluster: issue, push, reload, probe')
    .description('Renews certificates on a running cluster without downtime: servers reload TLS in place and are probed afterwards.')
    .addHelpText('after', helpSections({
      examples: [
        ['dbtls rotate leaf -i cluster.yml --check', 'which leaf certificates are due'],
        ['dbtls rotate leaf -i cluster.yml --within 30d --yes', 'renew what expires within 30 days, push, reload, probe'],
        ['dbtls rotate ca -i cluster.yml --yes', 'replace the CA in three phases'],
        ['dbtls rotate status -i cluster.yml', 'where a CA rotation stands'],
      ],
      exitCodes: EXIT_CODES,
    }));

  common(
    rotate
      .command('leaf')
      .summary('re-issue the leaves that expire within the window, push, reload, probe')
      .description('Re-issues the leaf certificates that expire within --within (or all with --all), pushes them, reloads TLS on each node and probes it.')
      .option('--within <duration>', 'renew what expires within this window (30d, 12h, 2w)', duration, '30d')
      .option('--all', 'renew every leaf, due or not')
      .option('--node <name>', 'only this node\'s certificates (repeatable)', collect, [] as string[])
      .option('--check', 'show what is due; change nothing'),
  )
    .addHelpText('after', helpSections({
      examples: [
        ['dbtls rotate leaf -i cluster.yml --within 30d --yes', 'what cron runs (see dbtls schedule)'],
        ['dbtls rotate leaf -i cluster.yml --check', 'what is due'],
        ['dbtls rotate leaf -i cluster.yml --node db3 --all --yes', 'one node, now'],
      ],
      exitCodes: EXIT_CODES,
    }))
    .action(async (flags: RotateFlags & { within: string; all?: boolean; node: string[]; check?: boolean }) => {
      process.exitCode = await leafCommand(flags);
    });

  common(
    rotate
      .command('ca')
      .summary('replace the CA in three phases: trust both, swap leaves, drop the old')
      .description('Replaces the CA in three phases (trust both CAs, swap the leaves to the new CA, drop the old CA), resumable from its state in the PKI directory.')
      .option('--phase <n>', 'run only this phase (it must be the one the rotation is at)')
      .option('--check', 'change nothing: say which phase would run and what it does'),
  )
    .addHelpText('after', helpSections({
      examples: [
        ['dbtls rotate ca -i cluster.yml --yes', 'all three phases (or the rest of an interrupted rotation)'],
        ['dbtls rotate ca -i cluster.yml --phase 1 --yes', 'one phase at a time, e.g. a day apart'],
        ['dbtls rotate status -i cluster.yml', 'where it stands'],
      ],
      exitCodes: EXIT_CODES,
    }))
    .action(async (flags: RotateFlags & { phase?: string; check?: boolean }) => {
      process.exitCode = await caCommand(flags);
    });

  addInventoryOptions(rotate.command('status').summary('where a CA rotation stands').description('Says whether a CA rotation is under way, which phases are done and which comes next.'))
    .option('--json', 'print JSON')
    .addHelpText('after', helpSections({
      examples: [
        ['dbtls rotate status -i cluster.yml', 'the phase a CA rotation is at, or that none is under way'],
        ['dbtls rotate status -i cluster.yml --json', 'the same, for a script'],
      ],
      exitCodes: [
        [0, 'the state was read and printed'],
        [1, 'the PKI directory could not be read'],
        [2, 'usage or input error (inventory problems, a damaged rotation state); nothing was changed'],
      ],
    }))
    .action(async (flags: InventoryFlags & { json?: boolean }) => {
      process.exitCode = await statusCommand(flags);
    });
}

/** Asks on a terminal; without one, --yes is required. */
async function confirm(flags: { yes?: boolean }, question: string): Promise<void> {
  if (flags.yes) return;
  const { usageError } = await import('../../lib/errors.js');
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw usageError('needs-yes', `${question}: pass --yes to go ahead without a terminal`);
  const { confirm: ask } = await import('@inquirer/prompts');
  if (!(await ask({ message: `${question}?`, default: false }))) throw usageError('declined', 'nothing was changed');
}

function pushLine(json: boolean) {
  return (e: PushEvent) => {
    if (json) return;
    if (e.type === 'reload') process.stdout.write(`${e.node}: reload ${e.result.status}: ${e.result.what}${e.result.message ? `: ${sanitizeForTerminal(e.result.message, 1000)}` : ''}\n`);
    if (e.type === 'rollback') process.stdout.write(`${e.node}: ${e.ok ? `rolled back ${e.files.length} file${e.files.length === 1 ? '' : 's'}` : `ROLLBACK FAILED: ${sanitizeForTerminal(e.message ?? '', 1000)}`}\n`);
    if (e.type === 'node-done' && !e.result.ok) process.stdout.write(`${e.result.node}: FAILED: ${sanitizeForTerminal(e.result.error?.message ?? '', 1000)}\n`);
  };
}

function printRollout(r: RolloutReport): void {
  for (const l of r.live) {
    const what = l.served ? `serves serial ${l.served.serialHex}${l.tls ? ` (${l.tls.protocol})` : ''}` : '';
    process.stdout.write(`${l.node}: live ${l.status}${what ? `, ${what}` : ''}${l.problem && l.status !== 'ok' ? `: ${sanitizeForTerminal(l.problem, 1000)}` : ''}\n`);
  }
}

async function settings(flags: RotateFlags) {
  const { loadCluster } = await import('../inventory-options.js');
  const cluster = await loadCluster(flags);
  const { caPassphrase } = await import('../secrets.js');
  const { storepassFromSources } = await import('../../lib/keystore/passwords.js');
  const passphrase = await caPassphrase(flags.caPassphraseFile);
  const storepass = await storepassFromSources(await (await import('../secrets.js')).storepassFlags({ storepassFile: flags.storepassFile }));
  return { cluster, passphrase, storepass, probeTimeoutMs: flags.probeTimeout * 1000 };
}

/** What every roll-out of a rotation takes from the flags: transport, secrets, Tungsten, probes, output. */
async function rolloutBase(flags: RotateFlags, s: Awaited<ReturnType<typeof settings>>, json: boolean) {
  const { transportFrom } = await import('../transport-options.js');
  const t = await transportFrom(flags, json);
  return {
    connect: t.connect, concurrency: t.concurrency, generator: `dbtls ${VERSION}`, passphrase: s.passphrase, storepass: s.storepass,
    restartTungsten: flags.restartTungsten, probeTimeoutMs: s.probeTimeoutMs, onPushEvent: pushLine(json),
    ...((flags as { rollback?: boolean }).rollback === false ? { rollback: false } : {}),
  };
}

async function leafCommand(flags: RotateFlags & { within: string; all?: boolean; node: string[]; check?: boolean }): Promise<number> {
  const json = Boolean(flags.json);
  try {
    const { parseDuration } = await import('../../lib/check/duration.js');
    const withinMs = parseDuration(flags.within);
    const s = await settings(flags);
    const { dueCertificates, runRotateLeaf } = await import('../../lib/rotate/leaf.js');
    const nodes = flags.node.length ? flags.node : undefined;
    const due = await dueCertificates(s.cluster, { withinMs, all: flags.all, nodes });
    if (!json) {
      for (const d of due) process.stdout.write(`due: ${d.id}${d.notAfter ? ` (until ${d.notAfter})` : ''}: ${d.reason}\n`);
      if (!due.length) process.stdout.write(`nothing due within ${flags.within}\n`);
    }
    if (due.length && !flags.check) await confirm(flags, `re-issue ${due.length} certificate${due.length === 1 ? '' : 's'}, push and reload the nodes`);
    const base = await rolloutBase(flags, s, json);
    const report = await runRotateLeaf(s.cluster, { ...base, withinMs, all: flags.all, nodes, check: flags.check, due }).finally(() => base.connect.close());
    if (json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else {
      if (report.rollout) printRollout(report.rollout);
      if (report.due.length && !flags.check) process.stdout.write(report.ok ? `rotated ${report.due.length} certificate${report.due.length === 1 ? '' : 's'} on ${report.nodes.length} node${report.nodes.length === 1 ? '' : 's'}\n` : `FAILED on ${report.failed.join(', ')}\n`);
    }
    return report.ok ? 0 : 1;
  } catch (e) {
    return reportError(e, { json });
  }
}

async function caCommand(flags: RotateFlags & { phase?: string; check?: boolean }): Promise<number> {
  const json = Boolean(flags.json);
  try {
    const { usageError } = await import('../../lib/errors.js');
    let phase: 1 | 2 | 3 | undefined;
    if (flags.phase !== undefined) {
      if (!/^[123]$/.test(flags.phase)) throw usageError('bad-phase', `--phase must be 1, 2 or 3, got "${flags.phase}"`);
      phase = Number(flags.phase) as 1 | 2 | 3;
    }
    const s = await settings(flags);
    const { rotationStatus, runRotateCa } = await import('../../lib/rotate/ca.js');
    const state = await rotationStatus(s.cluster);
    if (flags.check) {
      const { PHASES } = await import('../../lib/rotate/state.js');
      const next = state?.phase ?? 1;
      const runs = (phase ? [phase] : ([1, 2, 3] as const).filter((p) => p >= next)).map((p) => ({ phase: p, what: PHASES[p] }));
      if (phase && phase !== next) throw usageError('wrong-phase', `the rotation is at phase ${next}; --phase ${phase} cannot run now`);
      if (json) process.stdout.write(JSON.stringify({ ok: true, check: true, changed: true, inProgress: state !== null, runs }, null, 2) + '\n');
      else for (const r of runs) process.stdout.write(`would run phase ${r.phase}: ${r.what}\n`);
      return 0;
    }
    await confirm(flags, state ? `resume the CA rotation at phase ${state.phase}` : `start a CA rotation of cluster "${s.cluster.cluster}" (phase 1: trust a new CA beside the old)`);
    const base = await rolloutBase(flags, s, json);
    const report = await runRotateCa(s.cluster, {
      ...base,
      ...(phase ? { phase } : {}),
      onEvent: (e) => {
        if (json) return;
        if (e.type === 'phase-start') process.stdout.write(`phase ${e.phase}: ${e.what}\n`);
        if (e.type === 'pki') process.stdout.write(`phase ${e.phase}: ${e.message}\n`);
        if (e.type === 'phase-done' || e.type === 'phase-failed') {
          printRollout(e.report);
          process.stdout.write(e.type === 'phase-done' ? `phase ${e.phase}: done\n` : `phase ${e.phase}: FAILED on ${e.report.failed.join(', ')}; run again to resume it\n`);
        }
        if (e.type === 'complete') process.stdout.write(`rotation complete; the old CA is in ${e.archived}\n`);
      },
    }).finally(() => base.connect.close());
    if (json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return report.ok ? 0 : 1;
  } catch (e) {
    return reportError(e, { json });
  }
}

async function statusCommand(flags: InventoryFlags & { json?: boolean }): Promise<number> {
  const json = Boolean(flags.json);
  try {
    const { loadCluster } = await import('../inventory-options.js');
    const { rotationStatus } = await import('../../lib/rotate/ca.js');
    const { PHASES } = await import('../../lib/rotate/state.js');
    const state = await rotationStatus(await loadCluster(flags));
    if (json) process.stdout.write(JSON.stringify({ inProgress: state !== null, ...(state ? { state } : {}) }, null, 2) + '\n');
    else if (!state) process.stdout.write('no CA rotation in progress\n');
    else {
      process.stdout.write(`CA rotation started ${state.startedAt}: old CA ${state.oldCa.serial} → new CA ${state.newCa.serial}\n`);
      for (const d of state.done) process.stdout.write(`  phase ${d.phase} done ${d.at}\n`);
      process.stdout.write(`  next: phase ${state.phase}: ${PHASES[state.phase]}\n`);
    }
    return 0;
  } catch (e) {
    return reportError(e, { json });
  }
}
