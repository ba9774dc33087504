// Options shared by every command that reaches the nodes (push, apply, rotate): SSH host keys,
// identities, timeouts, retries, backups, the local root — and the connector built from them.
import type { Command } from 'commander';
import { DEFAULT_BACKUPS } from '../lib/deliver/transport.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS } from '../lib/deliver/ssh-connect.js';
import type { Connect } from '../lib/deliver/push.js';

export interface TransportFlags {
  concurrency: string;
  acceptNew?: boolean;
  knownHosts?: string;
  backups: string;
  localRoot: string;
  sshPassphraseFile?: string;
  connectTimeout: string;
  retries: string;
  retryDelay: string;
}

export function addTransportOptions(cmd: Command): Command {
  return cmd
    .option('--concurrency <n>', 'nodes at once', '32')
    .option('--accept-new', 'add unknown host keys to known_hosts (a changed key is always refused)')
    .option('--known-hosts <file>', 'known_hosts file (default: ssh.knownHostsFile, else ~/.ssh/known_hosts)')
    .option('--backups <n>', 'backups kept beside each replaced file', String(DEFAULT_BACKUPS))
    .option('--local-root <dir>', 'where transport: local nodes live (<dir>/<node>/<path>)', 'out/nodes')
    .option('--ssh-passphrase-file <file>', 'passphrase of encrypted identity files (default: $DBTLS_SSH_PASSPHRASE)')
    .option('--connect-timeout <seconds>', 'per SSH connection (bastion, node): connect, handshake and login', String(DEFAULT_CONNECT_TIMEOUT_MS / 1000))
    .option('--retries <n>', 'more attempts after a connection error (refused, reset, unreachable, timed out); never after a host key or login error', String(DEFAULT_RETRIES))
    .option('--retry-delay <seconds>', 'wait before the first retry, doubled for each next one', String(DEFAULT_RETRY_DELAY_MS / 1000));
}

export interface Transport {
  connect: Connect & { close(): Promise<void> | void };
  concurrency: number;
}

/** Validates the flags (usage errors, exit 2) and builds the connector; messages go to stderr. */
export async function transportFrom(flags: TransportFlags, json: boolean): Promise<Transport> {
  const { usageError } = await import('../lib/errors.js');
  const { resolve } = await import('node:path');
  const concurrency = Number(flags.concurrency);
  const backups = Number(flags.backups);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw usageError('bad-concurrency', `--concurrency must be a positive whole number, got "${flags.concurrency}"`);
  if (!Number.isInteger(backups) || backups < 0) throw usageError('bad-backups', `--backups must be a whole number, got "${flags.backups}"`);
  const seconds = (flag: string, text: string) => {
    const n = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
    if (!(n > 0 && n <= 3600)) throw usageError('bad-seconds', `${flag} must be a number of seconds above 0 (at most 3600), got "${text}"`);
    return Math.round(n * 1000);
  };
  const connectTimeoutMs = seconds('--connect-timeout', flags.connectTimeout);
  const retryDelayMs = seconds('--retry-delay', flags.retryDelay);
  const retries = /^\d+$/.test(flags.retries.trim()) ? Number(flags.retries) : NaN;
  if (!(retries <= 100)) throw usageError('bad-retries', `--retries must be a whole number from 0 to 100, got "${flags.retries}"`);
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
      process.stderr.write(bastion ? `${node}: added the host key ${fp} of bastion ${bastion} to known_hosts (--accept-new)\n` : `${node}: added its host key ${fp} to known_hosts (--accept-new)\n`),
    onRetry: (node, attempt, delayMs, reason) => {
      if (!json) process.stderr.write(`${node}: attempt ${attempt} of ${retries + 1} failed (${reason}); retrying in ${delayMs < 1000 ? `${delayMs} ms` : `${delayMs / 1000} s`}\n`);
    },
  });
  return { connect, concurrency };
}
