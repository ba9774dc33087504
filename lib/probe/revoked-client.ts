// Does a server refuse a revoked client certificate? The MySQL protocol's TLS upgrade presenting
// the revocation canary (lib/revoke/canary.ts): a certificate of the cluster's CA that is listed in
// its CRL from the moment it is made. A server that reads the CRL ends the handshake with an alert
// ("certificate revoked"); under TLS 1.3 that alert comes just after the client's Finished, so the
// socket is watched a moment longer. A server that then stays silent, waiting for the login packet,
// took the certificate: revocation is not enforced there.
import type { TLSSocket } from 'node:tls';
import { connectTcp, readFirstPacket, startTls } from './steps.js';
import { sslRequestPacket } from './mysql-handshake.js';
import type { ProbeTarget } from './target.js';
import { isDbtlsError } from '../errors.js';

export interface RevokedClientResult {
  refused: boolean;
  /** The server's alert or how it closed; or that it waited for the login. */
  detail: string;
}

/** How long a server that took the certificate is watched for a late alert. */
const SETTLE_MS = 1500;

export async function probeRevokedClient(
  target: ProbeTarget,
  opts: { cert: Buffer | string; key: Buffer | string; timeoutMs: number; settleMs?: number },
): Promise<RevokedClientResult> {
  const socket = await connectTcp(target, opts.timeoutMs);
  socket.on('error', () => undefined);
  let tls: TLSSocket | undefined;
  try {
    const first = await readFirstPacket(socket, target, opts.timeoutMs);
    if (first.kind === 'error') return { refused: true, detail: `ERROR ${first.code}: ${first.message}` };
    socket.write(sslRequestPacket(first.capabilities));
    try {
      tls = await startTls(
        socket,
        target,
        { rejectUnauthorized: false, minVersion: 'TLSv1.2', cert: opts.cert, key: opts.key },
        opts.timeoutMs,
      );
    } catch (e) {
      if (isDbtlsError(e) && e.code === 'probe-tls-failed')
        return { refused: true, detail: e.message.replace(/^.*?: the TLS handshake failed: /, 'handshake failed: ') };
      throw e;
    }
    const settled = await new Promise<RevokedClientResult>((resolve) => {
      const timer = setTimeout(
        () => resolve({ refused: false, detail: 'the handshake completed and the server waited for the login' }),
        opts.settleMs ?? SETTLE_MS,
      );
      const done = (r: RevokedClientResult) => {
        clearTimeout(timer);
        resolve(r);
      };
      tls!.once('error', (e: Error & { reason?: string }) => done({ refused: true, detail: e.reason ?? e.message }));
      tls!.once('close', () => done({ refused: true, detail: 'the server closed the connection after the handshake' }));
      tls!.once('data', () => done({ refused: false, detail: 'the handshake completed and the server answered' }));
      tls!.resume();
    });
    return settled;
  } finally {
    tls?.destroy();
    socket.destroy();
  }
}
