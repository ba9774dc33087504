// Value rules shared by the dbtls YAML schema and the Ansible import. Each returns what is wrong
// (a message for a person) or undefined when the value is fine.
import { parseSan } from '../pki/san.js';
import { isRsaKeySize, RSA_KEY_SIZES } from '../pki/keys.js';
import { ROLES, TRANSPORTS } from './model.js';
import { STORE_TYPES } from '../keystore/types.js';

export type Rule<T> = (value: T) => string | undefined;

const q = (s: string) => JSON.stringify(s);

/** Cluster names end up in paths and CNs: lower-case letters, digits and "-". */
export const clusterName: Rule<string> = (s) =>
  /^[a-z0-9-]+$/.test(s) && s.length <= 63 ? undefined : `${q(s)} must be 1–63 characters of a-z, 0-9 and "-"`;

/** Node and client names name directories under the PKI folder, so they must be safe there. */
export const safeName: Rule<string> = (s) => {
  if (s.length > 64) return `${q(s)} is longer than 64 characters`;
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(s) || s.includes('..')) {
    return `${q(s)} is not a safe name: start with a letter or digit, then letters, digits, ".", "_" or "-" (no "..", no "/"); it names a directory`;
  }
  return undefined;
};

/** An address to connect to: a DNS name or an IP address, without wildcards or "DNS:"/"IP:" prefixes. */
export const host: Rule<string> = (s) =>
  parseSan(s) && !s.includes('*') && !/^(dns|ip):/i.test(s.trim()) ? undefined : `${q(s)} is not a DNS name or an IP address`;

export const san: Rule<string> = (s) => (parseSan(s) ? undefined : `${q(s)} is not a DNS name or an IP address`);

export const role: Rule<string> = (s) =>
  (ROLES as readonly string[]).includes(s) ? undefined : `unknown role ${q(s)}; the roles are ${ROLES.join(', ')}`;

export const storeType: Rule<string> = (s) =>
  (STORE_TYPES as readonly string[]).includes(s) ? undefined : `${q(s)} is not a keystore type; use ${STORE_TYPES.join(' or ')}`;

/** A server version like "8.0.36" or "10.11": chooses the SQL spelling (CHANGE REPLICATION SOURCE since 8.0.23). */
export const serverVersion: Rule<string> = (s) => (/^\d+\.\d+(\.\d+)?$/.test(s) ? undefined : `${q(s)} is not a version like "8.0.36"`);

/** A user or group name on a node: what useradd accepts, so it is safe in a remote command too. */
export const unixName: Rule<string> = (s) => (/^[a-z_][a-z0-9_-]{0,31}\$?$/i.test(s) ? undefined : `${q(s)} is not a user or group name`);

export const become: Rule<string> = (s) => (s === 'sudo' ? undefined : `${q(s)} is not a way to become root; use "sudo"`);

export const transport: Rule<string> = (s) =>
  (TRANSPORTS as readonly string[]).includes(s) ? undefined : `${q(s)} is not a transport; use ${TRANSPORTS.join(' or ')}`;

const DEST_CHAR = /[A-Za-z0-9/._+-]/;

/** A directory on a node: it reaches remote commands, so it is held to a plain, quote-free alphabet. */
export const dest: Rule<string> = (s) => {
  if (/[\r\n]/.test(s)) return 'must not contain a newline';
  const bad = [...s].find((c) => !DEST_CHAR.test(c));
  if (bad !== undefined) {
    return `contains ${describeChar(bad)}; only letters, digits and / . _ + - are allowed`;
  }
  if (!s.startsWith('/')) return `${q(s)} is not an absolute path (start it with "/")`;
  if (s.split('/').includes('..')) return `${q(s)} must not contain ".." segments`;
  return undefined;
};

function describeChar(c: string): string {
  const names: Record<string, string> = { ' ': 'a space', '\t': 'a tab', '$': '"$"', '`': 'a backquote', ';': '";"' };
  if (names[c]) return names[c]!;
  const code = c.codePointAt(0)!;
  return code < 0x20 || code === 0x7f ? `the control character U+${code.toString(16).padStart(4, '0').toUpperCase()}` : q(c);
}

/** X.509 limits a CN to 64 characters (ub-common-name). */
export const commonName: Rule<string> = (s) => {
  if (s.trim() === '') return 'must not be empty';
  if (s.length > 64) return `${q(s)} is longer than 64 characters`;
  if (/[\x00-\x1f\x7f]/.test(s)) return 'must not contain control characters';
  return undefined;
};

export const country: Rule<string> = (s) => (/^[A-Za-z]{2}$/.test(s) ? undefined : `${q(s)} must be a 2-letter country code, like "DE"`);

/** Subject attributes other than CN and C; `max` is the X.509 upper bound for the attribute. */
export const subjectText =
  (max: number): Rule<string> =>
  (s) => {
    if (s.trim() === '') return 'must not be empty';
    if (s.length > max) return `is longer than ${max} characters`;
    if (/[\x00-\x1f\x7f]/.test(s)) return 'must not contain control characters';
    return undefined;
  };

export const sshUser: Rule<string> = (s) => (/^[^\s\x00-\x1f\x7f]+$/.test(s) ? undefined : `${q(s)} is not a user name (it is empty or holds spaces or control characters)`);

export const filePath: Rule<string> = (s) => (s !== '' && !/[\x00\r\n]/.test(s) ? undefined : 'must be a non-empty path on one line');

export const integerIn =
  (min: number, max: number): Rule<number> =>
  (n) => (Number.isInteger(n) && n >= min && n <= max ? undefined : `${n} must be an integer from ${min} to ${max}`);

export const port = integerIn(1, 65535);
/** 100 years is already absurd for a certificate; a larger number is a typo. */
export const days = integerIn(1, 36500);

export const keySize: Rule<number> = (n) => (isRsaKeySize(n) ? undefined : `${n} is not a supported RSA key size; use ${RSA_KEY_SIZES.join(', ')}`);
