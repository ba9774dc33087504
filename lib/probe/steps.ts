// The probe's network steps, each under its own hard deadline: open a TCP connection, read the
// server's first packet, switch to TLS, close. A port that accepts and says nothing (a plain TLS or
// HTTP server waits for the client to speak first), a firewall that drops packets, a server that
// stops mid-handshake: each ends in a DbtlsError naming the step, never in a hang.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket, type ConnectionOptions } from 'node:tls';
import { DbtlsError } from '../errors.js';
import { scanGreeting, type FirstPacket } from './mysql-handshake.js';
import { formatTarget, type ProbeTarget } from './target.js';

type Settle<T> = { ok(value: T): void; fail(e: Error): void };

/**
 * A promise that settles once: by the step (`body` wires its listeners and returns how to unwire
 * them) or, after `ms`, with the error `onTimeout` makes. Listeners and timer are gone either way.
 */
function step<T>(ms: number, onTimeout: () => Error, body: (s: Settle<T>) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let unwire: () => void = () => undefined;
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unwire();
      f();
    };
    const timer = setTimeout(() => finish(() => reject(onTimeout())), ms);
    unwire = body({ ok: (v) => finish(() => resolve(v)), fail: (e) => finish(() => reject(e)) });
    if (settled) unwire(); // the body settled synchronously, before its unwire existed
  });
}

const seconds = (ms: number) => `${+(ms / 1000).toFixed(3)} s`;
const errnoCode = (e: unknown): string | undefined =>
  (e as NodeJS.ErrnoException).code ?? (e as { errors?: NodeJS.ErrnoException[] }).errors?.[0]?.code;

function connectError(e: Error, t: ProbeTarget): DbtlsError {
  const where = formatTarget(t);
  const code = errnoCode(e);
  if (code === 'ECONNREFUSED') {
    return new DbtlsError('probe-refused', `${where}: connection refused (nothing listens on port ${t.port}?)`, {
      cause: e,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
    return new DbtlsError('probe-unreachable', `${where}: cannot resolve ${t.host} (${code})`, { cause: e });
  }
  return new DbtlsError('probe-unreachable', `${where}: cannot connect: ${e.message}`, { cause: e });
}

export function connectTcp(t: ProbeTarget, ms: number): Promise<Socket> {
  const socket = netConnect({ host: t.host, port: t.port, autoSelectFamily: true });
  return step<Socket>(
    ms,
    () =>
      new DbtlsError(
        'probe-timeout',
        `${formatTarget(t)}: no TCP connection within ${seconds(ms)} (host down, or a firewall dropping packets?)`,
      ),
    ({ ok, fail }) => {
      const onConnect = () => ok(socket);
      const onError = (e: Error) => fail(connectError(e, t));
      socket.once('connect', onConnect).once('error', onError);
      return () => socket.off('connect', onConnect).off('error', onError);
    },
  ).catch((e: unknown) => {
    socket.destroy();
    throw e;
  });
}

const NOT_MYSQL_HINT = 'is it the SQL port of a MySQL, MariaDB, TiDB or ProxySQL server?';

/** The server's first packet: a greeting or an ERR packet. Leaves the socket unread for TLS. */
export function readFirstPacket(socket: Socket, t: ProbeTarget, ms: number): Promise<FirstPacket> {
  const where = formatTarget(t);
  let received = Buffer.alloc(0);
  return step<FirstPacket>(
    ms,
    () =>
      received.length
        ? new DbtlsError(
            'probe-timeout',
            `${where}: only ${received.length} bytes of a MySQL greeting within ${seconds(ms)}`,
            { hint: NOT_MYSQL_HINT },
          )
        : new DbtlsError(
            'probe-timeout',
            `${where}: no MySQL greeting within ${seconds(ms)}: the port accepts connections but sends nothing (a plain TLS or HTTP port waits for the client to speak first)`,
            {
              hint: NOT_MYSQL_HINT,
            },
          ),
    ({ ok, fail }) => {
      const onData = (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const scan = scanGreeting(received);
        if (scan.status === 'complete') ok(scan.packet);
        else if (scan.status === 'invalid')
          fail(
            new DbtlsError('probe-not-mysql', `${where}: not a MySQL-protocol server: ${scan.reason}`, {
              hint: NOT_MYSQL_HINT,
            }),
          );
      };
      const onEnd = () =>
        fail(
          received.length
            ? new DbtlsError(
                'probe-not-mysql',
                `${where}: not a MySQL-protocol server: it sent ${received.length} bytes that are no complete greeting and closed the connection`,
                { hint: NOT_MYSQL_HINT },
              )
            : new DbtlsError(
                'probe-closed',
                `${where}: the server closed the connection without sending a MySQL greeting`,
                { hint: NOT_MYSQL_HINT },
              ),
        );
      const onError = (e: Error) =>
        fail(
          new DbtlsError('probe-closed', `${where}: the connection failed before the greeting: ${e.message}`, {
            cause: e,
          }),
        );
      socket.on('data', onData).once('end', onEnd).once('close', onEnd).once('error', onError);
      return () => socket.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onError);
    },
  );
}

/** The TLS handshake over the socket that just sent its SSLRequest. Verification is judged later. */
export function startTls(socket: Socket, t: ProbeTarget, options: ConnectionOptions, ms: number): Promise<TLSSocket> {
  const where = formatTarget(t);
  const tls = tlsConnect({ ...options, socket });
  return step<TLSSocket>(
    ms,
    () => new DbtlsError('probe-timeout', `${where}: the TLS handshake did not finish within ${seconds(ms)}`),
    ({ ok, fail }) => {
      const onSecure = () => ok(tls);
      const onError = (e: Error) => {
        const code = errnoCode(e);
        // OpenSSL's errors carry a short `reason` ("tlsv1 alert protocol version"); the message is a dump.
        const reason = (e as Error & { reason?: string }).reason;
        const what = reason ? `${reason}${code ? ` (${code})` : ''}` : e.message.trim();
        const tooOld =
          /UNSUPPORTED_PROTOCOL|PROTOCOL_VERSION/.test(code ?? '') ||
          /unsupported protocol|protocol version/i.test(what);
        fail(
          new DbtlsError('probe-tls-failed', `${where}: the TLS handshake failed: ${what}`, {
            cause: e,
            hint: tooOld ? 'the server offers no TLS 1.2 or 1.3 (tls_version); older protocols are refused' : undefined,
          }),
        );
      };
      tls.once('secureConnect', onSecure).once('error', onError);
      return () => tls.off('secureConnect', onSecure).off('error', onError);
    },
  ).catch((e: unknown) => {
    tls.destroy();
    throw e;
  });
}

/** close_notify and FIN, as a client that is done; the socket is destroyed if the server lingers. */
export async function closePolitely(socket: TLSSocket, ms: number): Promise<void> {
  if (socket.destroyed) return;
  await step<void>(
    ms,
    () => new Error('close timed out'),
    ({ ok }) => {
      const onClose = () => ok();
      socket.once('close', onClose);
      socket.end();
      return () => socket.off('close', onClose);
    },
  ).catch(() => undefined);
  socket.destroy();
}
