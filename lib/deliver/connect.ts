// Chooses each node's transport: a folder under the local root for `transport: local`, SSH otherwise.
// known_hosts files are read once per run and shared by every node that names them; so are bastion
// connections and decrypted identity files (see ssh/connect.ts). Close the connector when the run ends.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadKnownHosts, type KnownHosts } from './ssh/known-hosts.js';
import { localNodeFs } from './local.js';
import type { Connect } from './push.js';
import { sshShared, type SshOptions } from './ssh/connect.js';

export interface ConnectOptions {
  localRoot: string;
  backups: number;
  acceptNew: boolean;
  /** Overrides every node's ssh.knownHostsFile. */
  knownHostsFile?: string;
  passphrase?: string;
  /** Per SSH connection (bastion, node): connect, handshake and authentication. */
  connectTimeoutMs?: number;
  /** Attempts after the first, on connection errors only. */
  retries?: number;
  /** Wait before the first retry, doubled for each next one. */
  retryDelayMs?: number;
  onNewHostKey?: SshOptions['onNewHostKey'];
  onRetry?: SshOptions['onRetry'];
}

/** A Connect that also ends what its nodes shared (bastion connections) once the run is over. */
export type Connector = Connect & { close(): Promise<void> };

export const DEFAULT_KNOWN_HOSTS = join(homedir(), '.ssh', 'known_hosts');

export function connector(opts: ConnectOptions): Connector {
  const loaded = new Map<string, Promise<KnownHosts>>();
  const shared = sshShared();
  const connect: Connect = async (node) => {
    if (node.transport === 'local') return localNodeFs(join(opts.localRoot, node.name), opts.backups);
    const file = opts.knownHostsFile ?? node.ssh.knownHostsFile ?? DEFAULT_KNOWN_HOSTS;
    if (!loaded.has(file)) loaded.set(file, loadKnownHosts([file]));
    const { sshNodeFs } = await import('./ssh/sftp-transport.js');
    return sshNodeFs(node, {
      knownHosts: await loaded.get(file)!,
      knownHostsFile: file,
      acceptNew: opts.acceptNew,
      backups: opts.backups,
      shared,
      ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
      ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
      ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
      ...(opts.retryDelayMs !== undefined ? { retryDelayMs: opts.retryDelayMs } : {}),
      ...(opts.onNewHostKey ? { onNewHostKey: opts.onNewHostKey } : {}),
      ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
    });
  };
  return Object.assign(connect, { close: () => shared.bastions.close() });
}
