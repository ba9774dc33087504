// `dbtls push -i INVENTORY`: deliver every node's files over SSH (or into a local folder), and
// `dbtls apply -i INVENTORY`: issue + render + push in one idempotent run.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { reportError } from '../report-error.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';
import { VERSION } from '../version.js';
import type { PushReport } from '../../lib/deliver/push.js';
import { DEFAULT_BACKUPS } from '../../lib/deliver/transport.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS } from '../../lib/deliver/ssh-connect.js';

interface PushFlags extends InventoryFlags {
  node: string[];
  check?: boolean;
  json?: boolean;
  concurrency: string;
  files: string[];
  dest?: string;
  acceptNew?: boolean;
  knownHosts?: string;
  backups: string;
  localRoot: string;
  sshPassphraseFile?: string;
  connectTimeout: string;
  retries: string;
  retryDelay: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function pushOptions(cmd: Command): Command {
  return addInventoryOptions(cmd)
    .option('--node <name>', 'only this node (repeatable)', collect, [] as string[])
    .option('--check', 'change nothing: show what would be uploaded (exit 0)')
    .option('--json', 'print a JSON report')
    .option('--concurrency <n>', 'nodes at once', '32')
    .option('--accept-new', 'add unknown host keys to known_hosts (a changed key is always refused)')
    .option('--known-hosts <file>', 'known_hosts file (default: ssh.knownHostsFile, else ~/.ssh/known_hosts)')
    .option('--backups <n>', 'backups kept beside each replaced file', String(DEFAULT_BACKUPS))
    .option('--local-root <dir>', 'where transport: local nodes live (<dir>/<node>/<path>)', 'out/nodes')
    .option('--ssh-passphrase-file <file>', 'passphrase of encrypted identity files (default: $DBTLS_SSH_PASSPHRASE)')
    .option('--connect-timeout <seconds>', 'per SSH connection (bastion, node): connect, handshake and login', String(DEFAULT_CONNECT_TIMEOUT_MS / 1000))
    .option('--retries <n>', 'more attempts after a connection error (refused, reset, unreachable, timed out); never after a host key or login error', String(DEFAULT_RETRIES))
    .option('--retry-delay <seconds>', 'wait before the first retry, doubled for each next one', String(DEFAULT_RETRY_DELAY_MS / 1000));
}

const EXIT_CODES: Array<[number, string]> = [
  [0, 'every node succeeded'],
  [1, 'a node failed (the others still finished; the report names it)'],
  [2, 'usage or input error (inventory problems, nothing issued, hostile values); nothing was sent'],
];

export function registerPush(program: Command): void {
  pushOptions(
    program
      .command('push')
      .summary('deliver each node\'s certificates, keys, stores and configs (SSH or local), atomically')
      .description(
        'Delivers each node\'s files: compared first (SHA-256), only what changed is sent, each written to a\n' +
          'temporary name with its mode and owner, the old one kept as a timestamped backup, renamed into place\n' +
          'and read back. Host keys are checked against known_hosts. With --files/--dest, copies those local\n' +
          'files to one folder on every node (the Tungsten scp loop, done right).',
      )
      .option('--files <glob>', 'local files to copy instead of the delivery plan (repeatable; shell patterns like [jpt]*)', collect, [] as string[])
      .option('--dest <dir>', 'with --files: the folder on every node'),
  )
    .addHelpText('after', helpSections({
      examples: [
        ['dbtls push -i cluster.yml', 'every node'],
        ['dbtls push -i cluster.yml --check', 'what would change'],
        ["dbtls push -i cluster.yml --files '/opt/continuent/share/[jpt]*' --files '/opt/continuent/share/.[jpt]*' --dest /opt/continuent/share", 'the Tungsten loop'],
      ],
      exitCodes: EXIT_CODES,
    }))
    .action(async (flags: PushFlags) => {
      process.exitCode = await pushCommand(flags, false);
    });

  pushOptions(
    program
      .command('apply')
      .summary('issue + render + push in one idempotent run: the main job')
      .description('Issues what is new or changed, renders the configs, and pushes every node. A second run changes nothing.')
      .option('--storepass-file <file>', 'password of the Java stores (default: $DBTLS_STOREPASS, else the kept one)')
      .option('--ca-passphrase-file <file>', 'passphrase of the CA key (default: $DBTLS_CA_PASSPHRASE)'),
  )
    .addHelpText('after', helpSections({
      examples: [
        ['dbtls apply -i inventories/example.yml', 'the whole job on the example cluster'],
        ['dbtls apply -i cluster.yml --json', 'for Ansible: `changed` in the JSON'],
      ],
      exitCodes: EXIT_CODES,
    }))
    .action(async (flags: PushFlags & { storepassFile?: string; caPassphraseFile?: string }) => {
      process.exitCode = await pushCommand(flags, true);
    });
}

async function pushCommand(flags: PushFlags & { storepassFile?: string; caPassphraseFile?: string }, apply: boolean): Promise<number> {
  const json = Boolean(flags.json);
  try {
    const { usageError } = await import('../../lib/errors.js');
    const concurrency = Number(flags.concurrency);
    const backups = Number(flags.backups);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw usageError('bad-concurrency', `--concurrency must be a positive whole number, got "${flags.concurrency}"`);
    if (!Number.isInteger(backups) || backups < 0) throw usageError('bad-backups', `--backups must be a whole number, got "${flags.backups}"`);
    const seconds = (flag: string, text: string) => {
      const n = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
      if (!(n > 0 && n <= 3600)) throw usageError('bad-seconds', `${flag} must be a number of seconds above 0 (at most 3600), got "${text}"`);
      return Math.round(n * 1000);
    };
    const connectTimeoutMs = seconds('--connect-timeout', flags.connectTimeout);
    const retryDelayMs = seconds('--retry-delay', flags.retryDelay);
    const retries = /^\d+$/.test(flags.retries.trim()) ? Number(flags.retries) : NaN;
    if (!(retries <= 100)) throw usageError('bad-retries', `--retries must be a whole number from 0 to 100, got "${flags.retries}"`);
    if ((flags.files ?? []).length && !flags.dest) throw usageError('files-dest', '--files needs --dest');
    if (flags.dest && !(flags.files ?? []).length) throw usageError('files-dest', '--dest goes with --files');
    const { loadCluster } = await import('../inventory-options.js');
    const cluster = await loadCluster(flags);
    const { join, resolve } = await import('node:path');
    const result: Record<string, unknown> = {};
    if (apply) {
      const { runIssue } = await import('../../lib/issue/issue.js');
      const { caPassphrase } = await import('../secrets.js');
      const { storepassFromSources } = await import('../../lib/keystore/passwords.js');
      const issued = await runIssue(cluster, { passphrase: await caPassphrase(flags.caPassphraseFile), storepass: await storepassFromSources({ file: flags.storepassFile }) });
      const { runRender } = await import('../../lib/render/render.js');
      const rendered = await runRender(cluster, { generator: `dbtls ${VERSION}` });
      result.issue = { changed: issued.changed, issued: issued.issued.length, stores: issued.stores.length };
      result.render = { changed: rendered.changed, written: rendered.files.filter((f) => f.state !== 'unchanged').length };
      if (!json) process.stdout.write(`issue: ${issued.issued.length} issued, ${issued.stores.length} stores built; render: ${result.render && (result.render as { written: number }).written} written\n`);
    }
    let files: { paths: string[]; dest: string } | undefined;
    if ((flags.files ?? []).length) {
      const { expandFiles } = await import('../../lib/deliver/glob.js');
      const { dest: destRule } = await import('../../lib/inventory/rules.js');
      const why = destRule(flags.dest!);
      if (why) throw usageError('bad-dest', `--dest ${why}`);
      files = { paths: await expandFiles(flags.files), dest: flags.dest! };
    }
    const { secretFrom } = await import('../secrets.js');
    const passphrase = await secretFrom('--ssh-passphrase-file', flags.sshPassphraseFile, 'DBTLS_SSH_PASSPHRASE');
    const { connector } = await import('../../lib/deliver/connect.js');
    const { runPush } = await import('../../lib/deliver/push.js');
    const connect = connector({
      localRoot: resolve(flags.localRoot),
      backups,
      acceptNew: Boolean(flags.acceptNew),
      ...(flags.knownHosts ? { knownHostsFile: resolve(flags.knownHosts) } : {}),
      ...(passphrase ? { passphrase } : {}),
      connectTimeoutMs,
      retries,
      retryDelayMs,
      onNewHostKey: (node, fp, bastion) =>
        process.stderr.write(bastion ? `${node}: added the host key ${fp} of bastion ${bastion} to known_hosts (--accept-new)\n` : `${node}: added its host key ${fp} to known_hosts (--accept-new)\n`),
      onRetry: (node, attempt, delayMs, reason) => {
        if (!json) process.stderr.write(`${node}: attempt ${attempt} of ${retries + 1} failed (${reason}); retrying in ${delayMs < 1000 ? `${delayMs} ms` : `${delayMs / 1000} s`}\n`);
      },
    });
    const { withPushProgress } = await import('../ui/push-progress.js');
    const { outputMode } = await import('../ui/issue-progress.js');
    const chosen = flags.node.length ? flags.node : cluster.nodes.map((n) => n.name);
    const report: PushReport = await withPushProgress(outputMode(json), chosen, (onEvent) =>
      runPush(
        cluster,
        { nodes: flags.node.length ? flags.node : undefined, check: flags.check, concurrency, renderedDir: join(cluster.pki, 'rendered'), ...(files ? { files } : {}) },
        connect,
        onEvent,
      ),
    ).finally(() => connect.close());
    if (json) {
      const changed = report.changed || Boolean((result.issue as { changed?: boolean } | undefined)?.changed) || Boolean((result.render as { changed?: boolean } | undefined)?.changed);
      process.stdout.write(JSON.stringify({ ok: report.ok, changed, failed: report.failed, ...result, nodes: report.nodes }, null, 2) + '\n');
    } else {
      const uploaded = report.nodes.reduce((n, r) => n + r.uploaded.length, 0);
      process.stdout.write(report.ok ? `${report.nodes.length} node${report.nodes.length === 1 ? '' : 's'} ok, ${uploaded} file${uploaded === 1 ? '' : 's'} uploaded${flags.check ? ' (check: nothing changed)' : ''}\n` : `${report.failed.length} of ${report.nodes.length} nodes failed: ${report.failed.join(', ')}\n`);
    }
    return report.ok ? 0 : 1;
  } catch (e) {
    return reportError(e, { json });
  }
}
