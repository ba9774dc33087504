// The work of `dbtls init` (spec: cli/commands/init.ts): asks for the cluster (or reads every
// answer from --answers FILE), tests SSH to the nodes and offers their unknown host keys, then — only
// once the last question is answered — adds the accepted keys to known_hosts, writes the commented
// inventory atomically, issues and renders with progress, summarises what was made and where, and
// asks before pushing. Ctrl-C at a prompt exits 130 with nothing written. The questions, their checks
// and the inventory text are in lib/init/; the prompts and lines in cli/ui/init-*.ts. Inquirer and
// listr2 load only on a terminal (init-prompter.ts, init-progress.ts), so `--answers` runs without them.
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  DEFAULT_BACKUPS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_RETRIES,
  DEFAULT_RETRY_DELAY_MS,
} from '../../lib/deliver/defaults.js';
import { runPush } from '../../lib/deliver/push.js';
import { usageError } from '../../lib/errors.js';
import { readAnswersFile } from '../../lib/init/answers-file.js';
import { runFlow } from '../../lib/init/flow.js';
import { ConnectionTester } from '../../lib/init/host-keys.js';
import { AnswerSource } from '../../lib/init/questions.js';
import { summarize } from '../../lib/init/summary.js';
import { loadInventory } from '../../lib/inventory/load.js';
import { runIssue } from '../../lib/issue/issue.js';
import { storepassFromSources } from '../../lib/keystore/passwords.js';
import { runRender } from '../../lib/render/render.js';
import { CERT_MODE, writeFileAtomic } from '../../lib/store/atomic-write.js';
import type { InitFlags } from '../commands/init.js';
import { caPassphrase, secretFrom } from '../secrets.js';
import { transportFrom } from '../transport-options.js';
import {
  printInterrupted,
  printInterruptedNow,
  printNotPushed,
  printPushed,
  printPushing,
  printStoppedAtReview,
  printTestingSsh,
  printWrote,
  pushQuestion,
  type InitPhase,
} from '../ui/init-messages.js';
import { withConnectionProgress, withRenderProgress } from '../ui/init-progress.js';
import { inquirerPrompter, Interrupted } from '../ui/init-prompter.js';
import { reviewText, shellWord, shown, summaryText } from '../ui/init-summary.js';
import { withIssueProgress } from '../ui/issue-progress.js';
import { outputMode } from '../ui/mode.js';
import { withPushProgress } from '../ui/push-progress.js';
import { VERSION } from '../version.js';

export async function init(flags: InitFlags): Promise<number> {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  let phase: InitPhase = 'asking';
  // Ctrl-C outside a prompt (during the connection test, issue, render) is a signal, not a keypress.
  const onSigint = () => {
    printInterruptedNow(phase);
    process.exit(130);
  };
  if (interactive) process.on('SIGINT', onSigint);
  try {
    return await initSteps(flags, interactive, (p) => (phase = p));
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    printInterrupted(phase);
    return 130;
  } finally {
    if (interactive) process.off('SIGINT', onSigint);
  }
}

async function initSteps(flags: InitFlags, interactive: boolean, enter: (phase: InitPhase) => void): Promise<number> {
  if (!interactive && !flags.answers) {
    throw usageError(
      'init-no-terminal',
      'dbtls init asks its questions on a terminal, and stdin or stdout is not one',
      'for automation give every answer with --answers FILE (YAML; its keys are in docs/bootstrap.md), and --yes to push at the end without asking',
    );
  }
  const preset = flags.answers ? await readAnswersFile(flags.answers) : undefined;
  const prompter = interactive ? await inquirerPrompter() : null;
  const src = new AnswerSource(preset, prompter, process.cwd(), (text) => process.stdout.write(`${text}\n`));
  const passphrase = await secretFrom('--ssh-passphrase-file', undefined, 'DBTLS_SSH_PASSPHRASE');
  const tester = new ConnectionTester(passphrase ? { passphrase } : {});
  const mode = interactive ? outputMode(false) : 'plain';
  const plan = await runFlow({
    src,
    force: Boolean(flags.force),
    yes: Boolean(flags.yes),
    generator: `dbtls ${VERSION}`,
    tester,
    testConnections: (nodes, test) => {
      printTestingSsh(mode, nodes.length);
      return withConnectionProgress(mode, nodes, test);
    },
  });

  process.stdout.write(reviewText(plan));
  if (prompter && !flags.yes) {
    const go = await prompter.confirm({
      kind: 'confirm',
      key: 'write',
      message: 'Write the inventory and issue the certificates?',
      default: true,
    });
    if (!go) {
      printStoppedAtReview();
      return 1;
    }
  }

  enter('writing');
  const added = await tester.persist();
  await mkdir(dirname(plan.answers.inventory), { recursive: true });
  await writeFileAtomic(plan.answers.inventory, plan.text, { mode: CERT_MODE });
  printWrote(shown(plan.answers.inventory));
  const cluster = await loadInventory(plan.answers.inventory);
  const issued = await withIssueProgress(mode, async (onEvent) =>
    runIssue(
      cluster,
      { passphrase: await caPassphrase(undefined), storepass: await storepassFromSources({}) },
      onEvent,
    ),
  );
  const rendered = await withRenderProgress(mode, () => runRender(cluster, { generator: `dbtls ${VERSION}` }));
  enter('written');
  process.stdout.write(
    summaryText(await summarize(cluster, issued, rendered, { replaced: plan.replaces, knownHosts: added })),
  );

  // Push: nodes whose connection test passed (and every local one); the answers file, --yes or the person decides.
  const localRoot = resolve(flags.localRoot);
  const hasLocal = cluster.nodes.some((n) => n.transport === 'local');
  const apply = `dbtls apply -i ${shellWord(shown(cluster.file))}${hasLocal ? ` --local-root ${shellWord(shown(localRoot))}` : ''}`;
  const status = new Map(plan.connections.map((r) => [r.node, r.status]));
  const ready = cluster.nodes.filter((n) => n.transport === 'local' || status.get(n.name) === 'ok').map((n) => n.name);
  const unreachable = cluster.nodes.map((n) => n.name).filter((n) => !ready.includes(n));
  const given = src.given('push');
  let push: boolean;
  if (typeof given === 'boolean') push = given;
  else if (flags.yes) push = true;
  else if (prompter && ready.length)
    push = await prompter.confirm({
      kind: 'confirm',
      key: 'push',
      message: pushQuestion(ready, unreachable),
      default: true,
    });
  else push = false;
  if (!push || ready.length === 0) {
    printNotPushed(apply);
    return 0;
  }

  // The transport options `dbtls apply` would have at their defaults; local nodes under --local-root.
  const { connect, concurrency } = await transportFrom(
    {
      concurrency: 32,
      backups: DEFAULT_BACKUPS,
      localRoot,
      connectTimeout: DEFAULT_CONNECT_TIMEOUT_MS / 1000,
      retries: DEFAULT_RETRIES,
      retryDelay: DEFAULT_RETRY_DELAY_MS / 1000,
    },
    false,
  );
  printPushing(ready);
  const report = await withPushProgress(mode, ready, (onEvent) =>
    runPush(
      cluster,
      { nodes: ready, concurrency, renderedDir: join(cluster.pki, 'rendered'), reload: 'never' },
      connect,
      onEvent,
    ),
  ).finally(() => connect.close());
  const left = [...unreachable, ...report.failed];
  printPushed(report, hasLocal ? shown(localRoot) : undefined, left, apply);
  return left.length ? 1 : 0;
}
