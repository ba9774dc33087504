// `dbtls init`: the bootstrap wizard. Asks for the cluster (or reads every answer from --answers FILE),
// tests SSH to the nodes and offers their unknown host keys, then — only once the last question is
// answered — adds the accepted keys to known_hosts, writes the commented inventory atomically, issues
// and renders with progress, summarises what was made and where, and asks before pushing. Ctrl-C at a
// prompt exits 130 with nothing written. The questions, their checks and the inventory text are in
// lib/init/; this file only talks to the terminal.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { reportError } from '../report-error.js';

interface InitFlags {
  answers?: string;
  yes?: boolean;
  force?: boolean;
  localRoot: string;
}

const EXIT_CODES: Array<[number, string]> = [
  [0, 'done: inventory written, certificates issued, configs rendered (and pushed, when chosen)'],
  [1, 'the work failed (a node could not be reached or failed its push, I/O), or the review was declined; the message says what was written'],
  [2, 'usage or input error: no terminal and no --answers, a missing or bad answer (file:line:col and key), an inventory that exists; nothing was written'],
  [130, 'interrupted with Ctrl-C at a question; nothing was written'],
];

export function registerInit(program: Command): void {
  program
    .command('init')
    .summary('bootstrap a cluster: a wizard that writes the inventory, issues, renders and pushes')
    .description(
      'Asks for the cluster name, its products, the nodes (typed, pasted, or imported from an Ansible ' +
        'inventory), SSH settings, the CA and the clients; tests SSH to every node and shows each unknown ' +
        'host key\'s fingerprint to accept; then writes a commented inventory, issues the certificates, ' +
        'renders the configs, prints what was made and where, and asks before pushing. Nothing is written ' +
        'before the last question is answered. Without a terminal, --answers FILE gives every answer.',
    )
    .option('--answers <file>', 'take the answers from this YAML file (its keys: docs/bootstrap.md); what it leaves out takes its default, and a terminal is asked only what has none')
    .option('-y, --yes', 'no confirmation: write after the last answer and push at the end (never replaces an inventory, never accepts a host key)')
    .option('--force', 'replace an existing inventory file without asking')
    .option('--local-root <dir>', 'where transport: local nodes receive their files (<dir>/<node>/<path>)', 'out/nodes')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls init', 'the wizard, in a terminal'],
          ['dbtls init --answers cluster-answers.yml --yes', 'unattended (CI, provisioning): every answer from the file, push at the end'],
          ['dbtls init --answers try.yml', 'a try-out with transport: local; push: false in the file stops before pushing'],
        ],
        exitCodes: EXIT_CODES,
      }),
    )
    .action(async (flags: InitFlags) => {
      process.exitCode = await runInit(flags);
    });
}

type Phase = 'asking' | 'writing' | 'written';

async function runInit(flags: InitFlags): Promise<number> {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  let phase: Phase = 'asking';
  const said: Record<Phase, string> = {
    asking: 'interrupted; nothing was written',
    writing: 'interrupted while writing; run dbtls init (or dbtls apply) again to finish: the PKI directory completes or undoes a half-done write',
    written: 'interrupted; the inventory and certificates are written, nothing was pushed',
  };
  // Ctrl-C outside a prompt (during the connection test, issue, render) is a signal, not a keypress.
  // Written to fd 2 directly: while listr2 draws, it holds back what goes through process.stderr.
  const { writeSync } = await import('node:fs');
  const onSigint = () => {
    writeSync(2, `\ndbtls init: ${said[phase]}\n`);
    process.exit(130);
  };
  if (interactive) process.on('SIGINT', onSigint);
  const { Interrupted } = await import('../ui/init-prompter.js');
  try {
    const { usageError } = await import('../../lib/errors.js');
    if (!interactive && !flags.answers) {
      throw usageError(
        'init-no-terminal',
        'dbtls init asks its questions on a terminal, and stdin or stdout is not one',
        'for automation give every answer with --answers FILE (YAML; its keys are in docs/bootstrap.md), and --yes to push at the end without asking',
      );
    }
    const { readAnswersFile } = await import('../../lib/init/answers-file.js');
    const { AnswerSource } = await import('../../lib/init/questions.js');
    const { ConnectionTester } = await import('../../lib/init/host-keys.js');
    const { runFlow } = await import('../../lib/init/flow.js');
    const { secretFrom } = await import('../secrets.js');
    const { outputMode } = await import('../ui/mode.js');
    const { withConnectionProgress } = await import('../ui/init-progress.js');
    const { reviewText } = await import('../ui/init-summary.js');
    const { VERSION } = await import('../version.js');

    const preset = flags.answers ? await readAnswersFile(flags.answers) : undefined;
    const prompter = interactive ? await (await import('../ui/init-prompter.js')).inquirerPrompter() : null;
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
        if (mode !== 'json') process.stdout.write(`\nTesting SSH to ${nodes.length} node${nodes.length === 1 ? '' : 's'}:\n`);
        return withConnectionProgress(mode, nodes, test);
      },
    });

    process.stdout.write(reviewText(plan));
    if (prompter && !flags.yes) {
      const go = await prompter.confirm({ kind: 'confirm', key: 'write', message: 'Write the inventory and issue the certificates?', default: true });
      if (!go) {
        process.stderr.write('dbtls init: stopped at the review; nothing was written\n');
        return 1;
      }
    }

    phase = 'writing';
    const { mkdir } = await import('node:fs/promises');
    const { dirname, join } = await import('node:path');
    const { writeFileAtomic, CERT_MODE } = await import('../../lib/store/atomic-write.js');
    const added = await tester.persist();
    await mkdir(dirname(plan.answers.inventory), { recursive: true });
    await writeFileAtomic(plan.answers.inventory, plan.text, { mode: CERT_MODE });
    const { shown, summaryText, shellWord } = await import('../ui/init-summary.js');
    process.stdout.write(`\nWrote ${shown(plan.answers.inventory)}\n`);
    const { loadInventory } = await import('../../lib/inventory/load.js');
    const cluster = await loadInventory(plan.answers.inventory);

    const { caPassphrase } = await import('../secrets.js');
    const { storepassFromSources } = await import('../../lib/keystore/passwords.js');
    const { runIssue } = await import('../../lib/issue/issue.js');
    const { runRender } = await import('../../lib/render/render.js');
    const { withIssueProgress } = await import('../ui/issue-progress.js');
    const { withRenderProgress } = await import('../ui/init-progress.js');
    const issued = await withIssueProgress(mode, async (onEvent) =>
      runIssue(cluster, { passphrase: await caPassphrase(undefined), storepass: await storepassFromSources({}) }, onEvent),
    );
    const rendered = await withRenderProgress(mode, () => runRender(cluster, { generator: `dbtls ${VERSION}` }));
    phase = 'written';

    const { summarize } = await import('../../lib/init/summary.js');
    process.stdout.write(summaryText(await summarize(cluster, issued, rendered, { replaced: plan.replaces, knownHosts: added })));

    // Push: nodes whose connection test passed (and every local one); the answers file, --yes or the person decides.
    const { resolve } = await import('node:path');
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
    else if (prompter && ready.length) {
      const which = unreachable.length ? `${ready.join(', ')} (not ${unreachable.join(', ')}: the connection test failed)` : `the ${ready.length} node${ready.length === 1 ? '' : 's'}`;
      push = await prompter.confirm({ kind: 'confirm', key: 'push', message: `Push the files to ${which} now?`, default: true });
    } else push = false;
    if (!push || ready.length === 0) {
      process.stdout.write(`\nNot pushed. To deliver the files (and reload TLS on the servers): ${apply}\n`);
      return 0;
    }

    const { transportFrom } = await import('../transport-options.js');
    const { DEFAULT_BACKUPS } = await import('../../lib/deliver/transport.js');
    const { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS } = await import('../../lib/deliver/ssh/connect.js');
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
    const { runPush } = await import('../../lib/deliver/push.js');
    const { withPushProgress } = await import('../ui/push-progress.js');
    process.stdout.write(`\nPushing to ${ready.join(', ')}:\n`);
    const report = await withPushProgress(mode, ready, (onEvent) =>
      runPush(cluster, { nodes: ready, concurrency, renderedDir: join(cluster.pki, 'rendered'), reload: 'never' }, connect, onEvent),
    ).finally(() => connect.close());
    const uploaded = report.nodes.reduce((n, r) => n + r.uploaded.length, 0);
    if (report.ok) process.stdout.write(`${report.nodes.length} node${report.nodes.length === 1 ? '' : 's'} ok, ${uploaded} file${uploaded === 1 ? '' : 's'} uploaded${hasLocal ? ` (local nodes under ${shown(localRoot)})` : ''}\n`);
    else process.stdout.write(`${report.failed.length} of ${report.nodes.length} nodes failed: ${report.failed.join(', ')}\n`);
    const left = [...unreachable, ...report.failed];
    process.stdout.write(
      left.length
        ? `Not delivered to ${left.join(', ')}: fix their SSH access, then run ${apply}\n`
        : `Next: include the rendered configs from each server's own config, then run ${apply} to reload TLS (and after every change).\n`,
    );
    return left.length ? 1 : 0;
  } catch (e) {
    if (e instanceof Interrupted) {
      process.stderr.write(`dbtls init: ${said[phase]}\n`);
      return 130;
    }
    return reportError(e, { json: false });
  } finally {
    if (interactive) process.off('SIGINT', onSigint);
  }
}
