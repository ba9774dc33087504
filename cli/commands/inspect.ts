// `dbtls inspect FILE…`: what certificate, key and CSR files hold, short and human (or --json).
// Every file is described even when another fails; the exit status is the worst one.
import type { Command } from 'commander';
import { helpSections } from '../help.js';
import { ERROR_LINE_MAX, errorLines, reportError } from '../report-error.js';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';
import { terminalText } from '../terminal.js';
import type { Described, FileDescription, KeyFacts } from '../../lib/pki/inspect-file.js';

interface InspectFlags {
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
    .option('--ca <file>', 'verify every certificate up to this CA (other certificates in the same file serve as intermediates)')
    .option('--key <file>', "check that this private or public key belongs to each file's first certificate")
    .option('--json', 'print a JSON array: one entry per file, with its objects')
    .option('--storepass-file <file>', 'password of Java stores (default: $DBTLS_STOREPASS); JKS lists without it, PKCS#12 needs it')
    .option('--storepass <password>', 'the same, on the command line (visible in ps: prefer the file)')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls inspect /var/lib/mysql/server-cert.pem', 'who, until when, for which names'],
          ['dbtls inspect server-cert.pem --ca ca.pem --key server-key.pem', 'will the server accept this pair, and will clients trust it?'],
          ['dbtls inspect *.pem *.der --json | jq \'.[].objects[] | select(.kind == "certificate") | .daysLeft\'', 'days left, for a script'],
          ['dbtls inspect request.csr', 'what a certificate request asks for, and whether its signature holds'],
          ['DBTLS_STOREPASS=… dbtls inspect truststore.p12 tungsten_keystore.jks', 'what Java stores hold'],
        ],
        exitCodes: [
          [0, 'every file described (and every --ca / --key check passed)'],
          [1, 'a --ca chain or --key match check failed'],
          [2, 'a file is missing, unreadable or holds nothing recognisable (the others are still shown); bad --ca or --key file'],
        ],
      }),
    )
    .action(async (files: string[], flags: InspectFlags) => {
      process.exitCode = await runInspect(files, flags);
    });
}

async function runInspect(files: string[], flags: InspectFlags): Promise<number> {
  const json = Boolean(flags.json);
  try {
    const { describeFile, loadRoots, loadMatchKey } = await import('../../lib/pki/inspect-file.js');
    const { isDbtlsError } = await import('../../lib/errors.js');
    const { storepassFromSources } = await import('../../lib/keystore/passwords.js');
    const opts = {
      now: new Date(),
      storepass: await storepassFromSources(await (await import('../secrets.js')).storepassFlags(flags)),
      roots: flags.ca === undefined ? undefined : await loadRoots(flags.ca),
      key: flags.key === undefined ? undefined : await loadMatchKey(flags.key),
    };
    const results = await Promise.allSettled(files.map((f) => describeFile(f, opts)));

    let status = 0;
    let shown = 0;
    const entries: unknown[] = [];
    results.forEach((r, i) => {
      const file = files[i]!;
      if (r.status === 'fulfilled') {
        if (failedChecks(r.value)) status = Math.max(status, 1);
        if (json) entries.push({ file, ok: true, format: r.value.format, objects: r.value.objects });
        else process.stdout.write((shown++ ? '\n' : '') + renderFile(r.value, flags.key));
        return;
      }
      const e = r.reason as Error;
      status = Math.max(status, isDbtlsError(e) ? e.exitCode : 1);
      const error = isDbtlsError(e) ? { code: e.code, message: e.message, hint: e.hint } : { code: 'failure', message: e.message };
      process.stderr.write(`dbtls: ${isDbtlsError(e) ? errorLines(e).join('\n') : sanitizeForTerminal(`${file}: ${e.message}`, ERROR_LINE_MAX)}\n`);
      if (isDbtlsError(e) && e.hint) process.stderr.write(`hint: ${sanitizeForTerminal(e.hint, ERROR_LINE_MAX)}\n`);
      if (json) entries.push({ file, ok: false, error });
    });
    if (json) process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
    return status;
  } catch (e) {
    return reportError(e, { json });
  }
}

function failedChecks(d: FileDescription): boolean {
  return d.objects.some((o) => o.kind === 'certificate' && (o.chain?.ok === false || o.keyMatches === false));
}

// ---- text ----

const KEY_NAMES: Record<string, string> = { rsa: 'RSA', 'rsa-pss': 'RSA-PSS', ec: 'EC', ed25519: 'Ed25519', ed448: 'Ed448', dsa: 'DSA' };
const FORMAT_NAMES: Record<string, string> = { pkcs8: 'PKCS#8', pkcs1: 'PKCS#1', sec1: 'SEC1 (EC)', spki: 'SubjectPublicKeyInfo', other: 'other' };
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
  return `${sanitizeForTerminal(d.file, ERROR_LINE_MAX)} (${sanitizeForTerminal(format)}${count})\n` + d.objects.map((o) => renderObject(o, keyFile)).join('');
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
const when = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

function rowsOf(o: Described, keyFile: string | undefined): Row[] {
  switch (o.kind) {
    case 'certificate': {
      const state =
        o.status === 'expired' ? 'EXPIRED' : o.status === 'not-yet-valid' ? 'NOT YET VALID' : `${o.daysLeft} day${o.daysLeft === 1 ? '' : 's'} left`;
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
        ['chain', o.chain && (o.chain.ok ? `OK${o.chain.path.length > 1 ? `: issued by ${o.chain.path.slice(1).join(' < ')}` : ' (a trusted root)'}` : `FAILED: ${o.chain.reason}`)],
        ['key file', o.keyMatches === undefined ? undefined : `${o.keyMatches ? 'matches' : 'DOES NOT MATCH'} ${keyFile}`],
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
        ['signature', `${o.signatureAlgorithm}, ${o.signatureValid === undefined ? 'not checked' : o.signatureValid ? 'valid' : 'INVALID'}`],
        ['key usage', list(o.keyUsage)],
        ['ext key usage', list(o.extKeyUsage)],
      ];
    case 'store-entry':
      return [
        ['alias', o.alias],
        ['entry type', o.entryType],
        ['created', o.date && when(o.date)],
        [o.entryType === 'SecretKeyEntry' ? 'algorithm' : 'certificates', o.entryType === 'SecretKeyEntry' ? o.algorithm ?? 'unknown until opened' : String(o.chainLength)],
      ];
    case 'other':
      return [['label', o.label], ['not read', o.reason]];
  }
}
