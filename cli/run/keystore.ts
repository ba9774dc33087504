// The work of `dbtls keystore create|trust|list` (spec: cli/commands/keystore.ts).
import { inputError, isDbtlsError } from '../../lib/errors.js';
import { keyEntryFromFiles, trustedEntriesFromFiles } from '../../lib/keystore/from-files.js';
import { generateStorepass, storepassFromSources } from '../../lib/keystore/passwords.js';
import { readStore, storeTypeFromName, writeStore } from '../../lib/keystore/store.js';
import type { StoreInput } from '../../lib/keystore/types.js';
import { CERT_MODE, KEY_MODE, writeFileAtomic } from '../../lib/store/atomic-write.js';
import { exists } from '../../lib/store/pki-dir.js';
import { readGivenFile } from '../../lib/store/safe-fs.js';
import type { CreateFlags, StorepassFlags, TrustFlags, WriteFlags } from '../commands/keystore.js';
import { readProblem } from '../input-files.js';
import { storepassFlags } from '../secrets.js';
import { printStoreListing, printStorePlan, printStoreWritten, type StoreListing } from '../ui/keystore-report.js';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { standaloneAudit } from '../audit.js';

export function keystoreCreate(flags: CreateFlags): Promise<number> {
  return writeCommand('keystore create', flags, async () => [
    await keyEntryFromFiles({ cert: flags.cert, key: flags.key, chain: flags.chain, alias: flags.alias }),
  ]);
}

export function keystoreTrust(flags: TrustFlags): Promise<number> {
  return writeCommand('keystore trust', flags, () => trustedEntriesFromFiles(flags.ca));
}

async function writeCommand(command: string, flags: WriteFlags, entries: () => Promise<StoreInput[]>): Promise<number> {
  const json = Boolean(flags.json);
  if (!flags.force && (await exists(flags.out)))
    throw inputError('exists', `${flags.out} exists`, { file: flags.out }, 'pass --force to replace it');
  const type = flags.type ?? storeTypeFromName(flags.out) ?? 'jks';
  const given = await storepassFromSources(await storepassFlags(flags));
  const password = given ?? generateStorepass();
  const list = await entries();
  const summary = { file: flags.out, type, entries: list.map((e) => ({ alias: e.alias.toLowerCase(), kind: e.kind })) };
  if (flags.check) {
    // The inputs are read and checked (key matches certificate, chain parses); nothing is written.
    printStorePlan(summary, json);
    return 0;
  }
  const audit = await standaloneAudit(command);
  const data = await writeStore(type, list, password);
  const hasKey = list.some((e) => e.kind === 'private-key');
  const passFile = given === undefined ? `${flags.out}.storepass` : undefined;
  if (passFile) await writeFileAtomic(passFile, password + '\n', { mode: KEY_MODE });
  await writeFileAtomic(flags.out, data, { mode: hasKey ? KEY_MODE : CERT_MODE });
  audit.record('keystore-written', {
    file: resolve(flags.out),
    type,
    sha256: createHash('sha256').update(data).digest('hex'),
    entries: summary.entries,
    ...(passFile ? { storepassFile: resolve(passFile) } : {}),
  });
  printStoreWritten(
    { ...summary, ...(passFile ? { storepassFile: passFile } : {}) },
    json,
    passFile && flags.printStorepass ? password : undefined,
  );
  return 0;
}

export async function keystoreList(file: string, flags: StorepassFlags): Promise<number> {
  // Bounded, and only a regular file (`keystore list /dev/zero` read without end before).
  const bytes = await readGivenFile(file).catch((e: unknown) => {
    throw isDbtlsError(e) ? e : inputError('unreadable', `${file}: ${readProblem(e)}`, { file });
  });
  const listing = await readStore(bytes, await storepassFromSources(await storepassFlags(flags)), file);
  const report: StoreListing = {
    file,
    type: listing.type,
    verified: listing.verified,
    entries: listing.entries.map((e) => ({
      alias: e.alias,
      kind: e.kind,
      ...(e.date ? { date: e.date.toISOString() } : {}),
      ...(e.algorithm ? { algorithm: e.algorithm } : {}),
      chain: e.certificates.map((c) => ({
        subject: c.subject.replace(/\n/g, ', '),
        issuer: c.issuer.replace(/\n/g, ', '),
        notAfter: new Date(c.validTo).toISOString(),
        fingerprint256: c.fingerprint256,
      })),
    })),
  };
  printStoreListing(report, Boolean(flags.json));
  return 0;
}
