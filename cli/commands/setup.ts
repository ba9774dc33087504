// `dbtls setup`: the mysql_ssl_rsa_setup drop-in. Same options, files, names and skip rules; plus
// --san, --days, --key-size, --key-format and --json.
import type { Command } from 'commander';
import { Option } from 'commander';
import { VERSION } from '../version.js';
import { helpSections } from '../help.js';
import { collect } from '../options.js';
import { run } from '../run.js';

export interface SetupFlags {
  datadir?: string;
  suffix?: string;
  uid?: string;
  verbose?: boolean;
  san: string[];
  days: string;
  keySize: string;
  keyType?: string;
  keyFormat: 'pkcs8' | 'pkcs1';
  json?: boolean;
  check?: boolean;
  defaultsFile?: string;
  defaultsExtraFile?: string;
  defaults: boolean;
}

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
    // Kept as strings and checked by the work (its messages are mysql_ssl_rsa_setup-style); help shows them as numbers.
    .addOption(new Option('--days <n>', 'validity in days').default('3650', '3650'))
    .addOption(new Option('--key-size <bits>', 'RSA key size: 2048, 3072 or 4096').default('2048', '2048'))
    .addOption(
      new Option(
        '--key-type <type>',
        'key of the CA, server and client certificates: rsa2048, rsa3072, rsa4096, p256 or p384 (the RSA pair stays RSA)',
      ),
    )
    .addOption(
      new Option('--key-format <format>', 'private key PEM format').choices(['pkcs8', 'pkcs1']).default('pkcs8'),
    )
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
          [
            'dbtls setup -d /var/lib/mysql --san db1.example.com --san 10.0.0.11',
            'certificates that pass VERIFY_IDENTITY',
          ],
          [
            'dbtls setup -d ./certs --days 825 --key-size 3072 --json',
            'shorter-lived, bigger keys, machine-readable report',
          ],
          ['ln -s "$(command -v dbtls)" /usr/local/bin/mysql_ssl_rsa_setup', 'keep old scripts working'],
        ],
        exitCodes: [
          [0, 'files written, or nothing to do (every file already there)'],
          [1, 'the work failed (I/O error, another run holds the lock)'],
          [2, 'usage or input error (no datadir, bad --suffix, --san, --days, --key-size); nothing written'],
        ],
      }),
    )
    .action((flags: SetupFlags) => run('setup', flags));
}
