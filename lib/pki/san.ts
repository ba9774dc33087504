// Subject alternative names: what VERIFY_IDENTITY and --ssl-verify-server-cert match the dialled host against.
import { isIP } from 'node:net';

export type SanType = 'dns' | 'ip';

export interface San {
  type: SanType;
  value: string;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A DNS name as a certificate may carry it: LDH labels, an optional leading "*." wildcard, at most 253 characters. */
export function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  if (labels[0] === '*') labels.shift();
  return labels.length > 0 && labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1]!);
}

/**
 * Reads one SAN as a user writes it: "db1.example.com", "10.0.0.11", "::1", "[::1]",
 * or with an explicit "DNS:" / "IP:" prefix. Returns null when it is neither.
 */
export function parseSan(input: string): San | null {
  let s = input.trim();
  let forced: SanType | undefined;
  const m = /^(dns|ip):(.*)$/i.exec(s);
  if (m) {
    forced = m[1]!.toLowerCase() as SanType;
    s = m[2]!.trim();
  }
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  // Node's isIP takes "fe80::1%eth0"; an IP SAN is 4 or 16 bytes and has no room for a zone.
  if (s.includes('%')) return null;
  if (forced !== 'dns' && isIP(s)) return { type: 'ip', value: s };
  if (forced !== 'ip' && isDnsName(s)) return { type: 'dns', value: s.toLowerCase().replace(/\.$/, '') };
  return null;
}

/**
 * Why an entry is not a SAN, in words a person can act on, to follow the (quoted, bounded) value in
 * the inventory's and setup's errors ("… is " + this): "an IPv6 address with a zone …"; undefined when parseSan takes it.
 */
export function sanProblem(input: string): string | undefined {
  if (parseSan(input)) return undefined;
  let s = input
    .trim()
    .replace(/^(dns|ip):/i, '')
    .trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = /^([^%]*)%(.*)$/.exec(s);
  if (zone && isIP(zone[1]!) === 6) {
    const name = zone[2]!.length > 16 ? `${zone[2]!.slice(0, 16)}…` : zone[2]!;
    return `an IPv6 address with a zone (%${JSON.stringify(name).slice(1, -1)}): a zone names one host's interface and cannot be in a certificate; give the address without it (${zone[1]})`;
  }
  return 'not a DNS name or an IP address';
}

/** Parses and de-duplicates a list, keeping first-seen order; returns the invalid entries separately. */
export function parseSans(inputs: string[]): { sans: San[]; invalid: string[] } {
  const sans: San[] = [];
  const invalid: string[] = [];
  const seen = new Set<string>();
  for (const input of inputs) {
    const san = parseSan(input);
    if (!san) {
      invalid.push(input);
      continue;
    }
    const key = `${san.type}:${san.type === 'ip' ? normaliseIp(san.value) : san.value}`;
    if (!seen.has(key)) {
      seen.add(key);
      sans.push(san);
    }
  }
  return { sans, invalid };
}

function normaliseIp(ip: string): string {
  // Good enough for de-duplication: "::1" and "0:0:0:0:0:0:0:1" differ as text but rarely both appear.
  return ip.toLowerCase();
}

export function formatSan(san: San): string {
  return `${san.type === 'ip' ? 'IP' : 'DNS'}:${san.value}`;
}
