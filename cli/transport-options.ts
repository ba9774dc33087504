// Options shared by every command that reaches the nodes (push, apply, rotate): SSH host keys,
// identities, timeouts, retries, backups, the local root — and the connector built from them.
import type { Command } from 'commander';
import {
  DEFAULT_BACKUPS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_RETRIES,
  DEFAULT_RETRY_DELAY_MS,
} from '../lib/deliver/defaults.js';
import type { Connect } from '../lib/deliver/push.js';
import { count, GROUP, inGroup, seconds } from './options.js';

export interface TransportFlags {
  concurrency: number;
  acceptNew?: boolean;
  knownHosts?: string;
  backups: number;
  localRoot: string;
  sshPassphraseFile?: string;
  /** seconds */
  connectTimeout: number;
  retries: number;
  /** seconds */
  retryDelay: number;
}

export function addTransportOptions(cmd: Command): Command {
  return inGroup(cmd, GROUP.transport, (c) =>
    c
      .option('--concurrency <n>', 'nodes at once', count(1, 10_000), 32)
      .option('--accept-new', 'add unknown host keys to known_hosts (a changed key is always refused)')
      .option('--known-hosts <file>', 'known_hosts file (default: ssh.knownHostsFile, else ~/.ssh/known_hosts)')
      .option('--backups <n>', 'backups kept beside each replaced file', count(0, 1000), DEFAULT_BACKUPS)
      .option('--local-root <dir>', 'where transport: local nodes live (<dir>/<node>/<path>)', 'out/nodes')
      .option('--ssh-passphrase-file <file>', 'passphrase of encrypted identity files (default: $DBTLS_SSH_PASSPHRASE)')
      .option(
        '--connect-timeout <seconds>',
        'per SSH connection (bastion, node): connect, handshake and login',
        seconds(3600),
        DEFAULT_CONNECT_TIMEOUT_MS / 1000,
      )
      .option(
        '--retries <n>',
        'more attempts after a connection error (refused, reset, unreachable, timed out); never after a host key or login error',
        count(0, 100),
        DEFAULT_RETRIES,
      )
      .option(
        '--retry-delay <seconds>',
        'wait before the first retry, doubled for each next one',
        seconds(3600),
        DEFAULT_RETRY_DELAY_MS / 1000,
      ),
  );
}

export interface Transport {
  connect: Connect & { close(): Promise<void> | void };
  concurrency: number;
}

/** Builds the connector from flags commander has already validated (cli/options.ts); messages go to stderr. */
export async function transportFrom(flags: TransportFlags, json: boolean): Promise<Transport> {
  const { resolve } = await import('node:path');
  const { concurrency, backups, retries } = flags;
  const connectTimeoutMs = Math.round(flags.connectTimeout * 1000);
  const retryDelayMs = Math.round(flags.retryDelay * 1000);
  const { secretFrom } = await import('./secrets.js');
  const passphrase = await secretFrom('--ssh-passphrase-file', flags.sshPassphraseFile, 'DBTLS_SSH_PASSPHRASE');
  const { connector } = await import('../lib/deliver/connect.js');
  const connect = connector({
    localRoot: resolve(flags.localRoot),
    backups,
    acceptNew: Boolean(flags.acceptNew),
    ...(flags.knownHosts ? { knownHostsFile: resolve(flags.knownHosts) } : {}),
    ...(passphrase ? { passphrase } : {}),
    connectTimeoutMs,
    retries,
    retryDelayMs,
    onNewHostKey: (node, fp, bastion) =>
      process.stderr.write(
        bastion
          ? `${node}: added the host key ${fp} of bastion ${bastion} to known_hosts (--accept-new)\n`
          : `${node}: added its host key ${fp} to known_hosts (--accept-new)\n`,
      ),
    onRetry: (node, attempt, delayMs, reason) => {
      if (!json)
        process.stderr.write(
          `${node}: attempt ${attempt} of ${retries + 1} failed (${reason}); retrying in ${delayMs < 1000 ? `${delayMs} ms` : `${delayMs / 1000} s`}\n`,
        );
    },
  });
  return { connect, concurrency };
}
