// Opening an SSH connection to a node: ssh2 with OpenSSH known_hosts checked strictly (unless
// --accept-new), identity files or the agent, optionally through one ProxyJump bastion (whose host
// key and authentication follow the same rules, and whose connection the nodes behind it share),
// retries with backoff on connection errors only, and remote commands run with a timeout. Every
// command string comes from shellCommand(). Errors say whether the bastion or the node failed.
import type { Duplex } from 'node:stream';
import type { AgentAuthMethod, Client, ConnectConfig, ParsedKey, PublicKeyAuthMethod } from 'ssh2';
import { DbtlsError } from '../../errors.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS } from '../defaults.js';
import { appendKnownHost, blobKeyType, fingerprintSha256, type KnownHosts } from './known-hosts.js';
import { BastionPool, forwardThrough } from './bastion.js';
import { identitiesFor, type IdentityCache } from './identity.js';
import type { JumpHost, NodeSpec } from '../../inventory/model.js';

/** What the nodes of one run share: bastion connections and decrypted identity files. */
export interface SshShared {
  bastions: BastionPool;
  identities: IdentityCache;
}

export function sshShared(): SshShared {
  return { bastions: new BastionPool(), identities: new Map() };
}

export interface SshOptions {
  knownHosts: KnownHosts;
  /** Where --accept-new records new hosts. */
  knownHostsFile: string;
  acceptNew: boolean;
  /** Passphrase of encrypted identity files. */
  passphrase?: string;
  /** Per connection (bastion, then node): TCP connect, SSH handshake and authentication (default 15 s). */
  connectTimeoutMs?: number;
  /** Attempts after the first, on connection errors only (default 2). */
  retries?: number;
  /** Wait before the first retry; each next one waits twice as long (default 300 ms). */
  retryDelayMs?: number;
  backups: number;
  /** Reports a host key that --accept-new added; `bastion` names the bastion when it was the bastion's. */
  onNewHostKey?: (node: string, fingerprint: string, bastion?: string) => void;
  /** Reports a failed attempt that will be retried after delayMs; attempt counts from 1. */
  onRetry?: (node: string, attempt: number, delayMs: number, reason: string) => void;
  /** Shared by the nodes of a run (default: nothing shared, a bastion connection per node). */
  shared?: SshShared;
  now?: () => Date;
}

export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS };

const RETRYABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
]);
/** SSH_OPEN_CONNECT_FAILED and SSH_OPEN_RESOURCE_SHORTAGE: the bastion could not reach the node (yet). */
const RETRYABLE_OPEN_FAILURES = new Set([2, 4]);
const OPEN_ADMINISTRATIVELY_PROHIBITED = 1;

export interface ExecResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

const STDERR_MAX = 64 * 1024;

export function run(conn: Client, command: string, timeoutMs = 60_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    // No `env`, no pty, no agent forwarding: nothing of dbtls's environment (where the CA passphrase,
    // the SSH key passphrase and the store password may live) is sent to the node with a command.
    conn.exec(command, { env: {}, pty: false }, (err, stream) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      let stderr = '';
      const timer = setTimeout(() => {
        stream.close();
        reject(new DbtlsError('ssh-timeout', `remote command timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      stream.on('data', (d: Buffer) => out.push(d));
      // A node's stderr is kept bounded (it is only ever shown, sanitized, in a message).
      stream.stderr.on('data', (d: Buffer) => {
        if (stderr.length < STDERR_MAX) stderr += d.toString().slice(0, STDERR_MAX - stderr.length);
      });
      stream.on('close', (code: number | null) => {
        clearTimeout(timer);
        resolve({ code, stdout: Buffer.concat(out), stderr });
      });
    });
  });
}

/** Where one SSH handshake goes: the node itself, or its bastion. */
interface Endpoint {
  host: string;
  port: number;
  user: string;
  /** For messages: the node's name, or the bastion's `user@host:port`. */
  role: 'node' | 'bastion';
  label: string;
}

/** `user@host:port`, IPv6 in brackets. */
export function jumpLabel(j: JumpHost): string {
  return `${j.user}@${j.host.includes(':') ? `[${j.host}]` : j.host}:${j.port}`;
}

/** An attempt that failed for a reason worth another attempt; `error` is what is reported if none is left. */
class Retryable extends Error {
  constructor(
    readonly error: DbtlsError,
    readonly reason: string,
  ) {
    super(error.message);
  }
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;
const level = (e: unknown) => (e as { level?: string }).level;

/** Connection-level failures (no answer, refused, reset, timed out): a later attempt may succeed. */
function isConnectionError(e: unknown): boolean {
  const code = errno(e);
  if (typeof code === 'string' && RETRYABLE.has(code)) return true;
  const lv = level(e);
  if (lv === 'client-timeout') return true;
  // A server that closes the socket before its banner (starting up, MaxStartups) is a connection problem too.
  return /timed out|connection lost before handshake/i.test((e as Error).message ?? '');
}

/** One SSH handshake and authentication, with the host key checked; SOCK tunnels it through a bastion. */
async function handshake(
  end: Endpoint,
  node: NodeSpec,
  opts: SshOptions,
  keys: ParsedKey[],
  sock?: Duplex,
): Promise<Client> {
  const { Client } = await import('ssh2');
  const conn = new Client();
  let refusal: DbtlsError | undefined;
  let accepted: { type: string; key: Buffer } | undefined;
  // The node's name is added by classify(): a bastion's refusal is shared by every node waiting for it.
  const who = end.role === 'bastion' ? `bastion ${end.label}: ` : '';
  const auth: Array<PublicKeyAuthMethod | AgentAuthMethod> = keys.map((key) => ({
    type: 'publickey',
    username: end.user,
    key,
  }));
  if (process.env.SSH_AUTH_SOCK) auth.push({ type: 'agent', username: end.user, agent: process.env.SSH_AUTH_SOCK });
  const config: ConnectConfig = {
    host: end.host,
    port: end.port,
    ...(sock ? { sock } : {}),
    username: end.user,
    readyTimeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 3,
    authHandler: auth,
    hostVerifier: (key: Buffer) => {
      const type = blobKeyType(key) ?? 'unknown';
      const r = opts.knownHosts.check(end.host, end.port, type, key);
      if (r.status === 'known') return true;
      if (r.status === 'unknown' && opts.acceptNew) {
        accepted = { type, key };
        return true;
      }
      const at = `${end.host}:${end.port}`;
      refusal =
        r.status === 'unknown'
          ? new DbtlsError(
              'host-key-unknown',
              `${who}host key of ${at} is not in ${opts.knownHostsFile} (${r.fingerprint})`,
              { hint: 'check the fingerprint, then pass --accept-new or add it with ssh-keyscan' },
            )
          : r.status === 'revoked'
            ? new DbtlsError('host-key-revoked', `${who}${at} offered a revoked host key (${r.fingerprint})`)
            : r.newType
              ? // OpenSSH would call this host "new" and --accept-new would add the key beside the known
                // one, silently. dbtls refuses instead: it cannot steer which key type the server
                // offers, so a key of a type never seen for a known host is a possible impostor.
                new DbtlsError(
                  'host-key-new-type',
                  `${who}${at} offered a ${r.newType.offered} host key (${r.offered}), but ${r.file}:${r.lines.join(',')} knows it only by ${r.newType.known.join(', ')} ${r.newType.known.length === 1 ? 'key' : 'keys'} (${r.expected.join(', ')}): refused, --accept-new or not`,
                  {
                    hint: `if the server really has this key, check its fingerprint on the server, then add it: ssh-keyscan -t ${r.newType.offered.replace(/^ssh-/, '')} -p ${end.port} ${end.host} >> ${opts.knownHostsFile}`,
                  },
                )
              : new DbtlsError(
                  'host-key-changed',
                  `${who}HOST KEY CHANGED for ${at}: it offered ${r.offered}, ${r.file}:${r.lines.join(',')} expects ${r.expected.join(' or ')}`,
                  { hint: 'if the change is expected, remove the old line (ssh-keygen -R) and connect again' },
                );
      return false;
    },
  };
  try {
    await new Promise<void>((resolve, reject) => {
      conn.once('ready', () => resolve());
      conn.once('error', (e) => reject(refusal ?? e));
      // ssh2 throws here on a bad configuration; inside the executor that is a rejection too.
      conn.connect(config);
    });
  } catch (e) {
    // ssh2 may report more than one error for one failed attempt (a timeout, then the lost socket).
    conn.on('error', () => undefined);
    conn.end();
    throw e;
  }
  // Errors after 'ready' reach whoever uses the connection (they race its close); never crash the run.
  conn.on('error', () => undefined);
  if (accepted) {
    await appendKnownHost(opts.knownHostsFile, end.host, end.port, accepted.type, accepted.key).catch((e) => {
      conn.end();
      throw e;
    });
    opts.knownHosts.remember(end.host, end.port, accepted.key, opts.knownHostsFile);
    opts.onNewHostKey?.(node.name, fingerprintSha256(accepted.key), end.role === 'bastion' ? end.label : undefined);
  }
  return conn;
}

/** A failed handshake as the error to report, wrapped in Retryable when another attempt may help. */
function classify(e: unknown, end: Endpoint, node: NodeSpec, via?: string): DbtlsError | Retryable {
  if (e instanceof DbtlsError)
    return new DbtlsError(e.code, `${node.name}: ${e.message}`, {
      kind: e.kind,
      hint: e.hint,
      location: e.location,
      cause: e.cause,
    });
  const message = (e as Error).message ?? String(e);
  const through = via ? ` through bastion ${via}` : '';
  if (level(e) === 'client-authentication') {
    return end.role === 'bastion'
      ? new DbtlsError(
          'ssh-bastion-auth',
          `${node.name}: bastion ${end.label} refused every key (${message}); it is reached with the node's ssh.user (or the user in proxyJump) and ssh.identityFile or the agent`,
        )
      : new DbtlsError(
          'ssh-auth',
          `${node.name}: ${end.user}@${end.host}:${end.port}${through} refused every key (${message})`,
          { hint: 'check ssh.user and ssh.identityFile (or the agent) for this node' },
        );
  }
  const error =
    end.role === 'bastion'
      ? new DbtlsError('ssh-bastion-connect', `${node.name}: cannot connect to bastion ${end.label}: ${message}`, {
          cause: e,
        })
      : new DbtlsError('ssh-connect', `${node.name}: cannot connect to ${end.host}:${end.port}${through}: ${message}`, {
          cause: e,
        });
  return isConnectionError(e)
    ? new Retryable(error, `${end.role === 'bastion' ? `bastion ${end.label}: ` : ''}${message}`)
    : error;
}

/** The bastion's answer to a forwarding request, as the error to report. */
function classifyForward(e: unknown, node: NodeSpec, via: string): DbtlsError | Retryable {
  const reason = (e as { reason?: unknown }).reason;
  const message = (e as Error).message ?? String(e);
  const target = `${node.host}:${node.ssh.port ?? 22}`;
  if (reason === OPEN_ADMINISTRATIVELY_PROHIBITED) {
    return new DbtlsError(
      'ssh-bastion-forward',
      `${node.name}: bastion ${via} refused to forward to ${target} (${message}); TCP forwarding must be allowed there (sshd AllowTcpForwarding)`,
    );
  }
  if (typeof reason === 'number' && RETRYABLE_OPEN_FAILURES.has(reason)) {
    const error = new DbtlsError(
      'ssh-connect',
      `${node.name}: cannot connect to ${target} through bastion ${via}: the bastion could not reach it (${message})`,
      { cause: e },
    );
    return new Retryable(error, `through bastion ${via}: ${message}`);
  }
  if (typeof reason === 'number')
    return new DbtlsError(
      'ssh-bastion-forward',
      `${node.name}: bastion ${via} did not open a connection to ${target} (${message})`,
    );
  // No reason code: the bastion connection itself failed (dropped, or the wait timed out).
  const error = new DbtlsError(
    'ssh-bastion-connect',
    `${node.name}: bastion ${via} failed while opening a connection to ${target}: ${message}`,
    { cause: e },
  );
  return isConnectionError(e) || /no response|not connected|closed/i.test(message)
    ? new Retryable(error, `bastion ${via}: ${message}`)
    : error;
}

async function connectOnce(node: NodeSpec, opts: SshOptions, keys: ParsedKey[]): Promise<Client> {
  const target: Endpoint = {
    host: node.host,
    port: node.ssh.port ?? 22,
    user: node.ssh.user ?? 'root',
    role: 'node',
    label: node.name,
  };
  const jump = node.ssh.proxyJump;
  if (!jump) {
    try {
      return await handshake(target, node, opts, keys);
    } catch (e) {
      throw classify(e, target, node);
    }
  }
  const via = jumpLabel(jump);
  const bastion: Endpoint = { host: jump.host, port: jump.port, user: jump.user, role: 'bastion', label: via };
  // One bastion connection per bastion, user, key and known_hosts file: what the handshake depends on.
  const key = JSON.stringify([
    jump.user,
    jump.host,
    jump.port,
    node.ssh.identityFile ?? '',
    opts.knownHostsFile,
    opts.acceptNew,
  ]);
  const pool = opts.shared?.bastions ?? new BastionPool(0);
  const lease = await pool
    .acquire(key, () => handshake(bastion, node, opts, keys))
    .catch((e) => {
      throw classify(e, bastion, node);
    });
  try {
    const channel = await forwardThrough(
      lease.client,
      target.host,
      target.port,
      opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    ).catch((e) => {
      throw classifyForward(e, node, via);
    });
    const conn = await handshake(target, node, opts, keys, channel).catch((e) => {
      channel.close();
      throw classify(e, target, node, via);
    });
    conn.once('close', lease.release);
    return conn;
  } catch (e) {
    lease.release();
    throw e;
  }
}

/**
 * The node's SSH connection, ready. Connection errors (refused, reset, unreachable, timed out — at the
 * bastion or the node) are retried with exponential backoff; host key, authentication, identity file
 * and forwarding-refused errors are not. A connection through a bastion gives its lease back on close.
 */
export async function connect(node: NodeSpec, opts: SshOptions): Promise<Client> {
  // A bad identity file or passphrase is the node's error, and no attempt would change it.
  const keys = await identitiesFor(node.ssh.identityFile, opts.passphrase, opts.shared?.identities).catch(
    (e: unknown) => {
      throw e instanceof DbtlsError ? new DbtlsError(e.code, `${node.name}: ${e.message}`) : e;
    },
  );
  if (keys.length === 0 && !process.env.SSH_AUTH_SOCK) {
    throw new DbtlsError(
      'ssh-auth',
      `${node.name}: no key to log in with: no ssh.identityFile, no ssh-agent (SSH_AUTH_SOCK), and none of ~/.ssh/id_ed25519, id_ecdsa, id_rsa opens`,
    );
  }
  const attempts = Math.max(0, opts.retries ?? DEFAULT_RETRIES) + 1;
  const base = opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectOnce(node, opts, keys);
    } catch (e) {
      if (!(e instanceof Retryable)) throw e;
      if (attempt >= attempts) {
        throw attempts > 1
          ? new DbtlsError(e.error.code, `${e.error.message} (${attempts} attempts)`, { cause: e.error.cause })
          : e.error;
      }
      const delay = base * 2 ** (attempt - 1);
      opts.onRetry?.(node.name, attempt, delay, e.reason);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
