// Chooses each node's transport: a folder under the local root for `transport: local`, SSH otherwise.
// known_hosts files are read once per run and shared by every node that names them.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadKnownHosts, type KnownHosts } from './known-hosts.js';
import { localNodeFs } from './local.js';
import type { Connect } from './push.js';

export interface ConnectOptions {
  localRoot: string;
  backups: number;
  acceptNew: boolean;
  /** Overrides every node's ssh.knownHostsFile. */
  knownHostsFile?: string;
  passphrase?: string;
  onNewHostKey?: (node: string, fingerprint: string) => void;
}

export const DEFAULT_KNOWN_HOSTS = join(homedir(), '.ssh', 'known_hosts');

export function connector(opts: ConnectOptions): Connect {
  const loaded = new Map<string, Promise<KnownHosts>>();
  return async (node) => {
    if (node.transport === 'local') return localNodeFs(join(opts.localRoot, node.name), opts.backups);
    const file = opts.knownHostsFile ?? node.ssh.knownHostsFile ?? DEFAULT_KNOWN_HOSTS;
    if (!loaded.has(file)) loaded.set(file, loadKnownHosts([file]));
    const { sshNodeFs } = await import('./ssh.js');
    return sshNodeFs(node, {
      knownHosts: await loaded.get(file)!,
      knownHostsFile: file,
      acceptNew: opts.acceptNew,
      backups: opts.backups,
      ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
      ...(opts.onNewHostKey ? { onNewHostKey: opts.onNewHostKey } : {}),
    });
  };
}
