// `probe`: what a MySQL-protocol server serves on its SQL port, seen as a client sees it — the
// STARTTLS dance of `openssl s_client -starttls mysql`: read the greeting, send an SSLRequest, do
// the TLS handshake on the same socket, then hang up before authenticating. Reports the served
// chain, the TLS version and cipher, and two separate verdicts: the chain against the CA bundle,
// the certificate against the name. `check --live` and `rotate` compare its serials with the manifest.
// probeDirect does the same for a port that is TLS from its first byte (Galera's group channel).
import { X509Certificate } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { DbtlsError, inputError } from '../errors.js';
import { pemBlocks } from '../pki/pem.js';
import { offersTls, sslRequestPacket } from './mysql-handshake.js';
import { closePolitely, connectTcp, readFirstPacket, startTls } from './steps.js';
import { describeServed, servedChain, type ServedCert } from './served-cert.js';
import { chainReason, nameMismatch } from './verdict.js';
import { formatTarget, type ProbeTarget } from './target.js';

export type { ProbeTarget } from './target.js';
export type { ServedCert } from './served-cert.js';

export interface ProbeOptions {
  /** Trusted CAs, PEM (one or several, e.g. old+new during a CA rotation). Default: Node's root CAs. */
  ca?: Buffer | string;
  /** The name the certificate must be made out to; default the host. Sent as SNI unless an IP. */
  servername?: string;
  /** Deadline of each step (connect, greeting, TLS handshake). Default 10 000. */
  timeoutMs?: number;
  /**
   * Deadline of the whole probe, every step together (an exporter answering within a scrape's
   * timeout: a server that trickles bytes cannot stretch it step by step). Default: none.
   */
  totalTimeoutMs?: number;
}

export interface ProbeResult {
  host: string;
  port: number;
  /** The name checked against the certificate. */
  servername: string;
  /** The SNI sent, if any (never for an IP address). */
  sni?: string;
  /** From the greeting, e.g. "8.0.36" or "5.5.5-10.11.6-MariaDB". */
  serverVersion: string;
  connectionId: number;
  /** Protocol as Node names it (TLSv1.3); cipher in OpenSSL's naming, as MySQL's Ssl_cipher shows it. */
  tls: { protocol: string; cipher: string };
  /** As served, leaf first. */
  chain: ServedCert[];
  leaf: ServedCert;
  verified: { chain: boolean; chainError?: string; name: boolean; nameError?: string };
  /** Chain and name both verified. */
  ok: boolean;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
/** How long a server gets to answer our close_notify before the socket is simply destroyed. */
const CLOSE_WAIT_MS = 2_000;

/** The bundle's certificates, each as its own PEM (comments, keys and other blocks left out). */
function caCertificates(ca: Buffer | string): string[] {
  const blocks = pemBlocks(ca.toString()).filter((b) => b.label === 'CERTIFICATE');
  try {
    for (const b of blocks) new X509Certificate(b.der);
  } catch (e) {
    throw inputError('probe-bad-ca', `the CA bundle holds a certificate that cannot be read: ${(e as Error).message}`);
  }
  if (blocks.length === 0) throw inputError('probe-bad-ca', 'the CA bundle holds no PEM certificate');
  return blocks.map((b) => b.pem);
}

/** What a finished handshake shows: the served chain, the protocol, and the two verdicts. */
export function judgeTls(
  tls: TLSSocket,
  servername: string,
  where: string,
): Pick<ProbeResult, 'tls' | 'chain' | 'leaf' | 'verified' | 'ok'> {
  const peer = tls.getPeerCertificate(); // before servedChain(): see there
  const chain = servedChain(tls).map(describeServed);
  if (!chain.length || !peer.raw)
    throw new DbtlsError('probe-tls-failed', `${where}: the server presented no certificate`);
  const authError = tls.authorizationError as unknown as string | Error | null;
  const verified: ProbeResult['verified'] = { chain: tls.authorized, name: true };
  if (!tls.authorized) {
    const code =
      typeof authError === 'string'
        ? authError
        : ((authError as NodeJS.ErrnoException | null)?.code ?? authError?.message ?? 'not verified');
    verified.chainError = chainReason(code, chain);
  }
  const mismatch = nameMismatch(servername, peer);
  if (mismatch) {
    verified.name = false;
    verified.nameError = mismatch;
  }
  return {
    tls: { protocol: tls.getProtocol() ?? 'unknown', cipher: tls.getCipher().name },
    chain,
    leaf: chain[0]!,
    verified,
    ok: verified.chain && verified.name,
  };
}

/** A probe's options with the client identity some servers demand (Galera admits only peers with one). */
export interface DirectProbeOptions extends ProbeOptions {
  /** The client certificate (PEM, leaf first) and its key. */
  cert?: Buffer | string;
  key?: Buffer | string;
}

/** What a port that speaks TLS from its first byte shows: no greeting, so no version or connection id. */
export type DirectProbeResult = Omit<ProbeResult, 'serverVersion' | 'connectionId'>;

/**
 * The part every probe shares: connect, let BEFORE speak on the plain socket (the MySQL greeting
 * and SSLRequest; nothing for a port that is TLS from its first byte), then the TLS handshake,
 * the served chain and both verdicts, and a polite close.
 */
async function probeTls<E extends object>(
  target: ProbeTarget,
  opts: DirectProbeOptions,
  before: (socket: Socket, where: string, ms: number) => Promise<E>,
): Promise<DirectProbeResult & E> {
  const stepMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const deadline = opts.totalTimeoutMs === undefined ? Infinity : Date.now() + opts.totalTimeoutMs;
  /** The next step's deadline: its own, or what is left of the whole probe's. */
  const ms = () => Math.max(1, Math.min(stepMs, deadline - Date.now()));
  const where = formatTarget(target);
  const ca = opts.ca === undefined ? undefined : caCertificates(opts.ca);
  const servername = (opts.servername ?? target.host).replace(/^\[(.*)\]$/, '$1');
  const sni = isIP(servername) ? undefined : servername.replace(/\.$/, '');

  const socket: Socket = await connectTcp(target, ms());
  // Errors between steps (a reset while we are between listeners) must not crash the process;
  // each step listens for the ones that concern it.
  socket.on('error', () => undefined);
  let tls: TLSSocket | undefined;
  try {
    const extra = await before(socket, where, ms());
    const options: ConnectionOptions = {
      rejectUnauthorized: false, // verdicts are reported, not enforced
      minVersion: 'TLSv1.2',
      // The chain verdict (authorizationError) must not mix in the name: that is judged separately.
      checkServerIdentity: () => undefined,
      ...(sni ? { servername: sni } : {}),
      ...(ca ? { ca } : {}),
      ...(opts.cert && opts.key ? { cert: opts.cert, key: opts.key } : {}),
    };
    tls = await startTls(socket, target, options, ms());
    tls.on('error', () => undefined);
    const result = {
      host: target.host,
      port: target.port,
      servername,
      ...(sni ? { sni } : {}),
      ...extra,
      ...judgeTls(tls, servername, where),
    };
    await closePolitely(tls, Math.min(ms(), CLOSE_WAIT_MS));
    return result;
  } finally {
    tls?.destroy();
    socket.destroy();
  }
}

/**
 * Probes TARGET. Resolves with what was served and whether it verifies (a failed verification is a
 * result, not an error); rejects with a DbtlsError when there is nothing to judge: probe-refused,
 * probe-unreachable, probe-timeout, probe-closed, probe-not-mysql, probe-server-error (the
 * server's ERR packet: blocked host, too many connections), probe-no-tls, probe-tls-failed.
 */
export function probe(target: ProbeTarget, opts: ProbeOptions = {}): Promise<ProbeResult> {
  return probeTls(target, opts, async (socket, where, ms) => {
    const first = await readFirstPacket(socket, target, ms);
    if (first.kind === 'error') {
      throw new DbtlsError(
        'probe-server-error',
        `${where}: the server refused the connection: ERROR ${first.code}${first.sqlState ? ` (${first.sqlState})` : ''}: ${first.message}`,
        {
          hint:
            first.code === 1129
              ? 'unblock the host with FLUSH HOSTS (or mariadb-admin / mysqladmin flush-hosts)'
              : undefined,
        },
      );
    }
    if (!offersTls(first)) {
      throw new DbtlsError(
        'probe-no-tls',
        `${where}: the server does not offer TLS (no CLIENT_SSL in its greeting; server ${first.serverVersion})`,
        {
          hint: 'configure ssl_cert / ssl_key (ssl-cert, ssl-key) on the server, or ProxySQL mysql-have_ssl',
        },
      );
    }
    socket.write(sslRequestPacket(first.capabilities));
    return { serverVersion: first.serverVersion, connectionId: first.connectionId };
  });
}

/**
 * Probes a port that speaks TLS from its first byte — Galera's group channel (gcomm, IST), an
 * stunnel'd SST — presenting opts.cert/key when given, as `openssl s_client -connect H:4567 -cert …`.
 * Rejects as probe() does, less the MySQL-protocol reasons.
 */
export function probeDirect(target: ProbeTarget, opts: DirectProbeOptions = {}): Promise<DirectProbeResult> {
  return probeTls(target, opts, async () => ({}));
}
