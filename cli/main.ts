#!/usr/bin/env node
// dbtls: registers the commands and runs one. Registering loads only the specs (cli/commands/*.ts:
// commander and option parsers); the command that runs loads its work module and, through it, its
// heavy dependencies (node-forge, ssh2, prompts, progress) — cli/run.ts — so --help and --version
// start fast. test/cli/basics.test.ts holds both to it.
import { Command, CommanderError, Help, type Option } from 'commander';
import { basename } from 'node:path';
import { VERSION } from './version.js';
import { registerSetup } from './commands/setup.js';
import { registerInspect } from './commands/inspect.js';
import { registerProbe } from './commands/probe.js';
import { registerExporter } from './commands/exporter.js';
import { registerIssue } from './commands/issue.js';
import { registerCheck } from './commands/check.js';
import { registerKeystore } from './commands/keystore.js';
import { registerRender } from './commands/render.js';
import { registerPush } from './commands/push.js';
import { registerSchedule } from './commands/schedule.js';
import { registerRotate } from './commands/rotate.js';
import { registerRevoke } from './commands/revoke.js';
import { registerInit } from './commands/init.js';
import { registerExport } from './commands/export.js';
import { registerLog } from './commands/log.js';
import { helpSections, COMMON_EXIT_CODES } from './help.js';

// A reader that went away (`dbtls check --json | head`) is not an error of ours: the run goes on to
// finish its work and its exit status, writing nothing more to the closed pipe.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stream.write = (() => true) as typeof stream.write;
  });
}

const program = new Command('dbtls')
  .description('TLS for MySQL-family clusters: CA, certificates, keystores, configs, push, reload, verify, rotate.')
  .version(VERSION, '-V, --version', 'print the dbtls version')
  .helpOption('-h, --help', 'show help')
  .showHelpAfterError('(run with --help for usage)')
  // Program options only before the command, so `setup -V` is setup's own version (as mysql_ssl_rsa_setup -V).
  .enablePositionalOptions()
  .exitOverride() // inherited by every command registered below
  .configureHelp({
    // A repeatable option (--node, --san…) starts as [], and "(default: [])" tells the reader nothing.
    optionDescription(option: Option): string {
      const empty = Array.isArray(option.defaultValue) && option.defaultValue.length === 0;
      const shown = empty
        ? Object.assign(Object.create(Object.getPrototypeOf(option) as object) as Option, option, {
            defaultValue: undefined,
          })
        : option;
      return Help.prototype.optionDescription.call(this, shown);
    },
  });

// Every option that names a file to read (-i, --ca-cert, --storepass-file, …) is checked in one
// place before any command runs: a missing or special file is a usage error naming it, exit 2.
// Loaded here, not at the top: --help and --version run no action.
program.hook('preAction', async (_program, action) => {
  const [{ checkInputFileOptions }, { reportError }] = await Promise.all([
    import('./input-files.js'),
    import('./report-error.js'),
  ]);
  try {
    checkInputFileOptions(action);
  } catch (e) {
    const code = reportError(e, { json: Boolean(action.opts().json) });
    throw new CommanderError(code, 'dbtls.inputFile', 'reported');
  }
});

registerInit(program);
registerSetup(program);
registerIssue(program);
registerCheck(program);
registerKeystore(program);
registerRender(program);
registerPush(program);
registerRotate(program);
registerRevoke(program);
registerExport(program);
registerSchedule(program);
registerProbe(program);
registerExporter(program);
registerInspect(program);
registerLog(program);

program.addHelpText(
  'after',
  helpSections({
    examples: [
      [
        'dbtls setup --datadir /var/lib/mysql --san db1.example.com',
        "a MySQL/MariaDB datadir's certificates, as mysql_ssl_rsa_setup made them, plus SANs",
      ],
      ['dbtls help setup', 'help for one command'],
    ],
    exitCodes: COMMON_EXIT_CODES,
  }),
);

// The argument problems commander reports (help and version are not problems): under --json, a
// refused value is `bad-option`, anything else about the command line `bad-usage` (docs/errors.md).
const INVALID_VALUE = 'commander.invalidArgument';
const ARGUMENT_PROBLEMS = new Set([
  INVALID_VALUE,
  'commander.unknownOption',
  'commander.unknownCommand',
  'commander.excessArguments',
  'commander.missingArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.conflictingOption',
]);

// Installed as (or linked to) mysql_ssl_rsa_setup, dbtls behaves as `dbtls setup`: a drop-in.
let argv = process.argv;
if (basename(argv[1] ?? '').replace(/\.js$/, '') === 'mysql_ssl_rsa_setup')
  argv = [argv[0]!, argv[1]!, 'setup', ...argv.slice(2)];

try {
  await program.parseAsync(argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version exit 0; every other argument problem is a usage error (2), not a failure.
    process.exitCode = e.exitCode === 0 ? 0 : 2;
    // Commander has written the text to stderr; automation that asked for --json (the Ansible
    // examples) reads the error from stdout, as for every other usage error.
    // (The input-file hook has reported its own error, JSON included.)
    if (e.exitCode !== 0 && ARGUMENT_PROBLEMS.has(e.code) && argv.includes('--json')) {
      const error = {
        code: e.code === INVALID_VALUE ? 'bad-option' : 'bad-usage',
        message: e.message.replace(/^error: /, ''),
      };
      process.stdout.write(JSON.stringify({ ok: false, error }, null, 2) + '\n');
    }
  } else {
    throw e;
  }
}
