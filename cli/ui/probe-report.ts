// What `dbtls probe` prints: the served chain, the TLS session and the two verdicts, one labelled
// line each; with --json one object.
import type { DirectProbeResult, ProbeResult, ServedCert } from '../../lib/probe/probe.js';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';
import { terminalText } from '../terminal.js';
import { plural, type OutputMode } from './mode.js';
import { DAY_MS } from '../../lib/pki/validity.js';

// Everything below but the labels came from the server (its version string, its certificates'
// subjects, issuers and SANs, the verdicts that quote them): one line each, printable, bounded.
function line(label: string, text: string): string {
  return `${label.padEnd(9)} ${terminalText(text)}\n`;
}

function validity(c: ServedCert, now: number): string {
  const left = Math.floor((Date.parse(c.notAfter) - now) / DAY_MS);
  const state =
    Date.parse(c.notAfter) < now
      ? 'EXPIRED'
      : Date.parse(c.notBefore) > now
        ? 'NOT YET VALID'
        : `${plural(left, 'day')} left`;
  return `${c.notBefore} → ${c.notAfter} (${state})`;
}

/** A MySQL-protocol probe's result, or a direct one's (no greeting: no server version). */
type Probed = ProbeResult | DirectProbeResult;

function human(r: Probed, caLabel: string): string {
  const l = r.leaf;
  const host = r.host.includes(':') ? `[${r.host}]` : r.host;
  const s = (text: string, max = 200) => sanitizeForTerminal(text, max);
  const version = 'serverVersion' in r ? s(r.serverVersion) : '(TLS from the first byte)';
  let out = line('server', `${host}:${r.port}  ${version}`);
  out += line('tls', `${r.tls.protocol}  ${r.tls.cipher}`);
  out += line('subject', l.subject);
  out += line('sans', l.sans.length ? l.sans.map((n) => s(n)).join(', ') : '(none)');
  out += line('issuer', l.issuer);
  out += line('serial', l.serialHex);
  out += line('valid', validity(l, Date.now()));
  out += line('sha256', l.fingerprint256);
  r.chain.slice(1).forEach((c, i) => {
    out += line(
      `chain[${i + 1}]`,
      `${s(c.subject)}  serial ${c.serialHex}  until ${c.notAfter}${c.isCA ? '' : '  (not a CA)'}`,
    );
  });
  out += line(
    'ca',
    r.verified.chain ? `ok, verifies against ${caLabel}` : `FAILED (${caLabel}): ${r.verified.chainError}`,
  );
  out += line('name', r.verified.name ? `ok, made out to ${r.servername}` : `FAILED: ${r.verified.nameError}`);
  out += line('result', r.ok ? 'verified' : 'NOT verified');
  return out;
}

/** caLabel: the --ca file, or what stood in for it (the system root CAs). */
export function printProbeReport(result: Probed, mode: OutputMode, caLabel: string): void {
  if (mode === 'json') {
    const { ok, ...rest } = result;
    process.stdout.write(JSON.stringify({ ok, ...rest, ca: caLabel }, null, 2) + '\n');
  } else process.stdout.write(human(result, caLabel));
}
