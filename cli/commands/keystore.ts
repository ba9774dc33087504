// `dbtls keystore create|trust|list`: Java key and trust stores (JKS, PKCS#12) from PEM files.
import type { Command } from 'commander';
import { Option } from 'commander';
import { helpSections } from '../help.js';
import { reportError } from '../report-error.js';

interface StorepassFlags {
  storepass?: string;
  storepassFile?: string;
  json?: boolean;
}

interface WriteFlags extends StorepassFlags {
  out: string;
  type?: 'jks' | 'pkcs12';
  force?: boolean;
  printStorepass?: boolean;
  check?: boolean;
}

interface CreateFlags extends WriteFlags {
  cert: string;
  key: string;
  chain: string[];
  alias?: string;
}

interface TrustFlags extends WriteFlags {
  ca: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

function storepassOptions(cmd: Command): Command {
  return cmd
    .option('--storepass-file <file>', 'the store password, from a file (default: $DBTLS_STOREPASS)')
    .option('--storepass <password>', 'the store password on the command line (visible in ps: prefer the file)');
}

function writeOptions(cmd: Command): Command {
  return storepassOptions(
    cmd
      .requiredOption('--out <file>', 'the store to write')
      .addOption(new Option('--type <type>', 'store type (default: from the extension: .p12/.pfx → pkcs12, else jks)').choices(['jks', 'pkcs12']))
      .option('--force', 'replace an existing file')
      .option('--check', 'change nothing: read and check the inputs, say what would be written')
      .option('--print-storepass', 'print a generated store password (otherwise it is only written to <out>.storepass)')
      .option('--json', 'print a JSON report'),
  );
}

const EXIT_CODES: Array<[number, string]> = [
  [0, 'done'],
  [1, 'the work failed (I/O)'],
  [2, 'usage or input error (unreadable or mismatched files, wrong store password, existing --out without --force); nothing written'],
];

export function registerKeystore(program: Command): void {
  const ks = program
    .command('keystore')
    .summary('Java key and trust stores (JKS, PKCS#12) from PEM files')
    .description('Make and read Java key and trust stores that Java really accepts: JKS written natively, PKCS#12 with algorithms Java 8u301+/11/17 and OpenSSL 3 read, and PKCS#12 truststores Java lists as trustedCertEntry.')
    .addHelpText('after', helpSections({
      examples: [
        ['dbtls keystore create --cert client-cert.pem --key client-key.pem --chain ca.pem --out app.p12', 'a client keystore for Connector/J'],
        ['dbtls keystore trust --ca ca.pem --out truststore.jks', 'a truststore'],
        ['DBTLS_STOREPASS=… dbtls keystore list truststore.p12', 'what a store holds'],
      ],
      exitCodes: EXIT_CODES,
    }));

  writeOptions(
    ks
      .command('create')
      .summary('a keystore: one private key with its certificate chain')
      .description('Writes a keystore (PKCS#12 or JKS) holding one private key with its certificate chain, for a Java server or client.')
      .requiredOption('--cert <file>', 'the certificate (PEM; may already hold its chain)')
      .requiredOption('--key <file>', 'its private key (PEM)')
      .option('--chain <file>', 'CA certificates to add to the chain (repeatable)', collect, [] as string[])
      .option('--alias <alias>', 'the entry alias (default: from the certificate CN)'),
  )
    .addHelpText('after', helpSections({
      examples: [
        ['dbtls keystore create --cert pki/nodes/db1/server-cert.pem --key pki/nodes/db1/server-key.pem --chain pki/ca.pem --out db1.jks --alias tls', 'a JKS keystore with the alias Tungsten expects'],
        ['dbtls keystore create --cert app-cert.pem --key app-key.pem --chain ca.pem --out app.p12 --storepass-file pass.txt', 'PKCS#12 with your own password'],
      ],
      exitCodes: EXIT_CODES,
    }))
    .action(async (flags: CreateFlags) => {
      process.exitCode = await writeCommand(flags, async () => {
        const { keyEntryFromFiles } = await import('../../lib/keystore/from-files.js');
        return [await keyEntryFromFiles({ cert: flags.cert, key: flags.key, chain: flags.chain, alias: flags.alias })];
      });
    });

  writeOptions(
    ks
      .command('trust')
      .summary('a truststore: CA certificates as trusted entries')
      .description('Writes a truststore (PKCS#12 or JKS) whose CA certificates Java lists as trusted entries.')
      .requiredOption('--ca <file>', 'a CA certificate file (repeatable; every certificate in it is added)', collect, [] as string[]),
  )
    .addHelpText('after', helpSections({
      examples: [
        ['dbtls keystore trust --ca pki/ca.pem --out truststore.p12', 'a PKCS#12 truststore Java lists as trustedCertEntry'],
        ['dbtls keystore trust --ca old-ca.pem --ca new-ca.pem --out both.jks', 'trust two CAs during a CA rotation'],
      ],
      exitCodes: EXIT_CODES,
    }))
    .action(async (flags: TrustFlags) => {
      process.exitCode = await writeCommand(flags, async () => {
        const { trustedEntriesFromFiles } = await import('../../lib/keystore/from-files.js');
        return trustedEntriesFromFiles(flags.ca);
      });
    });

  storepassOptions(
    ks
      .command('list')
      .summary('the entries of a store: aliases, types, chains, expiry')
      .description('Lists the entries of a JKS, JCEKS or PKCS#12 store: aliases, entry types, certificate chains and expiry.')
      .argument('<file>', 'a JKS, JCEKS or PKCS#12 store')
      .option('--json', 'print a JSON report'),
  )
    .addHelpText('after', helpSections({
      examples: [
        ['dbtls keystore list truststore.jks', 'a JKS lists without its password (integrity not checked)'],
        ['dbtls keystore list app.p12 --storepass-file pass.txt', 'PKCS#12 needs it'],
      ],
      exitCodes: [[0, 'listed'], [1, 'the work failed'], [2, 'not a store, or a wrong password']],
    }))
    .action(async (file: string, flags: StorepassFlags) => {
      process.exitCode = await listCommand(file, flags);
    });
}

async function writeCommand(flags: WriteFlags, entries: () => Promise<import('../../lib/keystore/types.js').StoreInput[]>): Promise<number> {
  try {
    const { storepassFromSources, generateStorepass } = await import('../../lib/keystore/passwords.js');
    const { storeTypeFromName, writeStore } = await import('../../lib/keystore/store.js');
    const { writeFileAtomic, KEY_MODE, CERT_MODE } = await import('../../lib/store/atomic-write.js');
    const { exists } = await import('../../lib/store/pki-dir.js');
    const { inputError } = await import('../../lib/errors.js');
    if (!flags.force && (await exists(flags.out))) throw inputError('exists', `${flags.out} exists`, { file: flags.out }, 'pass --force to replace it');
    const type = flags.type ?? storeTypeFromName(flags.out) ?? 'jks';
    const given = await storepassFromSources(await (await import('../secrets.js')).storepassFlags(flags));
    const password = given ?? generateStorepass();
    const list = await entries();
    if (flags.check) {
      // The inputs are read and checked (key matches certificate, chain parses); nothing is written.
      const plan = { ok: true, check: true, changed: true, file: flags.out, type, entries: list.map((e) => ({ alias: e.alias.toLowerCase(), kind: e.kind })) };
      process.stdout.write(flags.json ? JSON.stringify(plan, null, 2) + '\n' : `would write ${flags.out} (${type}: ${plan.entries.map((e) => `${e.alias} ${e.kind}`).join(', ')})\n`);
      return 0;
    }
    const data = await writeStore(type, list, password);
    const hasKey = list.some((e) => e.kind === 'private-key');
    const passFile = given === undefined ? `${flags.out}.storepass` : undefined;
    if (passFile) await writeFileAtomic(passFile, password + '\n', { mode: KEY_MODE });
    await writeFileAtomic(flags.out, data, { mode: hasKey ? KEY_MODE : CERT_MODE });
    const report = { ok: true, changed: true, file: flags.out, type, entries: list.map((e) => ({ alias: e.alias.toLowerCase(), kind: e.kind })), ...(passFile ? { storepassFile: passFile } : {}) };
    if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else {
      process.stdout.write(`wrote ${flags.out} (${type}, ${list.length} entr${list.length === 1 ? 'y' : 'ies'}: ${report.entries.map((e) => `${e.alias} ${e.kind}`).join(', ')})\n`);
      if (passFile) process.stdout.write(`store password: generated, written to ${passFile} (0600)\n`);
    }
    if (passFile && flags.printStorepass) process.stdout.write(`${password}\n`);
    return 0;
  } catch (e) {
    return reportError(e, { json: Boolean(flags.json) });
  }
}

async function listCommand(file: string, flags: StorepassFlags): Promise<number> {
  try {
    const { storepassFromSources } = await import('../../lib/keystore/passwords.js');
    const { readStore } = await import('../../lib/keystore/store.js');
    const { inputError, isDbtlsError } = await import('../../lib/errors.js');
    const { readGivenFile } = await import('../../lib/store/safe-fs.js');
    const { readProblem } = await import('../input-files.js');
    // Bounded, and only a regular file (`keystore list /dev/zero` read without end before).
    const bytes = await readGivenFile(file).catch((e: unknown) => {
      throw isDbtlsError(e) ? e : inputError('unreadable', `${file}: ${readProblem(e)}`, { file });
    });
    const listing = await readStore(bytes, await storepassFromSources(await (await import('../secrets.js')).storepassFlags(flags)), file);
    const entries = listing.entries.map((e) => ({
      alias: e.alias,
      kind: e.kind,
      ...(e.date ? { date: e.date.toISOString() } : {}),
      ...(e.algorithm ? { algorithm: e.algorithm } : {}),
      chain: e.certificates.map((c) => ({ subject: c.subject.replace(/\n/g, ', '), issuer: c.issuer.replace(/\n/g, ', '), notAfter: new Date(c.validTo).toISOString(), fingerprint256: c.fingerprint256 })),
    }));
    if (flags.json) {
      process.stdout.write(JSON.stringify({ file, type: listing.type, verified: listing.verified, entries }, null, 2) + '\n');
      return 0;
    }
    process.stdout.write(`${file}: ${listing.type.toUpperCase()}, ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}${listing.verified ? '' : ' (integrity not checked: no store password given)'}\n`);
    const KIND = { 'private-key': 'PrivateKeyEntry', 'trusted-cert': 'trustedCertEntry', 'secret-key': 'SecretKeyEntry' } as const;
    for (const e of entries) {
      process.stdout.write(`  ${e.alias}  ${KIND[e.kind]}${e.algorithm ? ` (${e.algorithm})` : ''}${e.chain.length > 1 ? `, chain of ${e.chain.length}` : ''}\n`);
      for (const c of e.chain) {
        const days = Math.floor((Date.parse(c.notAfter) - Date.now()) / 86_400_000);
        process.stdout.write(`    ${c.subject}  until ${c.notAfter.slice(0, 10)} (${days < 0 ? 'EXPIRED' : `${days} days left`})\n`);
      }
    }
    return 0;
  } catch (e) {
    return reportError(e, { json: Boolean(flags.json) });
  }
}
