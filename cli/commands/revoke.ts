// `dbtls revoke -i INV (--node N | --client C | --serial S) --reason R` and `dbtls crl refresh -i INV`.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { addInventoryOptions, type InventoryFlags } from '../inventory-options.js';
import { run } from '../run.js';

export interface RevokeFlags extends InventoryFlags {
  node?: string;
  client?: string;
  serial?: string;
  reason: string;
  caPassphraseFile?: string;
  json?: boolean;
}

export interface CrlRefreshFlags extends InventoryFlags {
  force?: boolean;
  caPassphraseFile?: string;
  json?: boolean;
}

const PASSPHRASE = ['--ca-passphrase-file <file>', 'passphrase of the CA key (default: $DBTLS_CA_PASSPHRASE)'] as const;

export function registerRevoke(program: Command): void {
  const revoke = program
    .command('revoke')
    .summary("revoke a node's or client's certificates: the CA signs a new CRL")
    .description(
      'Records the certificates as revoked in the manifest and signs the CRL (crl.pem) again; needs ca.crlDays in ' +
        'the inventory. Then `dbtls issue` replaces a revoked certificate the inventory still needs, and `dbtls push` ' +
        'delivers the CRL to the products that honour one (MySQL, MariaDB, Percona) and reloads them.',
    );
  addInventoryOptions(revoke)
    .option('--node <name>', "the node's server and client certificates (a node gone from the inventory too)")
    .option('--client <name>', "the client's certificate")
    .option('--serial <hex>', 'one certificate by serial (colons allowed)')
    .option(
      '--reason <reason>',
      'unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn, aACompromise',
      'unspecified',
    )
    .option(...PASSPHRASE)
    .option('--json', 'print a JSON report')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls revoke -i cluster.yml --node db3 --reason cessationOfOperation', 'a node taken out of service'],
          [
            'dbtls revoke -i cluster.yml --client app --reason keyCompromise && dbtls apply -i cluster.yml',
            'a leaked key',
          ],
        ],
        exitCodes: [
          [0, 'revoked (or already revoked) and the CRL signed'],
          [2, 'usage or input error (revocation off, no such certificate, nothing issued yet); nothing written'],
        ],
      }),
    )
    .action((flags: RevokeFlags) => run('revoke', flags));

  const crl = program
    .command('crl')
    .summary('the certificate revocation list')
    .description("Keeps the CA's CRL (crl.pem) signed before it lapses; needs ca.crlDays in the inventory.")
    .addHelpText(
      'after',
      helpSections({
        examples: [['dbtls crl refresh -i cluster.yml', 'sign it again once half its life has passed']],
        exitCodes: [
          [0, 'the CRL is fresh'],
          [2, 'usage or input error'],
        ],
      }),
    );
  const refresh = crl
    .command('refresh')
    .summary('sign the CRL again before it lapses (schedule runs it)')
    .description(
      'An expired CRL makes MySQL-family servers refuse every client certificate. Signs the CRL again when half ' +
        'its validity (ca.crlDays) has passed, or at once with --force.',
    );
  addInventoryOptions(refresh)
    .option('--force', 'sign again now, however long the CRL has left')
    .option(...PASSPHRASE)
    .option('--json', 'print a JSON report')
    .addHelpText(
      'after',
      helpSections({
        examples: [['dbtls crl refresh -i cluster.yml && dbtls push -i cluster.yml', 'in cron, daily']],
        exitCodes: [
          [0, 'the CRL is fresh (signed now, or not due)'],
          [2, 'usage or input error (revocation off, nothing issued yet)'],
        ],
      }),
    )
    .action((flags: CrlRefreshFlags) => run('crl refresh', flags));
}
