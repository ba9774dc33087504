// `dbtls inspect FILE…`: what certificate, key and CSR files hold, short and human (or --json).
// Every file is described even when another fails; the exit status is the worst one.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { run } from '../run.js';

export interface InspectFlags {
  ca?: string;
  key?: string;
  json?: boolean;
  storepass?: string;
  storepassFile?: string;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .summary('show what certificate, key, CSR and keystore files hold (PEM, DER, JKS, JCEKS, PKCS#12)')
    .description(
      'Summarises each FILE: certificates (subject, issuer, serial, SANs, validity, ' +
        'SHA-256 fingerprint, key, CA, key usage), private keys (type, size, format; ' +
        'an encrypted key is described without its passphrase; key material is never ' +
        'printed), public keys, certificate requests, and Java stores (JKS, JCEKS, ' +
        'PKCS#12: each entry with its alias, type and certificates). A file may hold ' +
        'several PEM blocks (a chain, a key and its certificate) or one DER object.',
    )
    .argument('<file...>', 'files to inspect')
    .option(
      '--ca <file>',
      'verify every certificate up to this CA (other certificates in the same file serve as intermediates)',
    )
    .option('--key <file>', "check that this private or public key belongs to each file's first certificate")
    .option('--json', 'print a JSON array: one entry per file, with its objects')
    .option(
      '--storepass-file <file>',
      'password of Java stores (default: $DBTLS_STOREPASS); JKS lists without it, PKCS#12 needs it',
    )
    .option('--storepass <password>', 'the same, on the command line (visible in ps: prefer the file)')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls inspect /var/lib/mysql/server-cert.pem', 'who, until when, for which names'],
          [
            'dbtls inspect server-cert.pem --ca ca.pem --key server-key.pem',
            'will the server accept this pair, and will clients trust it?',
          ],
          [
            'dbtls inspect *.pem *.der --json | jq \'.[].objects[] | select(.kind == "certificate") | .daysLeft\'',
            'days left, for a script',
          ],
          ['dbtls inspect request.csr', 'what a certificate request asks for, and whether its signature holds'],
          ['DBTLS_STOREPASS=… dbtls inspect truststore.p12 tungsten_keystore.jks', 'what Java stores hold'],
        ],
        exitCodes: [
          [0, 'every file described (and every --ca / --key check passed)'],
          [1, 'a --ca chain or --key match check failed'],
          [
            2,
            'a file is missing, unreadable or holds nothing recognisable (the others are still shown); bad --ca or --key file',
          ],
        ],
      }),
    )
    .action((files: string[], flags: InspectFlags) => run('inspect', files, flags));
}
