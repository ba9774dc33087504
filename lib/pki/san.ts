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
  if (forced !== 'dns' && isIP(s)) return { type: 'ip', value: s };
  if (forced !== 'ip' && isDnsName(s)) return { type: 'dns', value: s.toLowerCase().replace(/\.$/, '') };
  return null;
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
