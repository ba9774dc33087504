// `dbtls push -i INVENTORY`: deliver every node's files over SSH (or into a local folder), and
// `dbtls apply -i INVENTORY`: issue + render + push in one idempotent run.
import type { Command } from 'commander';
import { collect, GROUP } from '../options.js';
import { helpSections } from '../help.js';
import { reportError } from '../report-error.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';
import { VERSION } from '../version.js';
import type { PushReport } from '../../lib/deliver/push.js';
import type { ReloadPolicy } from '../../lib/deliver/push.js';
import { addTransportOptions, type TransportFlags } from '../transport-options.js';

interface PushFlags extends InventoryFlags, TransportFlags {
  node: string[];
  check?: boolean;
  json?: boolean;
  files: string[];
  dest?: string;
  reload: string;
  restartTungsten?: boolean;
  /** commander's --no-rollback: false. */
  rollback?: boolean;
}

function pushOptions(cmd: Command, reloadDefault: ReloadPolicy): Command {
  return addTransportOptions(addInventoryOptions(cmd))
    .option('--node <name>', 'only this node (repeatable)', collect, [] as string[])
    .option('--check', 'change nothing: show what would be uploaded (exit 0)')
    .optionsGroup(GROUP.output)
    .option('--json', 'print a JSON report')
    .optionsGroup('')
    .option('--reload <when>', 'reload TLS on the nodes afterwards: changed (nodes whose files changed), always, never', reloadDefault)
    .option('--restart-tungsten', 'restart Tungsten on its nodes (stopall/startall) instead of only reporting it is required')
    .option('--no-rollback', 'when a node\'s reload fails, leave the new files there (default: put the previous ones back)');
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
        'Delivers each node\'s files: compared first (SHA-256), only what changed is sent, each written to a ' +
          'temporary name with its mode and owner, the old one kept as a timestamped backup, renamed into place ' +
          'and read back. Host keys are checked against known_hosts. With --files/--dest, copies those local ' +
          'files to one folder on every node (the Tungsten scp loop, done right).',
      )
      .option('--files <glob>', 'local files to copy instead of the delivery plan (repeatable; bash patterns in the last path part: *, ?, [jpt]*, [!x]*, [[:alpha:]]*, \\ makes the next character literal; a leading dot is matched only by a pattern that starts with one, as in bash)', collect, [] as string[])
      .option('--dest <dir>', 'with --files: the folder on every node'),
    'never',
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
      .optionsGroup(GROUP.secrets)
      .option('--storepass-file <file>', 'password of the Java stores (default: $DBTLS_STOREPASS, else the kept one)')
      .option('--ca-passphrase-file <file>', 'passphrase of the CA key (default: $DBTLS_CA_PASSPHRASE)')
      .optionsGroup('')
      .option('--new-ca', 'start over deliberately when the CA the manifest records is gone or replaced: a new CA (or the one in ca.pem), every leaf re-issued and pushed'),
    'changed',
  )
    .addHelpText('after', helpSections({
      examples: [
        ['dbtls apply -i inventories/example.yml', 'the whole job on the example cluster'],
        ['dbtls apply -i cluster.yml --json', 'for Ansible: `changed` in the JSON'],
      ],
      exitCodes: EXIT_CODES,
    }))
    .action(async (flags: PushFlags & { storepassFile?: string; caPassphraseFile?: string; newCa?: boolean }) => {
      process.exitCode = await pushCommand(flags, true);
    });
}

async function pushCommand(flags: PushFlags & { storepassFile?: string; caPassphraseFile?: string; newCa?: boolean }, apply: boolean): Promise<number> {
  const json = Boolean(flags.json);
  try {
    const { usageError } = await import('../../lib/errors.js');
    if (!['changed', 'always', 'never'].includes(flags.reload)) throw usageError('bad-reload', `--reload must be changed, always or never, got "${flags.reload}"`);
    // Every flag is checked before anything is issued or sent.
    const { transportFrom } = await import('../transport-options.js');
    const { connect, concurrency } = await transportFrom(flags, json);
    if ((flags.files ?? []).length && !flags.dest) throw usageError('files-dest', '--files needs --dest');
    if (flags.dest && !(flags.files ?? []).length) throw usageError('files-dest', '--dest goes with --files');
    const { loadCluster } = await import('../inventory-options.js');
    const cluster = await loadCluster(flags);
    const { join } = await import('node:path');
    const result: Record<string, unknown> = {};
    if (apply) {
      const { runIssue } = await import('../../lib/issue/issue.js');
      const { caPassphrase } = await import('../secrets.js');
      const { storepassFromSources } = await import('../../lib/keystore/passwords.js');
      const check = Boolean(flags.check);
      const issued = await runIssue(cluster, { check, newCa: flags.newCa, passphrase: await caPassphrase(flags.caPassphraseFile), storepass: await storepassFromSources(await (await import('../secrets.js')).storepassFlags({ storepassFile: flags.storepassFile })) });
      result.issue = { changed: issued.changed, issued: issued.issued.length, stores: issued.stores.length };
      if (check && issued.changed) {
        // What would be rendered and pushed depends on certificates not issued yet: it is all a change.
        const report = { ok: true, check: true, changed: true, failed: [], ...result, render: { changed: true }, nodes: [] };
        if (json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        else process.stdout.write(`check: would issue ${issued.issued.length}${issued.ca.action === 'created' ? ' (and a new CA)' : ''}, build ${issued.stores.length} stores, then render and push; nothing written\n`);
        return 0;
      }
      const { runRender } = await import('../../lib/render/render.js');
      const rendered = await runRender(cluster, { generator: `dbtls ${VERSION}`, check });
      result.render = { changed: rendered.changed, written: rendered.files.filter((f) => f.state !== 'unchanged').length };
      if (check && rendered.changed) {
        const report = { ok: true, check: true, changed: true, failed: [], ...result, nodes: [] };
        if (json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        else process.stdout.write(`check: would render ${(result.render as { written: number }).written} files, then push; nothing written\n`);
        return 0;
      }
      if (!json) process.stdout.write(check ? 'check: certificates and configs up to date\n' : `issue: ${issued.issued.length} issued, ${issued.stores.length} stores built; render: ${(result.render as { written: number }).written} written\n`);
    }
    let files: { paths: string[]; dest: string } | undefined;
    if ((flags.files ?? []).length) {
      const { expandFiles } = await import('../../lib/deliver/glob.js');
      const { dest: destRule } = await import('../../lib/inventory/rules.js');
      const why = destRule(flags.dest!);
      if (why) throw usageError('bad-dest', `--dest ${why}`);
      // Each source must be a file that is there now, and each pattern must match one: a usage
      // error naming it, not an ENOENT mid-push or a silent no-op.
      const { checkInputFile } = await import('../input-files.js');
      const paths: string[] = [];
      for (const pattern of flags.files) {
        const got = await expandFiles([pattern]);
        if (!got.length) throw usageError('files-none', `--files ${pattern}: matches no file`);
        paths.push(...got);
      }
      for (const p of paths) checkInputFile('--files', p);
      files = { paths, dest: flags.dest! };
    }
    const { runPush } = await import('../../lib/deliver/push.js');
    const { withPushProgress } = await import('../ui/push-progress.js');
    const { outputMode } = await import('../ui/issue-progress.js');
    const chosen = flags.node.length ? flags.node : cluster.nodes.map((n) => n.name);
    const report: PushReport = await withPushProgress(outputMode(json), chosen, (onEvent) =>
      runPush(
        cluster,
        { nodes: flags.node.length ? flags.node : undefined, check: flags.check, concurrency, renderedDir: join(cluster.pki, 'rendered'), reload: flags.reload as ReloadPolicy, restartTungsten: flags.restartTungsten, ...(flags.rollback === false ? { rollback: false } : {}), ...(files ? { files } : {}) },
        connect,
        onEvent,
      ),
    ).finally(() => connect.close());
    if (json) {
      const changed = report.changed || Boolean((result.issue as { changed?: boolean } | undefined)?.changed) || Boolean((result.render as { changed?: boolean } | undefined)?.changed);
      process.stdout.write(JSON.stringify({ ok: report.ok, ...(flags.check ? { check: true } : {}), changed, failed: report.failed, ...result, nodes: report.nodes }, null, 2) + '\n');
    } else {
      const uploaded = report.nodes.reduce((n, r) => n + r.uploaded.length, 0);
      process.stdout.write(report.ok ? `${report.nodes.length} node${report.nodes.length === 1 ? '' : 's'} ok, ${uploaded} file${uploaded === 1 ? '' : 's'} uploaded${flags.check ? ' (check: nothing changed)' : ''}\n` : `${report.failed.length} of ${report.nodes.length} nodes failed: ${report.failed.join(', ')}\n`);
    }
    return report.ok ? 0 : 1;
  } catch (e) {
    return reportError(e, { json });
  }
}
