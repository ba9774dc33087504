// Test doubles on 127.0.0.1 for what a probe can meet besides a real MySQL server: bytes of a
// greeting built by hand (as a MySQL 8.0 server sends it), a MySQL-speaking server that switches to
// TLS after the SSLRequest (serving the chain we choose), a silent port, a banner, a plain TLS
// server, an HTTP server. Each is closed, with its connections, when the test ends.
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTlsServer, createSecureContext, TLSSocket, type SecureContextOptions } from 'node:tls';
import { Duplex } from 'node:stream';
import type { Scope } from '../helpers/scope.js';

export interface GreetingFields {
  protocol?: number;
  version?: string;
  connectionId?: number;
  capabilities?: number;
  characterSet?: number;
  authPlugin?: string;
}

// What MySQL 8.0 announces (0xdfffffff), minus or plus CLIENT_SSL (0x800) as a test needs.
export const MYSQL8_CAPABILITIES = 0xdfffffff;

/** A Handshake v10 payload (no header), field by field as the protocol documents it. */
export function greetingPayload(f: GreetingFields = {}): Buffer {
  const caps = f.capabilities ?? MYSQL8_CAPABILITIES;
  const plugin = f.authPlugin ?? 'caching_sha2_password';
  const parts = [
    Buffer.from([f.protocol ?? 10]),
    Buffer.from((f.version ?? '8.0.36') + '\0', 'latin1'),
    le(f.connectionId ?? 42, 4),
    Buffer.from('abcdefgh'), // auth-plugin-data part 1
    Buffer.from([0]), // filler
    le(caps & 0xffff, 2),
    Buffer.from([f.characterSet ?? 255]),
    le(0x0002, 2), // status: SERVER_STATUS_AUTOCOMMIT
    le(Math.floor(caps / 0x10000) & 0xffff, 2),
    Buffer.from([21]), // auth-plugin-data length
    Buffer.alloc(10), // reserved
    Buffer.from('ijklmnopqrst\0'), // auth-plugin-data part 2 (13 bytes)
    Buffer.from(plugin + '\0', 'latin1'),
  ];
  return Buffer.concat(parts);
}

/** An ERR packet payload: 0xff, code, optional "#SQLSTATE", message. */
export function errPayload(code: number, message: string, sqlState?: string): Buffer {
  return Buffer.concat([
    Buffer.from([0xff]),
    le(code, 2),
    Buffer.from((sqlState ? `#${sqlState}` : '') + message, 'utf8'),
  ]);
}

/** 3-byte length + sequence id + payload. */
export function frame(payload: Buffer, sequenceId = 0): Buffer {
  return Buffer.concat([le(payload.length, 3), Buffer.from([sequenceId]), payload]);
}

function le(n: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUIntLE(n, 0, bytes);
  return b;
}

/** Listens on HOST (loopback); on scope end destroys every open connection, then closes. */
async function listen(scope: Scope, server: Server, host = '127.0.0.1'): Promise<number> {
  const open = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    open.add(s);
    s.on('error', () => undefined);
    s.once('close', () => open.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  scope.after(async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

/** Accepts connections and sends nothing, ever. */
export function silentServer(scope: Scope): Promise<number> {
  return listen(
    scope,
    createNetServer(() => undefined),
  );
}

/** Sends BYTES on connect and then, if asked, hangs up. */
export function bytesServer(scope: Scope, bytes: Buffer, opts: { close?: boolean } = {}): Promise<number> {
  return listen(
    scope,
    createNetServer((s) => {
      if (opts.close) s.end(bytes);
      else s.write(bytes);
    }),
  );
}

/** A plain (not STARTTLS) TLS server: it waits for the client's ClientHello. */
export function plainTlsServer(scope: Scope, cert: string, key: string): Promise<number> {
  const server = createTlsServer({ cert, key }, (s) => s.end());
  server.on('tlsClientError', () => undefined);
  return listen(scope, server);
}

/** An HTTP server: it waits for a request line. */
export function httpServer(scope: Scope): Promise<number> {
  const server = createHttpServer((_req, res) => res.end('hello\n'));
  return listen(scope, server);
}

export interface FakeMysql {
  port: number;
  /** Every SSLRequest packet received (header included). */
  sslRequests: Buffer[];
  /** The SNI each TLS client sent (undefined: none). */
  servernames: Array<string | undefined>;
}

export interface FakeMysqlOptions {
  greeting?: Buffer;
  /** TLS served after the SSLRequest; without it the server goes silent after the SSLRequest. */
  tls?: SecureContextOptions;
  /** Listen address (default 127.0.0.1). */
  host?: string;
}

/**
 * Greets like a MySQL server; after the 36-byte SSLRequest, does TLS as a server on the same
 * connection. The bytes after the SSLRequest (the ClientHello) may come in the same chunk, so the
 * TLS layer reads through a stream that is handed exactly those.
 */
export async function fakeMysql(scope: Scope, opts: FakeMysqlOptions): Promise<FakeMysql> {
  const sslRequests: Buffer[] = [];
  const servernames: Array<string | undefined> = [];
  const greeting = opts.greeting ?? frame(greetingPayload());
  const server = createNetServer((socket) => {
    socket.write(greeting);
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 36) return;
      socket.off('data', onData);
      sslRequests.push(buf.subarray(0, 36));
      if (!opts.tls) return; // silent from here on
      const inner = new Duplex({
        read() {},
        write(chunk: Buffer, _enc, cb) {
          socket.write(chunk, cb);
        },
        final(cb) {
          socket.end();
          cb();
        },
      });
      socket.on('data', (more: Buffer) => inner.push(more));
      socket.on('end', () => inner.push(null));
      socket.on('close', () => inner.destroy());
      inner.push(buf.subarray(36));
      const tls = new TLSSocket(inner, { isServer: true, secureContext: createSecureContext(opts.tls) });
      tls.on('error', () => undefined);
      tls.once('secure', () =>
        servernames.push((tls as TLSSocket & { servername?: string | false }).servername || undefined),
      );
      tls.on('end', () => tls.end());
      tls.resume();
    };
    socket.on('data', onData);
  });
  return { port: await listen(scope, server, opts.host), sslRequests, servernames };
}

/**
 * What a hostile server can put in an ERR message to fool the operator reading `dbtls probe`: an
 * escape that clears the screen, a carriage return and newlines that start forged output lines
 * (a fake "verified" verdict), a bell, C1 and bidi controls, and bulk — about 60 KB, as much as one
 * first packet may hold (a longer one is refused as not MySQL before it is read).
 */
export function hostileText(bytes = 60_000): string {
  const forged =
    '\u001b[2J\u001b[H\r\nresult    verified\r\ndbtls: all 8 nodes ok\n\u0007\u009b31m\u202eevil\u001b]0;owned\u0007';
  return forged + 'A'.repeat(Math.max(0, bytes - forged.length - 8)) + '\r\nTAIL-END';
}

/** Answers every connection with one ERR packet (the way a server refuses before its greeting), then hangs up. */
export function errServer(scope: Scope, code: number, message: string): Promise<number> {
  return bytesServer(scope, frame(errPayload(code, message)), { close: true });
}
