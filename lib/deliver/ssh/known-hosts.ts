// OpenSSH known_hosts files: parse them, decide whether a host key is known, revoked, changed or
// unknown, and append new hosts. Semantics follow sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" and
// OpenSSH's hostfile.c:
//   - a line is `[@revoked|@cert-authority] hostpatterns keytype base64 [comment]`;
//   - hostpatterns is a comma-separated list with `*` and `?` wildcards and `!` negation (a host
//     matches when some positive pattern matches and no negated one does), compared case-insensitively;
//     or a single hashed name `|1|salt|hash` (HMAC-SHA1 of the name keyed by the salt);
//   - the name looked up is `host` on port 22 and `[host]:port` on any other port;
//   - a key is its blob: two entries hold the same key when their decoded base64 bytes are equal.
// @cert-authority lines are parsed and kept but never match: host certificates are not supported.
// A key listed under @revoked for a matching host is refused even when it is also listed as known.
// Where OpenSSH would call a host "new" because only keys of other types are known for it, this
// module reports "changed": dbtls cannot steer the server's choice of host key type, so any key other
// than the known ones is treated as a possible impostor.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic, CERT_MODE, DIR_MODE, type FileOwner } from '../../store/atomic-write.js';
import { DbtlsError, inputError } from '../../errors.js';

export interface HostPattern {
  pattern: string;
  negated: boolean;
}

export type HostMatcher =
  { kind: 'patterns'; patterns: HostPattern[] } | { kind: 'hashed'; salt: Buffer; hash: Buffer };

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  marker: 'revoked' | 'cert-authority' | null;
  hosts: HostMatcher;
  keyType: string;
  /** The key blob (the decoded base64), the same bytes ssh2 hands to its hostVerifier. */
  key: Buffer;
  comment: string;
}

export interface SkippedLine {
  file: string;
  line: number;
  text: string;
  reason: string;
}

export type HostKeyResult =
  | { status: 'known' }
  | { status: 'revoked'; fingerprint: string }
  | {
      status: 'changed';
      offered: string;
      expected: string[];
      file: string;
      lines: number[];
      /** Set when only keys of other types are known: the offered key's type and the known ones. */ newType?: {
        offered: string;
        known: string[];
      };
    }
  | { status: 'unknown'; fingerprint: string };

const HASH_MAGIC = '|1|';
const SHA1_BYTES = 20;

/** `SHA256:` and the unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it. */
export function fingerprintSha256(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** The key type named inside a key blob (its first SSH string), or null when the blob is malformed. */
export function blobKeyType(key: Buffer): string | null {
  if (key.length < 4) return null;
  const len = key.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > key.length) return null;
  const type = key.subarray(4, 4 + len).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : null;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise; lower-cased like ssh does. */
export function hostKeyName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** OpenSSH's match_pattern: `*` is any run of characters, `?` any one character. */
function globMatch(s: string, p: string): boolean {
  let si = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      si++;
      pi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

function hashName(salt: Buffer, name: string): Buffer {
  return createHmac('sha1', salt).update(name).digest();
}

/** Whether an entry's host field matches a looked-up name (see hostKeyName). */
export function hostsMatch(hosts: HostMatcher, name: string): boolean {
  if (hosts.kind === 'hashed') return timingSafeEqual(hashName(hosts.salt, name), hosts.hash);
  let positive = false;
  for (const { pattern, negated } of hosts.patterns) {
    if (!globMatch(name, pattern)) continue;
    if (negated) return false;
    positive = true;
  }
  return positive;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(s: string, bytes?: number): Buffer | null {
  if (s === '' || !BASE64.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  return bytes === undefined || b.length === bytes ? b : null;
}

function parseHosts(field: string): HostMatcher | string {
  if (field.startsWith('|')) {
    const parts = field.split('|');
    if (!field.startsWith(HASH_MAGIC) || parts.length !== 4) return 'malformed hashed host name';
    const salt = decodeBase64(parts[2]!, SHA1_BYTES);
    const hash = decodeBase64(parts[3]!, SHA1_BYTES);
    if (!salt || !hash) return 'malformed hashed host name';
    return { kind: 'hashed', salt, hash };
  }
  if (field.startsWith('@')) return `unknown or repeated marker ${field}`;
  const patterns = field
    .toLowerCase()
    .split(',')
    .filter((p) => p !== '' && p !== '!')
    .map((p) => (p.startsWith('!') ? { pattern: p.slice(1), negated: true } : { pattern: p, negated: false }));
  if (patterns.length === 0) return 'no host names';
  return { kind: 'patterns', patterns };
}

/**
 * Parses known_hosts text. Comments and blank lines are ignored; lines that cannot be used (unknown
 * marker, bad host hash, SSH-1 keys, bad base64, a key whose blob names another type) are left out
 * and, when `skipped` is given, recorded there with their line numbers.
 */
export function parseKnownHosts(text: string, file: string, skipped: SkippedLine[] = []): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const rest = raw.replace(/\r$/, '').replace(/^[ \t]+/, '');
    if (rest === '' || rest.startsWith('#')) return;
    const skip = (reason: string): void => void skipped.push({ file, line, text: raw, reason });
    const m = /^(?:(@[^ \t]+)[ \t]+)?([^ \t]+)[ \t]+([^ \t]+)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$/.exec(rest);
    if (!m) return skip('expected: [marker] hosts keytype key [comment]');
    const [, markerText, hostsField, keyType, b64, comment] = m;
    let marker: KnownHostEntry['marker'] = null;
    if (markerText === '@revoked') marker = 'revoked';
    else if (markerText === '@cert-authority') marker = 'cert-authority';
    else if (markerText) return skip(`unknown marker ${markerText}`);
    const hosts = parseHosts(hostsField);
    if (typeof hosts === 'string') return skip(hosts);
    if (/^\d+$/.test(keyType)) return skip('SSH-1 RSA keys are not supported');
    const key = decodeBase64(b64);
    if (!key) return skip('the key is not valid base64');
    const inner = blobKeyType(key);
    if (inner !== keyType) return skip(inner ? `key type ${keyType} but the key is ${inner}` : 'malformed key');
    entries.push({ file, line, marker, hosts, keyType, key, comment: comment ?? '' });
  });
  return entries;
}

export class KnownHosts {
  constructor(
    readonly entries: KnownHostEntry[],
    readonly skipped: SkippedLine[] = [],
  ) {}

  /** Every entry (including @revoked and @cert-authority ones) whose host field matches, like `ssh-keygen -F`. */
  matching(host: string, port: number): KnownHostEntry[] {
    const name = hostKeyName(host, port);
    return this.entries.filter((e) => hostsMatch(e.hosts, name));
  }

  /**
   * Records in memory a key just appended to FILE (--accept-new), so a later connection of the same run
   * (a node after its bastion, a reconnect) finds it known instead of adding it again.
   */
  remember(host: string, port: number, key: Buffer, file: string): void {
    const keyType = blobKeyType(key);
    if (!keyType) return;
    const hosts: HostMatcher = { kind: 'patterns', patterns: [{ pattern: hostKeyName(host, port), negated: false }] };
    this.entries.push({ file, line: 0, marker: null, hosts, keyType, key, comment: '' });
  }

  /**
   * Decides about the key a server offered. `keyType` is used only when the blob does not name its
   * type (it may be a signature algorithm such as rsa-sha2-512; the type inside the blob wins).
   */
  check(host: string, port: number, keyType: string, key: Buffer): HostKeyResult {
    const matched = this.matching(host, port);
    const fingerprint = fingerprintSha256(key);
    if (matched.some((e) => e.marker === 'revoked' && e.key.equals(key))) return { status: 'revoked', fingerprint };
    const listed = matched.filter((e) => e.marker === null);
    if (listed.some((e) => e.key.equals(key))) return { status: 'known' };
    if (listed.length === 0) return { status: 'unknown', fingerprint };
    const type = blobKeyType(key) ?? keyType;
    const sameType = listed.filter((e) => e.keyType === type);
    const conflicting = sameType.length > 0 ? sameType : listed;
    const file = conflicting[0]!.file;
    return {
      status: 'changed',
      offered: fingerprint,
      expected: [...new Set(conflicting.map((e) => fingerprintSha256(e.key)))],
      file,
      lines: conflicting.filter((e) => e.file === file).map((e) => e.line),
      ...(sameType.length === 0
        ? { newType: { offered: type, known: [...new Set(listed.map((e) => e.keyType))].sort() } }
        : {}),
    };
  }
}

/** Reads known_hosts files in order; a missing file counts as empty. */
export async function loadKnownHosts(files: string[]): Promise<KnownHosts> {
  const entries: KnownHostEntry[] = [];
  const skipped: SkippedLine[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw inputError('known-hosts-unreadable', `cannot read ${file}: ${(e as Error).message}`, { file });
    }
    entries.push(...parseKnownHosts(text, file, skipped));
  }
  return new KnownHosts(entries, skipped);
}

/**
 * The known_hosts line for a host key, hashed (`|1|salt|hash`) or plain, ending in a newline. The key
 * type written is the one inside the blob; `keyType` only names the key in error messages.
 */
export function knownHostLine(host: string, port: number, keyType: string, key: Buffer, hash = false): string {
  if (!/^[^\s,!@|#*?[\]]+$/.test(host))
    throw inputError(
      'known-hosts-bad-host',
      `cannot record host key for ${JSON.stringify(host)}: not a plain host name or address`,
    );
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw inputError('known-hosts-bad-host', `cannot record host key for ${host}: bad port ${port}`);
  const type = blobKeyType(key);
  if (!type) throw new DbtlsError('known-hosts-bad-key', `the ${keyType} host key of ${host} is malformed`);
  const name = hostKeyName(host, port);
  let field = name;
  if (hash) {
    const salt = randomBytes(SHA1_BYTES);
    field = `${HASH_MAGIC}${salt.toString('base64')}|${hashName(salt, name).toString('base64')}`;
  }
  return `${field} ${type} ${key.toString('base64')}\n`;
}

const appendChains = new Map<string, Promise<void>>();

/**
 * Appends a host key line to a known_hosts file, atomically, keeping every existing byte, the file's
 * mode (0644 for a new file) and, when running as root, its owner; a missing folder is created 0700.
 * The key type written is the one inside the blob (`keyType` only names the key in error messages).
 * Appends to one file from this process run one after another, so none is lost.
 */
export function appendKnownHost(
  file: string,
  host: string,
  port: number,
  keyType: string,
  key: Buffer,
  opts: { hash?: boolean } = {},
): Promise<void> {
  let line: string;
  try {
    line = knownHostLine(host, port, keyType, key, opts.hash ?? false);
  } catch (e) {
    return Promise.reject(e);
  }
  const path = resolve(file);
  const next = (appendChains.get(path) ?? Promise.resolve()).catch(() => undefined).then(() => appendLine(path, line));
  appendChains.set(path, next);
  const forget = (): void => {
    if (appendChains.get(path) === next) appendChains.delete(path);
  };
  next.then(forget, forget);
  return next;
}

async function appendLine(file: string, line: string): Promise<void> {
  // Write through a symlink to the file it points at, rather than replacing the link.
  const target = await realpath(file).catch(() => file);
  let old: Buffer = Buffer.alloc(0);
  let mode = CERT_MODE;
  let owner: FileOwner | undefined;
  try {
    old = await readFile(target);
    const st = await stat(target);
    mode = st.mode & 0o7777;
    if (process.geteuid?.() === 0) owner = { uid: st.uid, gid: st.gid };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw inputError('known-hosts-unreadable', `cannot read ${file}: ${(e as Error).message}`, { file });
    await mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
  }
  const sep = old.length > 0 && old[old.length - 1] !== 0x0a ? '\n' : '';
  await writeFileAtomic(target, Buffer.concat([old, Buffer.from(sep + line)]), { mode, owner });
}
