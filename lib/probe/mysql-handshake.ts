// The few bytes of the MySQL client/server protocol a TLS probe needs: packet framing (3-byte
// little-endian length + sequence id), the server's first packet (Handshake v10 greeting, or an ERR
// packet such as "Too many connections"), and the SSLRequest that asks to switch to TLS. MySQL,
// MariaDB, Percona, TiDB and ProxySQL frontends all speak it; `openssl s_client -starttls mysql`
// does the same. Pure functions over bytes, so the tests can feed them anything.

/** Capability flags (lower 16 bits, then upper 16) — only the ones the probe uses. */
export const CLIENT_LONG_PASSWORD = 0x1;
export const CLIENT_LONG_FLAG = 0x4;
export const CLIENT_PROTOCOL_41 = 0x200;
export const CLIENT_SSL = 0x800;
export const CLIENT_TRANSACTIONS = 0x2000;
export const CLIENT_SECURE_CONNECTION = 0x8000;
export const CLIENT_MULTI_RESULTS = 0x20000;
export const CLIENT_PLUGIN_AUTH = 0x80000;

/** utf8mb4_general_ci: understood by every server with utf8mb4 (MySQL ≥ 5.5.3, all MariaDB, TiDB). */
export const UTF8MB4_GENERAL_CI = 45;
/** What the SSLRequest announces as our largest packet (16 MiB, as the mysql client does). */
const MAX_PACKET_SIZE = 0x0100_0000;
/**
 * A real greeting is about 100 bytes and an ERR packet a few hundred; a length beyond this is
 * someone else's protocol (an SSH banner "SSH-2.0-…" reads as 4.7 MB), refused without waiting.
 */
export const MAX_FIRST_PACKET = 64 * 1024;

export interface Greeting {
  kind: 'greeting';
  protocolVersion: 10;
  /** As the server announces it, e.g. "8.0.36", "5.5.5-10.11.6-MariaDB", "8.0.11-TiDB-v7.5.0". */
  serverVersion: string;
  connectionId: number;
  /** Lower and upper capability flags as one unsigned number (upper only if the server sent them). */
  capabilities: number;
  characterSet?: number;
  statusFlags?: number;
  authPluginName?: string;
}

/** The server refused us before the handshake (blocked host, too many connections, …). */
export interface ServerErrorPacket {
  kind: 'error';
  code: number;
  sqlState?: string;
  message: string;
}

export type FirstPacket = Greeting | ServerErrorPacket;

export type GreetingScan =
  | { status: 'incomplete' }
  | { status: 'complete'; packet: FirstPacket; length: number }
  | { status: 'invalid'; reason: string };

/**
 * Looks at the bytes received so far: wait for more, a complete first packet, or not MySQL at all.
 * Decides as early as the bytes allow, so a wrong protocol fails now rather than at the timeout.
 */
export function scanGreeting(buf: Uint8Array): GreetingScan {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length >= 4) {
    const length = b.readUIntLE(0, 3);
    const sequenceId = b[3]!;
    if (sequenceId !== 0) return { status: 'invalid', reason: `the first packet has sequence id ${sequenceId}, not 0` };
    if (length === 0) return { status: 'invalid', reason: 'the first packet is empty' };
    if (length > MAX_FIRST_PACKET) return { status: 'invalid', reason: `the first packet claims ${length} bytes` };
    if (b.length >= 5 && b[4] !== 10 && b[4] !== 0xff) {
      return { status: 'invalid', reason: `protocol version ${b[4]} (a MySQL greeting is protocol 10)` };
    }
    if (b.length >= 4 + length) {
      const parsed = parseFirstPacket(b.subarray(4, 4 + length));
      return typeof parsed === 'string'
        ? { status: 'invalid', reason: parsed }
        : { status: 'complete', packet: parsed, length: 4 + length };
    }
  }
  return { status: 'incomplete' };
}

/** A greeting or ERR payload (without the 4-byte header); a string says why it is neither. */
export function parseFirstPacket(payload: Buffer): FirstPacket | string {
  if (payload.length === 0) return 'the first packet is empty';
  if (payload[0] === 0xff) return parseErrorPacket(payload);
  if (payload[0] !== 10) return `protocol version ${payload[0]} (a MySQL greeting is protocol 10)`;
  return parseGreeting(payload);
}

function parseErrorPacket(p: Buffer): ServerErrorPacket | string {
  if (p.length < 3) return 'the ERR packet is truncated';
  const code = p.readUInt16LE(1);
  let rest = p.subarray(3);
  let sqlState: string | undefined;
  // Before the handshake servers send no SQL state; later ones (and some proxies) may: "#HY000".
  if (rest[0] === 0x23 && rest.length >= 6) {
    sqlState = rest.subarray(1, 6).toString('latin1');
    rest = rest.subarray(6);
  }
  const message = rest.toString('utf8').trim();
  return sqlState === undefined ? { kind: 'error', code, message } : { kind: 'error', code, sqlState, message };
}

function parseGreeting(p: Buffer): Greeting | string {
  const nul = p.indexOf(0, 1);
  if (nul < 0) return 'the greeting is truncated (no end to the server version)';
  const serverVersion = p.subarray(1, nul).toString('latin1');
  if (!/^[\x20-\x7e]+$/.test(serverVersion)) return "the greeting's server version is not printable text";
  // connection id (4), auth-plugin-data part 1 (8), filler 0x00 (1), capability flags lower (2)
  let at = nul + 1;
  if (p.length < at + 15) return 'the greeting is truncated (before the capability flags)';
  const connectionId = p.readUInt32LE(at);
  at += 12;
  if (p[at] !== 0) return "the greeting's filler byte is not 0";
  at += 1;
  const lower = p.readUInt16LE(at);
  at += 2;
  const g: Greeting = { kind: 'greeting', protocolVersion: 10, serverVersion, connectionId, capabilities: lower };
  if (p.length === at) return g; // pre-4.1 servers stop here
  // character set (1), status flags (2), capability flags upper (2), auth data length (1), reserved (10)
  if (p.length < at + 16) return 'the greeting is truncated (after the capability flags)';
  g.characterSet = p[at]!;
  g.statusFlags = p.readUInt16LE(at + 1);
  const upper = p.readUInt16LE(at + 3);
  g.capabilities = lower + upper * 0x10000;
  const authDataLength = p[at + 5]!;
  at += 16;
  // auth-plugin-data part 2, then the plugin name: informative only, so read leniently.
  if (g.capabilities & CLIENT_SECURE_CONNECTION) at += Math.max(13, authDataLength - 8);
  if (g.capabilities & CLIENT_PLUGIN_AUTH && at < p.length) {
    const end = p.indexOf(0, at);
    const name = p.subarray(at, end < 0 ? p.length : end).toString('latin1');
    if (/^[\x20-\x7e]+$/.test(name)) g.authPluginName = name;
  }
  return g;
}

/** Client capabilities every SSLRequest carries (what `mysql` and `openssl s_client` send too). */
const REQUIRED = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION;
/** Announced only if the server has them, so a capability check on the server side cannot trip. */
const OPTIONAL = CLIENT_LONG_FLAG | CLIENT_TRANSACTIONS | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH;

/**
 * The SSLRequest packet (sequence id 1): a HandshakeResponse41 cut short after the character set.
 * 32-byte payload: capability flags (4), max packet size (4), character set (1), 23 zero bytes.
 * The server answers nothing; the next bytes on the wire are the TLS ClientHello.
 */
export function sslRequestPacket(serverCapabilities: number, characterSet = UTF8MB4_GENERAL_CI): Buffer {
  const flags = (REQUIRED | (OPTIONAL & serverCapabilities)) >>> 0;
  const packet = Buffer.alloc(4 + 32);
  packet.writeUIntLE(32, 0, 3);
  packet[3] = 1;
  packet.writeUInt32LE(flags, 4);
  packet.writeUInt32LE(MAX_PACKET_SIZE, 8);
  packet[12] = characterSet;
  return packet;
}

export function offersTls(g: Greeting): boolean {
  return (g.capabilities & CLIENT_SSL) !== 0;
}
