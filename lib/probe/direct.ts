// A probe of a port that speaks TLS from its first byte — Galera's group channel (gcomm, IST) and
// an stunnel'd SST — rather than the MySQL protocol's upgrade. Galera verifies its peers both ways
// and drops a client without a certificate of its CA, so this probe presents one (the node's own
// client certificate, in check --live), like `openssl s_client -connect H:4567 -cert … -key …`.
import { isIP, type Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { closePolitely, connectTcp, startTls } from './steps.js';
import {
  caCertificates,
  CLOSE_WAIT_MS,
  DEFAULT_PROBE_TIMEOUT_MS,
  judgeTls,
  type ProbeOptions,
  type ProbeResult,
} from './probe.js';
import { formatTarget, type ProbeTarget } from './target.js';

export interface DirectProbeOptions extends ProbeOptions {
  /** The client certificate (PEM, leaf first) and its key: what a peer of the cluster presents. */
  cert?: Buffer | string;
  key?: Buffer | string;
}

export type DirectProbeResult = Omit<ProbeResult, 'serverVersion' | 'connectionId'>;

export async function probeDirect(target: ProbeTarget, opts: DirectProbeOptions = {}): Promise<DirectProbeResult> {
  const ms = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const where = formatTarget(target);
  const ca = opts.ca === undefined ? undefined : caCertificates(opts.ca);
  const servername = (opts.servername ?? target.host).replace(/^\[(.*)\]$/, '$1');
  const sni = isIP(servername) ? undefined : servername.replace(/\.$/, '');
  const socket: Socket = await connectTcp(target, ms);
  socket.on('error', () => undefined);
  let tls: TLSSocket | undefined;
  try {
    const options: ConnectionOptions = {
      rejectUnauthorized: false, // verdicts are reported, not enforced
      minVersion: 'TLSv1.2',
      checkServerIdentity: () => undefined,
      ...(sni ? { servername: sni } : {}),
      ...(ca ? { ca } : {}),
      ...(opts.cert && opts.key ? { cert: opts.cert, key: opts.key } : {}),
    };
    tls = await startTls(socket, target, options, ms);
    tls.on('error', () => undefined);
    const result: DirectProbeResult = {
      host: target.host,
      port: target.port,
      servername,
      ...(sni ? { sni } : {}),
      ...judgeTls(tls, servername, where),
    };
    await closePolitely(tls, Math.min(ms, CLOSE_WAIT_MS));
    return result;
  } finally {
    tls?.destroy();
    socket.destroy();
  }
}
