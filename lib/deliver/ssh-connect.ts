// Opening an SSH connection to a node: ssh2 with OpenSSH known_hosts checked strictly (unless
// --accept-new), identity files or the agent, retries with backoff on connection errors only, and
// remote commands run with a timeout. Every command string comes from shellCommand().
import { readFile } from 'node:fs/promises';
import type { Client, ConnectConfig } from 'ssh2';
import { DbtlsError } from '../errors.js';
import { appendKnownHost, blobKeyType, fingerprintSha256, type KnownHosts } from './known-hosts.js';
import type { NodeSpec } from '../inventory/model.js';

export interface SshOptions {
  knownHosts: KnownHosts;
  /** Where --accept-new records new hosts. */
  knownHostsFile: string;
  acceptNew: boolean;
  /** Passphrase of encrypted identity files. */
  passphrase?: string;
  connectTimeoutMs?: number;
  retries?: number;
  backups: number;
  /** Reports a host key that --accept-new added. */
  onNewHostKey?: (node: string, fingerprint: string) => void;
  now?: () => Date;
}

const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

export interface ExecResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export function run(conn: Client, command: string, timeoutMs = 60_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    conn.exec(command, (err, stream) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      let stderr = '';
      const timer = setTimeout(() => {
        stream.close();
        reject(new DbtlsError('ssh-timeout', `remote command timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      stream.on('data', (d: Buffer) => out.push(d));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      stream.on('close', (code: number | null) => {
        clearTimeout(timer);
        resolve({ code, stdout: Buffer.concat(out), stderr });
      });
    });
  });
}

async function connectOnce(node: NodeSpec, opts: SshOptions, identity: Buffer | undefined): Promise<Client> {
  const { Client } = await import('ssh2');
  const conn = new Client();
  let refusal: DbtlsError | undefined;
  let accepted: { type: string; key: Buffer } | undefined;
  const port = node.ssh.port ?? 22;
  const config: ConnectConfig = {
    host: node.host,
    port,
    username: node.ssh.user ?? 'root',
    readyTimeout: opts.connectTimeoutMs ?? 15_000,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 3,
    ...(identity ? { privateKey: identity, ...(opts.passphrase ? { passphrase: opts.passphrase } : {}) } : {}),
    ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
    hostVerifier: (key: Buffer) => {
      const type = blobKeyType(key) ?? 'unknown';
      const r = opts.knownHosts.check(node.host, port, type, key);
      if (r.status === 'known') return true;
      if (r.status === 'unknown' && opts.acceptNew) {
        accepted = { type, key };
        return true;
      }
      refusal =
        r.status === 'unknown'
          ? new DbtlsError('host-key-unknown', `${node.name}: host key of ${node.host}:${port} is not in ${opts.knownHostsFile} (${r.fingerprint})`, { hint: 'check the fingerprint, then pass --accept-new or add it with ssh-keyscan' })
          : r.status === 'revoked'
            ? new DbtlsError('host-key-revoked', `${node.name}: ${node.host}:${port} offered a revoked host key (${r.fingerprint})`)
            : new DbtlsError('host-key-changed', `${node.name}: HOST KEY CHANGED for ${node.host}:${port}: it offered ${r.offered}, ${r.file}:${r.lines.join(',')} expects ${r.expected.join(' or ')}`, { hint: 'if the change is expected, remove the old line (ssh-keygen -R) and connect again' });
      return false;
    },
  };
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve());
    conn.once('error', (e) => reject(refusal ?? e));
    conn.connect(config);
  });
  if (accepted) {
    await appendKnownHost(opts.knownHostsFile, node.host, port, accepted.type, accepted.key);
    opts.onNewHostKey?.(node.name, fingerprintSha256(accepted.key));
  }
  return conn;
}

export async function connect(node: NodeSpec, opts: SshOptions): Promise<Client> {
  const identity = node.ssh.identityFile ? await readFile(node.ssh.identityFile).catch(() => undefined) : undefined;
  const attempts = (opts.retries ?? 2) + 1;
  for (let i = 0; ; i++) {
    try {
      return await connectOnce(node, opts, identity);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const level = (e as { level?: string }).level;
      if (e instanceof DbtlsError) throw e;
      if (level === 'client-authentication') {
        throw new DbtlsError('ssh-auth', `${node.name}: ${node.ssh.user}@${node.host}:${node.ssh.port} refused every key (${(e as Error).message})`, { hint: 'check ssh.user and ssh.identityFile (or the agent) for this node' });
      }
      const retryable = (code && RETRYABLE.has(code)) || /timed out/i.test((e as Error).message);
      if (!retryable || i + 1 >= attempts) throw new DbtlsError('ssh-connect', `${node.name}: cannot connect to ${node.host}:${node.ssh.port}: ${(e as Error).message}`, { cause: e });
      await new Promise((r) => setTimeout(r, 300 * 2 ** i));
    }
  }
}
