// `dbtls setup`: the mysql_ssl_rsa_setup drop-in. Same options, files, names and skip rules; plus
// --san, --days, --key-size, --key-format and --json.
import type { Command } from 'commander';
import { Option } from 'commander';
import { VERSION } from '../version.js';
import { helpSections } from '../help.js';
import { reportError } from '../report-error.js';

interface SetupFlags {
  datadir?: string;
  suffix?: string;
  uid?: string;
  verbose?: boolean;
  san: string[];
  days: string;
  keySize: string;
  keyFormat: 'pkcs8' | 'pkcs1';
  json?: boolean;
  check?: boolean;
  defaultsFile?: string;
  defaultsExtraFile?: string;
  defaults: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .summary('create the SSL and RSA files of a MySQL/MariaDB datadir (drop-in for mysql_ssl_rsa_setup)')
    .description(
      'Creates ca.pem, ca-key.pem, server-cert.pem, server-key.pem, client-cert.pem and client-key.pem ' +
        '(unless any of ca.pem, server-cert.pem, server-key.pem exists) and private_key.pem, public_key.pem ' +
        '(unless either exists) in the data directory, as mysql_ssl_rsa_setup did. Re-running changes nothing. ' +
        'Give --san for every name and address clients dial, so VERIFY_IDENTITY and --ssl-verify-server-cert work.',
    )
    .helpOption('-?, --help', 'show this help')
    .version(`dbtls setup ${VERSION} (mysql_ssl_rsa_setup compatible)`, '-V, --version', 'print the version')
    .option('-d, --datadir <dir>', 'data directory (default: datadir from the option files)')
    .option('-s, --suffix <suffix>', 'CN suffix, at most 17 letters, digits or _ (default: local server version)')
    .option('--uid <user>', 'give the files to this user (only when run as root)')
    .option('-v, --verbose', 'say what is done')
    .option('--san <host>', 'a DNS name or IP the server is reached by (repeatable)', collect, [] as string[])
    .option('--days <n>', 'validity in days', '3650')
    .option('--key-size <bits>', 'RSA key size: 2048, 3072 or 4096', '2048')
    .addOption(new Option('--key-format <format>', 'private key PEM format').choices(['pkcs8', 'pkcs1']).default('pkcs8'))
    .option('--json', 'print a JSON report of what was written and skipped')
    .option('--check', 'change nothing: say what would be written (`changed` in --json)')
    .option('--defaults-file <file>', 'read only this option file')
    .option('--defaults-extra-file <file>', 'read this option file after the global ones')
    .option('--no-defaults', 'read no option files')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls setup --datadir /var/lib/mysql --uid mysql', 'what mysql_ssl_rsa_setup did'],
          ['dbtls setup -d /var/lib/mysql --san db1.example.com --san 10.0.0.11', 'certificates that pass VERIFY_IDENTITY'],
          ['dbtls setup -d ./certs --days 825 --key-size 3072 --json', 'shorter-lived, bigger keys, machine-readable report'],
          ['ln -s "$(command -v dbtls)" /usr/local/bin/mysql_ssl_rsa_setup', 'keep old scripts working'],
        ],
        exitCodes: [
          [0, 'files written, or nothing to do (every file already there)'],
          [1, 'the work failed (I/O error, another run holds the lock)'],
          [2, 'usage or input error (no datadir, bad --suffix, --san, --days, --key-size); nothing written'],
        ],
      }),
    )
    .action(async (flags: SetupFlags) => {
      process.exitCode = await runSetupCommand(flags);
    });
}

async function runSetupCommand(flags: SetupFlags): Promise<number> {
  try {
    const { runSetup, checkSuffix, checkDatadir } = await import('../../lib/setup/setup.js');
    const { usageError } = await import('../../lib/errors.js');
    const { isRsaKeySize } = await import('../../lib/pki/keys.js');
    const keySize = Number(flags.keySize);
    if (!isRsaKeySize(keySize)) throw usageError('bad-key-size', `--key-size must be 2048, 3072 or 4096, got "${flags.keySize}"`);
    if (!/^\d+$/.test(flags.days)) throw usageError('bad-days', `--days must be a whole number, got "${flags.days}"`);
    if (flags.suffix !== undefined) checkSuffix(flags.suffix);

    const say = flags.verbose && !flags.json ? (line: string) => process.stdout.write(line + '\n') : () => {};
    const versionLookup = flags.suffix === undefined ? import('../../lib/setup/local-server.js').then((m) => m.localServerVersion()) : undefined;

    let datadir = flags.datadir;
    if (datadir === undefined) {
      const { datadirFromOptionFiles } = await import('../../lib/setup/datadir.js');
      const found = await datadirFromOptionFiles({ defaultsFile: flags.defaultsFile, extraFile: flags.defaultsExtraFile, noDefaults: !flags.defaults });
      datadir = found.datadir;
      say(`datadir ${datadir} (from ${found.source})`);
    }
    await checkDatadir(datadir);

    let owner;
    if (flags.uid !== undefined) {
      const { resolveOwner, runningAsRoot } = await import('../../lib/setup/owner.js');
      if (runningAsRoot()) owner = await resolveOwner(flags.uid);
      else say(`--uid ${flags.uid} ignored: only root can give files away`);
    }
    const { FALLBACK_SUFFIX } = await import('../../lib/setup/local-server.js');
    const suffix = flags.suffix ?? (await versionLookup) ?? FALLBACK_SUFFIX;

    const report = await runSetup(
      { datadir, suffix, sans: flags.san, days: Number(flags.days), keySize, keyFormat: flags.keyFormat, owner, check: flags.check },
      (e) => {
        switch (e.type) {
          case 'recovered':
            return say(`finished the writes of an interrupted run (${e.journal})`);
          case 'skipped':
            return say(`skipped the ${e.skipped.set === 'ssl' ? 'SSL files' : 'RSA key pair'}: ${e.skipped.reason}`);
          case 'generating':
            return say(`generating ${e.keys} RSA-${e.bits} key${e.keys > 1 ? 's' : ''} for the ${e.set === 'ssl' ? 'SSL files' : 'RSA key pair'}`);
          case 'written': {
            const f = e.file;
            const c = f.certificate;
            const detail = c ? `  ${c.subject}${c.sans.length ? `  [${c.sans.join(', ')}]` : ''}  until ${c.notAfter.toISOString().slice(0, 10)}` : '';
            return say(`wrote ${f.path}  ${f.mode}${detail}`);
          }
        }
      },
    );
    if (flags.check) {
      const would = report.wouldWrite ?? [];
      if (flags.json) process.stdout.write(JSON.stringify({ ok: true, check: true, changed: would.length > 0, ...report }, null, 2) + '\n');
      else process.stdout.write(would.length ? would.map((f) => `would write ${f}\n`).join('') : 'nothing to do: every file is already there\n');
    } else if (flags.json) {
      process.stdout.write(JSON.stringify({ ok: true, changed: report.written.length > 0, ...report }, null, 2) + '\n');
    } else if (report.written.some((f) => f.path.endsWith('server-cert.pem')) && report.sans.length === 0) {
      say('note: server-cert.pem has no SAN, so clients can check the CA but not the host name (VERIFY_IDENTITY); pass --san');
    }
    return 0;
  } catch (e) {
    return reportError(e, { json: Boolean(flags.json) });
  }
}
