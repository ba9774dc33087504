// `dbtls probe HOST[:PORT]`: what a MySQL-protocol server serves on its SQL port, and whether a
// client that checks would accept it. `openssl s_client -starttls mysql`, with a verdict.
import type { Command } from 'commander';
import { seconds } from '../options.js';
import { helpSections } from '../help.js';
import { reportError } from '../report-error.js';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';
import { terminalText } from '../terminal.js';
import type { ProbeResult, ServedCert } from '../../lib/probe/probe.js';

interface ProbeFlags {
  ca?: string;
  servername?: string;
  json?: boolean;
  /** seconds */
  timeout: number;
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .summary('show the certificate a MySQL-protocol server serves, and whether it verifies against a CA and name')
    .description(
      'Connects to HOST[:PORT] (default port 3306) as a MySQL client does: reads the ' +
        'server greeting, sends an SSLRequest and does the TLS handshake on the same ' +
        'connection (what `openssl s_client -starttls mysql` does), then hangs up ' +
        'before logging in. Works for MySQL, MariaDB, Percona, TiDB and ProxySQL ' +
        'frontends: they all send the same greeting.\n' +
        '\n' +
        'Shows the served chain (subject, issuer, SANs, serial, validity, SHA-256 ' +
        'fingerprint), the server version, TLS version and cipher, and two verdicts: ' +
        'the chain against the CA (--ca: a PEM file that may hold several CAs, e.g. ' +
        "old and new during a CA rotation; default the system's root CAs), and the " +
        'certificate against the name (--servername, default HOST; an IP address is ' +
        'checked against the IP SANs). HOST: a name, an IPv4 address, ::1, [::1]:PORT.',
    )
    .argument('<host[:port]>', 'the server: db1, db1:3307, 10.0.0.5:6033, [::1]:4000')
    .option('--ca <file>', 'PEM file of the trusted CA(s) (default: the system root CAs)')
    .option('--servername <name>', 'the name (or IP) the certificate must be made out to; sent as SNI unless an IP (default: HOST)')
    .option('--timeout <seconds>', 'deadline of each step: connect, greeting, TLS handshake', seconds(3600), 10)
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      helpSections({
        examples: [
          ['dbtls probe db1.example.com --ca pki/ca.pem', 'what db1 serves on 3306, and would VERIFY_IDENTITY accept it?'],
          ['dbtls probe 10.0.0.11:3306 --ca pki/ca.pem --servername db1.example.com', 'dial the IP, check the name clients use'],
          ['dbtls probe proxysql1:6033 --ca pki/ca.pem', "a ProxySQL frontend (TiDB: port 4000)"],
          ['dbtls probe db1 --ca ca-bundle.pem --json | jq -r .leaf.serialHex', 'the served serial, for a script'],
        ],
        exitCodes: [
          [0, 'served over TLS; the chain verifies against the CA and the certificate matches the name'],
          [1, 'not verified (chain or name), or no answer: refused, timed out, not MySQL, no TLS offered, server error'],
          [2, 'usage error: bad HOST[:PORT] or --timeout, --ca file unreadable or without a certificate'],
        ],
      }),
    )
    .action(async (target: string, flags: ProbeFlags) => {
      process.exitCode = await runProbe(target, flags);
    });
}

const DAY = 86_400_000;

// Everything below but the labels came from the server (its version string, its certificates'
// subjects, issuers and SANs, the verdicts that quote them): one line each, printable, bounded.
function line(label: string, text: string): string {
  return `${label.padEnd(9)} ${terminalText(text)}\n`;
}

function validity(c: ServedCert, now: number): string {
  const left = Math.floor((Date.parse(c.notAfter) - now) / DAY);
  const state = Date.parse(c.notAfter) < now ? 'EXPIRED' : Date.parse(c.notBefore) > now ? 'NOT YET VALID' : `${left} day${left === 1 ? '' : 's'} left`;
  return `${c.notBefore} → ${c.notAfter} (${state})`;
}

function human(r: ProbeResult, caLabel: string): string {
  const l = r.leaf;
  const host = r.host.includes(':') ? `[${r.host}]` : r.host;
  const s = (text: string, max = 200) => sanitizeForTerminal(text, max);
  let out = line('server', `${host}:${r.port}  ${s(r.serverVersion)}`);
  out += line('tls', `${r.tls.protocol}  ${r.tls.cipher}`);
  out += line('subject', l.subject);
  out += line('sans', l.sans.length ? l.sans.map((n) => s(n)).join(', ') : '(none)');
  out += line('issuer', l.issuer);
  out += line('serial', l.serialHex);
  out += line('valid', validity(l, Date.now()));
  out += line('sha256', l.fingerprint256);
  r.chain.slice(1).forEach((c, i) => {
    out += line(`chain[${i + 1}]`, `${s(c.subject)}  serial ${c.serialHex}  until ${c.notAfter}${c.isCA ? '' : '  (not a CA)'}`);
  });
  out += line('ca', r.verified.chain ? `ok, verifies against ${caLabel}` : `FAILED (${caLabel}): ${r.verified.chainError}`);
  out += line('name', r.verified.name ? `ok, made out to ${r.servername}` : `FAILED: ${r.verified.nameError}`);
  out += line('result', r.ok ? 'verified' : 'NOT verified');
  return out;
}

async function runProbe(targetText: string, flags: ProbeFlags): Promise<number> {
  try {
    const { inputError, DbtlsError } = await import('../../lib/errors.js');
    const { parseTarget } = await import('../../lib/probe/target.js');
    const target = parseTarget(targetText);
    let ca: Buffer | undefined;
    if (flags.ca !== undefined) {
      const { readInputFile } = await import('../input-files.js');
      ca = await readInputFile('--ca', flags.ca);
    }
    const { probe } = await import('../../lib/probe/probe.js');
    let result: ProbeResult;
    try {
      result = await probe(target, { ca, servername: flags.servername, timeoutMs: Math.round(flags.timeout * 1000) });
    } catch (e) {
      // The library does not know the bundle's file name; the user needs it.
      if (e instanceof DbtlsError && e.code === 'probe-bad-ca') throw inputError(e.code, `--ca ${flags.ca}: ${e.message}`, { file: flags.ca });
      throw e;
    }
    const caLabel = flags.ca ?? 'the system root CAs';
    const { ok, ...rest } = result;
    if (flags.json) process.stdout.write(JSON.stringify({ ok, ...rest, ca: caLabel }, null, 2) + '\n');
    else process.stdout.write(human(result, caLabel));
    return result.ok ? 0 : 1;
  } catch (e) {
    return reportError(e, { json: Boolean(flags.json) });
  }
}
