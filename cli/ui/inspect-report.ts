// What `dbtls inspect` prints: each file's objects as labelled rows (a blank line between files),
// each file that could not be described as an error line on stderr; with --json one array, an
// entry per file, the failed ones included.
import { isDbtlsError } from '../../lib/errors.js';
import type { Described, FileDescription, KeyFacts } from '../../lib/pki/inspect-file.js';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';
import { ERROR_LINE_MAX, reportError } from '../report-error.js';
import { terminalText } from '../terminal.js';
import { plural, type OutputMode } from './mode.js';

export interface InspectPrinter {
  described(file: string, d: FileDescription): void;
  /** Shows why FILE could not be described, as every other error; returns the exit status it means. */
  failed(file: string, e: unknown): number;
  /** After the last file: the JSON array, with --json. */
  end(): void;
}

/** keyFile: the --key file, named in each certificate's key check. */
export function inspectPrinter(mode: OutputMode, keyFile: string | undefined): InspectPrinter {
  let shown = 0;
  const entries: unknown[] = [];
  return {
    described(file, d) {
      if (mode === 'json') entries.push({ file, ok: true, format: d.format, objects: d.objects });
      else process.stdout.write((shown++ ? '\n' : '') + renderFile(d, keyFile));
    },
    failed(file, e) {
      // An error of ours names the file already; anything else is given the file's name here.
      const named = isDbtlsError(e)
        ? e
        : Object.assign(new Error(`${file}: ${(e as Error)?.message ?? String(e)}`), { stack: (e as Error)?.stack });
      // Its text on stderr; with --json its entry in the array, not a JSON error of its own.
      const status = reportError(named, { json: false });
      if (mode === 'json') {
        const error = isDbtlsError(e)
          ? { code: e.code, message: e.message, hint: e.hint }
          : { code: 'failure', message: (e as Error).message };
        entries.push({ file, ok: false, error });
      }
      return status;
    },
    end() {
      if (mode === 'json') process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
    },
  };
}

const KEY_NAMES: Record<string, string> = {
  rsa: 'RSA',
  'rsa-pss': 'RSA-PSS',
  ec: 'EC',
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  dsa: 'DSA',
};
const FORMAT_NAMES: Record<string, string> = {
  pkcs8: 'PKCS#8',
  pkcs1: 'PKCS#1',
  sec1: 'SEC1 (EC)',
  spki: 'SubjectPublicKeyInfo',
  other: 'other',
};
const TITLES: Record<Described['kind'], string> = {
  certificate: 'certificate',
  'private-key': 'private key',
  'public-key': 'public key',
  csr: 'certificate request',
  'store-entry': 'keystore entry',
  other: 'PEM block',
};

type Row = [label: string, value: string | undefined];

function renderFile(d: FileDescription, keyFile: string | undefined): string {
  const count = d.objects.length > 1 ? `, ${d.objects.length} objects` : '';
  // "jks, integrity not checked…" → "JKS, integrity not checked…": the format name in capitals, the note as written.
  const format = d.format.replace(/^[a-z0-9]+/, (f) => f.toUpperCase());
  // A name from a glob (`inspect *.pem` in a folder others write) is foreign text too.
  return (
    `${sanitizeForTerminal(d.file, ERROR_LINE_MAX)} (${sanitizeForTerminal(format)}${count})\n` +
    d.objects.map((o) => renderObject(o, keyFile)).join('')
  );
}

function renderObject(o: Described, keyFile: string | undefined): string {
  const rows = rowsOf(o, keyFile)
    .filter((r): r is [string, string] => r[1] !== undefined)
    // The values come from the file (subjects, SANs, aliases, a CSR's names): one printable line each.
    .map(([label, value]) => `    ${label.padEnd(14)} ${terminalText(value, 16_384)}\n`);
  return `  ${TITLES[o.kind]}\n${rows.join('')}`;
}

function keyText(k: Partial<KeyFacts>): string | undefined {
  if (k.keyType === undefined) return undefined;
  const name = KEY_NAMES[k.keyType] ?? k.keyType;
  if (k.keyType.startsWith('ed')) return name; // the size is the algorithm's
  return [name, k.keyBits, k.curve && `(${k.curve})`].filter(Boolean).join(' ');
}

const list = (xs: string[] | undefined) => (xs === undefined ? undefined : xs.length ? xs.join(', ') : '(none)');
const yesNo = (b: boolean) => (b ? 'yes' : 'no');
const when = (d: Date) =>
  d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');

function rowsOf(o: Described, keyFile: string | undefined): Row[] {
  switch (o.kind) {
    case 'certificate': {
      const state =
        o.status === 'expired'
          ? 'EXPIRED'
          : o.status === 'not-yet-valid'
            ? 'NOT YET VALID'
            : `${plural(o.daysLeft, 'day')} left`;
      return [
        ['subject', o.subject],
        ['issuer', o.issuer + (o.selfSigned ? '  (self-signed)' : '')],
        ['serial', o.serial],
        ['SANs', list(o.sans)],
        ['validity', `${when(o.notBefore)} to ${when(o.notAfter)}  (${state})`],
        ['SHA-256', o.fingerprint256],
        ['key', keyText(o)],
        ['key SHA-256', o.spkiSha256],
        ['signature', o.signatureAlgorithm],
        ['CA', yesNo(o.isCA)],
        ['key usage', list(o.keyUsage)],
        ['ext key usage', list(o.extKeyUsage)],
        [
          'chain',
          o.chain &&
            (o.chain.ok
              ? `OK${o.chain.path.length > 1 ? `: issued by ${o.chain.path.slice(1).join(' < ')}` : ' (a trusted root)'}`
              : `FAILED: ${o.chain.reason}`),
        ],
        [
          'key file',
          o.keyMatches === undefined ? undefined : `${o.keyMatches ? 'matches' : 'DOES NOT MATCH'} ${keyFile}`,
        ],
      ];
    }
    case 'private-key':
      return [
        ['key', keyText(o) ?? (o.encrypted ? 'unknown until decrypted' : undefined)],
        ['format', (o.encrypted ? 'encrypted ' : '') + FORMAT_NAMES[o.format]],
        ['encryption', o.encryption],
        ['key SHA-256', o.spkiSha256],
      ];
    case 'public-key':
      return [
        ['key', keyText(o)],
        ['format', FORMAT_NAMES[o.format]],
        ['key SHA-256', o.spkiSha256],
      ];
    case 'csr':
      return [
        ['subject', o.subject],
        ['SANs', list(o.sans)],
        ['key', keyText(o)],
        ['key SHA-256', o.spkiSha256],
        [
          'signature',
          `${o.signatureAlgorithm}, ${o.signatureValid === undefined ? 'not checked' : o.signatureValid ? 'valid' : 'INVALID'}`,
        ],
        ['key usage', list(o.keyUsage)],
        ['ext key usage', list(o.extKeyUsage)],
      ];
    case 'store-entry':
      return [
        ['alias', o.alias],
        ['entry type', o.entryType],
        ['created', o.date && when(o.date)],
        [
          o.entryType === 'SecretKeyEntry' ? 'algorithm' : 'certificates',
          o.entryType === 'SecretKeyEntry' ? (o.algorithm ?? 'unknown until opened') : String(o.chainLength),
        ],
      ];
    case 'other':
      return [
        ['label', o.label],
        ['not read', o.reason],
      ];
  }
}
