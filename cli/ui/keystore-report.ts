// What `dbtls keystore` prints: the store it would write (--check), the store it wrote (and where a
// generated password went), and a store's entries with their chains and days left; --json the reports.
import type { StoreInput } from '../../lib/keystore/types.js';
import { plural, printJson } from './mode.js';
import { DAY_MS } from '../../lib/pki/validity.js';

const out = (line: string): void => void process.stdout.write(line + '\n');

export interface StoreWritten {
  file: string;
  type: string;
  entries: Array<{ alias: string; kind: StoreInput['kind'] }>;
  /** Where a generated store password was written (none when one was given). */
  storepassFile?: string;
}

const entryList = (entries: StoreWritten['entries']) => entries.map((e) => `${e.alias} ${e.kind}`).join(', ');

export function printStorePlan(plan: StoreWritten, json: boolean): void {
  if (json)
    printJson({ ok: true, check: true, changed: true, file: plan.file, type: plan.type, entries: plan.entries });
  else out(`would write ${plan.file} (${plan.type}: ${entryList(plan.entries)})`);
}

/** The store written; with --print-storepass, a generated password on its own last line (after the JSON too). */
export function printStoreWritten(report: StoreWritten, json: boolean, printedStorepass?: string): void {
  if (json)
    printJson({
      ok: true,
      changed: true,
      file: report.file,
      type: report.type,
      entries: report.entries,
      ...(report.storepassFile ? { storepassFile: report.storepassFile } : {}),
    });
  else {
    out(
      `wrote ${report.file} (${report.type}, ${plural(report.entries.length, 'entry', 'entries')}: ${entryList(report.entries)})`,
    );
    if (report.storepassFile) out(`store password: generated, written to ${report.storepassFile} (0600)`);
  }
  if (printedStorepass !== undefined) out(printedStorepass);
}

export interface StoreListing {
  file: string;
  type: string;
  verified: boolean;
  entries: Array<{
    alias: string;
    kind: 'private-key' | 'trusted-cert' | 'secret-key';
    date?: string;
    algorithm?: string;
    chain: Array<{ subject: string; issuer: string; notAfter: string; fingerprint256: string }>;
  }>;
}

const KIND = {
  'private-key': 'PrivateKeyEntry',
  'trusted-cert': 'trustedCertEntry',
  'secret-key': 'SecretKeyEntry',
} as const;

export function printStoreListing(listing: StoreListing, json: boolean, now = Date.now()): void {
  if (json) return printJson(listing);
  const { file, type, verified, entries } = listing;
  out(
    `${file}: ${type.toUpperCase()}, ${plural(entries.length, 'entry', 'entries')}${verified ? '' : ' (integrity not checked: no store password given)'}`,
  );
  for (const e of entries) {
    out(
      `  ${e.alias}  ${KIND[e.kind]}${e.algorithm ? ` (${e.algorithm})` : ''}${e.chain.length > 1 ? `, chain of ${e.chain.length}` : ''}`,
    );
    for (const c of e.chain) {
      const days = Math.floor((Date.parse(c.notAfter) - now) / DAY_MS);
      out(`    ${c.subject}  until ${c.notAfter.slice(0, 10)} (${days < 0 ? 'EXPIRED' : `${days} days left`})`);
    }
  }
}
