// `dbtls keystore create|trust|list`: Java key and trust stores (JKS, PKCS#12) from PEM files.
import type { Command } from 'commander';
import { Option } from 'commander';
import { helpSections } from '../help.js';
import { collect } from '../options.js';
import { run } from '../run.js';

export interface StorepassFlags {
  storepass?: string;
  storepassFile?: string;
  json?: boolean;
}

export interface WriteFlags extends StorepassFlags {
  out: string;
  type?: 'jks' | 'pkcs12';
  force?: boolean;
  printStorepass?: boolean;
  check?: boolean;
}

export interface CreateFlags extends WriteFlags {
  cert: string;
  key: string;
  chain: string[];
  alias?: string;
}

export interface TrustFlags extends WriteFlags {
  ca: string[];
}

function storepassOptions(cmd: Command): Command {
  return cmd
    .option('--storepass-file <file>', 'the store password, from a file (default: $DBTLS_STOREPASS)')
    .option('--storepass <password>', 'the store password on the command line (visible in ps: prefer the file)');
}

function writeOptions(cmd: Command): Command {
  return storepassOptions(
    cmd
      .requiredOption('--out <file>', 'the store to write')
      .addOption(
        new Option('--type <type>', 'store type (default: from the extension: .p12/.pfx → pkcs12, else jks)').choices([
          'jks',
          'pkcs12',
        ]),
      )
      .option('--force', 'replace an existing file')
      .option('--check', 'change nothing: read and check the inputs, say what would be written')
      .option('--print-storepass', 'print a generated store password (otherwise it is only written to <out>.storepass)')
      .option('--json', 'print a JSON report'),
  );
}

const EXIT_CODES: Array<[number, string]> = [
  [0, 'done'],
  [1, 'the work failed (I/O)'],
  [
    2,
    'usage or input error (unreadable or mismatched files, wrong store password, existing --out without --force); nothing written',
  ],
];

export function registerKeystore(program: Command): void {
  const ks = program
    .command('keystore')
    .summary('Java key and trust stores (JKS, PKCS#12) from PEM files')
    .description(
      'Make and read Java key and trust stores that Java really accepts: JKS written natively, PKCS#12 with algorithms Java 8u301+/11/17 and OpenSSL 3 read, and PKCS#12 truststores Java lists as trustedCertEntry.',
    )
    .addHelpText(
      'after',
      helpSections({
        examples: [
          [
            'dbtls keystore create --cert client-cert.pem --key client-key.pem --chain ca.pem --out app.p12',
            'a client keystore for Connector/J',
          ],
          ['dbtls keystore trust --ca ca.pem --out truststore.jks', 'a truststore'],
          ['DBTLS_STOREPASS=… dbtls keystore list truststore.p12', 'what a store holds'],
        ],
        exitCodes: EXIT_CODES,
      }),
    );

  writeOptions(
    ks
      .command('create')
      .summary('a keystore: one private key with its certificate chain')
      .description(
        'Writes a keystore (PKCS#12 or JKS) holding one private key with its certificate chain, for a Java server or client.',
      )
      .requiredOption('--cert <file>', 'the certificate (PEM; may already hold its chain)')
      .requiredOption('--key <file>', 'its private key (PEM)')
      .option('--chain <file>', 'CA certificates to add to the chain (repeatable)', collect, [] as string[])
      .option('--alias <alias>', 'the entry alias (default: from the certificate CN)'),
  )
    .addHelpText(
      'after',
      helpSections({
        examples: [
          [
            'dbtls keystore create --cert pki/nodes/db1/server-cert.pem --key pki/nodes/db1/server-key.pem --chain pki/ca.pem --out db1.jks --alias tls',
            'a JKS keystore with the alias Tungsten expects',
          ],
          [
            'dbtls keystore create --cert app-cert.pem --key app-key.pem --chain ca.pem --out app.p12 --storepass-file pass.txt',
            'PKCS#12 with your own password',
          ],
        ],
        exitCodes: EXIT_CODES,
      }),
    )
    .action((flags: CreateFlags) => run('keystore create', flags));

  writeOptions(
    ks
      .command('trust')
      .summary('a truststore: CA certificates as trusted entries')
      .description('Writes a truststore (PKCS#12 or JKS) whose CA certificates Java lists as trusted entries.')
      .requiredOption(
        '--ca <file>',
        'a CA certificate file (repeatable; every certificate in it is added)',
        collect,
        [] as string[],
      ),
  )
    .addHelpText(
      'after',
      helpSections({
        examples: [
          [
            'dbtls keystore trust --ca pki/ca.pem --out truststore.p12',
            'a PKCS#12 truststore Java lists as trustedCertEntry',
          ],
          ['dbtls keystore trust --ca old-ca.pem --ca new-ca.pem --out both.jks', 'trust two CAs during a CA rotation'],
        ],
        exitCodes: EXIT_CODES,
      }),
    )
    .action((flags: TrustFlags) => run('keystore trust', flags));

  storepassOptions(
    ks
      .command('list')
      .summary('the entries of a store: aliases, types, chains, expiry')
      .description(
        'Lists the entries of a JKS, JCEKS or PKCS#12 store: aliases, entry types, certificate chains and expiry.',
      )
      .argument('<file>', 'a JKS, JCEKS or PKCS#12 store')
      .option('--json', 'print a JSON report'),
  )
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls keystore list truststore.jks', 'a JKS lists without its password (integrity not checked)'],
          ['dbtls keystore list app.p12 --storepass-file pass.txt', 'PKCS#12 needs it'],
        ],
        exitCodes: [
          [0, 'listed'],
          [1, 'the work failed'],
          [2, 'not a store, or a wrong password'],
        ],
      }),
    )
    .action((file: string, flags: StorepassFlags) => run('keystore list', file, flags));
}
