// Value rules shared by the dbtls YAML schema and the Ansible import. Each returns what is wrong
// (a message for a person) or undefined when the value is fine.
import { isIPv6 } from 'node:net';
import { quoteValue } from '../errors.js';
import { parseSan, sanProblem } from '../pki/san.js';
import { isKeyType, isRsaKeySize, KEY_TYPES, RSA_KEY_SIZES } from '../pki/keys.js';
import { GR_SSL_MODES, GR_STACKS, ROLES, SST_METHODS, TRANSPORTS } from './model.js';
import { STORE_TYPES } from '../keystore/types.js';

export type Rule<T> = (value: T) => string | undefined;

/** A value quoted in a message: JSON-quoted, cut past 80 characters (a 100 KB value stays a short line). */
const q = (s: string) => quoteValue(s);

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
export const host: Rule<string> = (s) => hostRule(s);

function hostRule(s: string): string | undefined {
  return parseSan(s) && !s.includes('*') && !/^(dns|ip):/i.test(s.trim())
    ? undefined
    : `${q(s)} is ${sanProblem(s) ?? 'not a DNS name or an IP address'}`;
}

export const san: Rule<string> = (s) => (parseSan(s) ? undefined : `${q(s)} is ${sanProblem(s)}`);

export const role: Rule<string> = (s) =>
  (ROLES as readonly string[]).includes(s) ? undefined : `unknown role ${q(s)}; the roles are ${ROLES.join(', ')}`;

export const grStack: Rule<string> = (s) =>
  (GR_STACKS as readonly string[]).includes(s)
    ? undefined
    : `${q(s)} is not a Group Replication communication stack; use ${GR_STACKS.join(' or ')}`;

export const grSslMode: Rule<string> = (s) =>
  (GR_SSL_MODES as readonly string[]).includes(s)
    ? undefined
    : `${q(s)} is not a group_replication_ssl_mode dbtls renders; use ${GR_SSL_MODES.join(', ')}`;

/**
 * `host:port` (an IPv6 address in brackets: `[2001:db8::1]:33061`), as group_replication_local_address
 * takes it; the port is required. Returns what is wrong instead when the value is not that.
 */
export function parseHostPort(s: string): { host: string; port: number } | string {
  const form = 'write it as host:port, e.g. "db1.example.com:33061" or "[2001:db8::1]:33061"';
  const m = /^\[([^\]]*)\]:(.*)$/.exec(s) ?? /^([^:[\]]*):([^:]*)$/.exec(s);
  if (!m) return `${q(s)} is not host:port; ${form}`;
  const [, host, portText] = m as unknown as [string, string, string];
  if (s.startsWith('[') ? !isIPv6(host) : hostRule(host) !== undefined)
    return `${q(host)} is not a DNS name or an IP address; ${form}`;
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) return `${q(portText)} is not a port (1–65535); ${form}`;
  return { host, port };
}

export const hostPort: Rule<string> = (s) => {
  const r = parseHostPort(s);
  return typeof r === 'string' ? r : undefined;
};

export const storeType: Rule<string> = (s) =>
  (STORE_TYPES as readonly string[]).includes(s)
    ? undefined
    : `${q(s)} is not a keystore type; use ${STORE_TYPES.join(' or ')}`;

/** A server version like "8.0.36" or "10.11": chooses the SQL spelling (CHANGE REPLICATION SOURCE since 8.0.23). */
export const serverVersion: Rule<string> = (s) =>
  /^\d+\.\d+(\.\d+)?$/.test(s) ? undefined : `${q(s)} is not a version like "8.0.36"`;

/** A user or group name on a node: what useradd accepts, so it is safe in a remote command too. */
export const unixName: Rule<string> = (s) =>
  /^[a-z_][a-z0-9_-]{0,31}\$?$/i.test(s) ? undefined : `${q(s)} is not a user or group name`;

export const become: Rule<string> = (s) =>
  s === 'sudo' ? undefined : `${q(s)} is not a way to become root; use "sudo"`;

export const transport: Rule<string> = (s) =>
  (TRANSPORTS as readonly string[]).includes(s)
    ? undefined
    : `${q(s)} is not a transport; use ${TRANSPORTS.join(' or ')}`;

export const sstMethod: Rule<string> = (s) =>
  (SST_METHODS as readonly string[]).includes(s)
    ? undefined
    : `${q(s)} is not an SST method dbtls renders TLS for; use ${SST_METHODS.join(', ')}`;

/** A Galera provider version like "26.4.23". */
export const providerVersion: Rule<string> = (s) =>
  /^\d+\.\d+(\.\d+)?$/.test(s) ? undefined : `${q(s)} is not a provider version like "26.4.23"`;

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
  const names: Record<string, string> = { ' ': 'a space', '\t': 'a tab', $: '"$"', '`': 'a backquote', ';': '";"' };
  if (names[c]) return names[c]!;
  const code = c.codePointAt(0)!;
  return code < 0x20 || code === 0x7f
    ? `the control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`
    : q(c);
}

/** X.509 limits a CN to 64 characters (ub-common-name). */
export const commonName: Rule<string> = (s) => {
  if (s.trim() === '') return 'must not be empty';
  if (s.length > 64) return `${q(s)} is longer than 64 characters`;
  if (/[\x00-\x1f\x7f]/.test(s)) return 'must not contain control characters';
  return onelineSafe(s);
};

/**
 * MySQL and MariaDB compare REQUIRE SUBJECT / ISSUER with OpenSSL's one-line form of the name
 * ("/O=Example/CN=app"), where OpenSSL 3.x writes "/" and "+" in a value as "\/" and "\+" and 1.1.1
 * leaves them bare (ambiguous), and a byte it escapes reads "\xC3": values holding these are refused
 * rather than rendered in a form only some servers match (lib/render/x509-name.ts renders the rest).
 */
function onelineSafe(s: string): string | undefined {
  const bad = /[/+]/.exec(s)?.[0];
  if (bad)
    return `must not contain "${bad}": MySQL and MariaDB compare certificate names in OpenSSL's one-line form, which writes it differently by OpenSSL version`;
  if (s.includes('\\x'))
    return 'must not contain a backslash followed by "x": it reads like an escaped byte in the names MySQL and MariaDB compare';
  return undefined;
}

export const country: Rule<string> = (s) =>
  /^[A-Za-z]{2}$/.test(s) ? undefined : `${q(s)} must be a 2-letter country code, like "DE"`;

/** Subject attributes other than CN and C; `max` is the X.509 upper bound for the attribute. */
export const subjectText =
  (max: number): Rule<string> =>
  (s) => {
    if (s.trim() === '') return 'must not be empty';
    if (s.length > max) return `is longer than ${max} characters`;
    if (/[\x00-\x1f\x7f]/.test(s)) return 'must not contain control characters';
    return onelineSafe(s);
  };

/** A bastion in OpenSSH's ProxyJump syntax, parsed: the user is left to the node's ssh.user when absent. */
export interface JumpSpec {
  user?: string;
  host: string;
  port: number;
}

const JUMP_CHAR = /[A-Za-z0-9.@:_[\]%-]/;
const JUMP_USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const JUMP_FORM = 'a jump host is [user@]host[:port], e.g. "ops@bastion.example.com:2222"';

/**
 * Parses OpenSSH's `[user@]host[:port]` (an IPv6 address in brackets: `[2001:db8::1]:22`), one hop.
 * Returns what is wrong instead when the value is not that. The value reaches no shell, but it is held
 * to a plain alphabet all the same: a bastion name never needs quotes, blanks or `$`.
 */
export function parseJumpHost(s: string): JumpSpec | string {
  if (s === '') return 'must not be empty; ' + JUMP_FORM;
  if (/[\r\n]/.test(s)) return 'must not contain a newline';
  if (s.includes(',')) return `${q(s)} lists more than one hop; dbtls goes through one bastion (${JUMP_FORM})`;
  if (/^ssh:\/\//i.test(s)) return `${q(s)}: write it without "ssh://"; ${JUMP_FORM}`;
  const bad = [...s].find((c) => !JUMP_CHAR.test(c));
  if (bad !== undefined) return `contains ${describeChar(bad)}; ${JUMP_FORM}`;
  const at = s.lastIndexOf('@');
  const user = at < 0 ? undefined : s.slice(0, at);
  const rest = s.slice(at + 1);
  if (user !== undefined && !JUMP_USER.test(user)) {
    return `${q(user)} is not a user name for the bastion (letters, digits, ".", "_", "-"; no "@"); ${JUMP_FORM}`;
  }
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    host = close < 0 ? '' : rest.slice(1, close);
    const after = close < 0 ? '' : rest.slice(close + 1);
    if (close < 0 || !isIPv6(host) || (after !== '' && !after.startsWith(':')))
      return `${q(rest)} is not a bracketed IPv6 address like "[2001:db8::1]:22"`;
    if (after !== '') portText = after.slice(1);
  } else {
    const colons = rest.split(':').length - 1;
    if (colons > 1) return `${q(rest)}: put an IPv6 address in brackets, like "[2001:db8::1]:22"`;
    [host, portText] = colons === 1 ? (rest.split(':') as [string, string]) : [rest, undefined];
    if (rest.includes('[') || rest.includes(']')) return `${q(rest)} is not a host name or address; ${JUMP_FORM}`;
    const why = host === '' ? 'the host is missing' : hostRule(host);
    if (why) return `${why}; ${JUMP_FORM}`;
  }
  let port = 22;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) return `${q(portText)} is not a port (1–65535); ${JUMP_FORM}`;
  }
  return { ...(user !== undefined ? { user } : {}), host, port };
}

/** ssh.proxyJump: a jump host, or `none` (no bastion for this node, whatever the cluster says). */
export const proxyJump: Rule<string> = (s) => {
  if (s === 'none') return undefined;
  const r = parseJumpHost(s);
  return typeof r === 'string' ? r : undefined;
};

/**
 * A node's reload command: run by a shell on the node after its files changed, so shell syntax is the
 * point; it is written by the inventory's owner. One line, no control characters (no NUL, no newline
 * that would smuggle a second command past a reader of the file), not blank. `none` = no reload.
 */
export const reload: Rule<string> = (s) => {
  if (s.trim() === '') return 'must not be empty; write a command, or "none" for no reload';
  if (/[\r\n]/.test(s)) return 'must be a single line (no newline); chain commands with "&&" or ";" on one line';
  const ctl = [...s].find((c) => /[\x00-\x1f\x7f]/.test(c));
  if (ctl !== undefined) return `contains ${describeChar(ctl)}; a reload command is one line of printable text`;
  if (s.length > 4096) return 'is longer than 4096 characters';
  return undefined;
};

export const sshUser: Rule<string> = (s) =>
  /^[^\s\x00-\x1f\x7f]+$/.test(s)
    ? undefined
    : `${q(s)} is not a user name (it is empty or holds spaces or control characters)`;

export const filePath: Rule<string> = (s) =>
  s !== '' && !/[\x00\r\n]/.test(s) ? undefined : 'must be a non-empty path on one line';

/** A PKCS#11 module: the absolute path of the vendor's shared library (dlopen'd: never a bare name searched for). */
export const pkcs11Module: Rule<string> = (s) =>
  filePath(s) ?? (s.startsWith('/') ? undefined : `${q(s)} must be an absolute path to the module's .so`);

/** A token label (at most 32 bytes in CK_TOKEN_INFO) or a key's CKA_LABEL: one printable line. */
export const pkcs11Label =
  (max: number): Rule<string> =>
  (s) => {
    if (s.trim() === '') return 'must not be empty';
    if (Buffer.byteLength(s) > max) return `is longer than ${max} bytes`;
    return /[\x00-\x1f\x7f]/.test(s) ? 'must not contain control characters' : undefined;
  };

export const integerIn =
  (min: number, max: number): Rule<number> =>
  (n) =>
    Number.isInteger(n) && n >= min && n <= max ? undefined : `${n} must be an integer from ${min} to ${max}`;

export const port = integerIn(1, 65535);
/** 100 years is already absurd for a certificate; a larger number is a typo. */
export const days = integerIn(1, 36500);

export const keyType: Rule<string> = (s) =>
  isKeyType(s) ? undefined : `${JSON.stringify(s)} is not a key type; use ${KEY_TYPES.join(', ')}`;

export const keySize: Rule<number> = (n) =>
  isRsaKeySize(n) ? undefined : `${n} is not a supported RSA key size; use ${RSA_KEY_SIZES.join(', ')}`;
