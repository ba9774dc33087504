// The wizard's connection test: a real SSH connection to each node (through its bastion, if any), as
// `dbtls push` makes it, against known_hosts plus the keys accepted so far in this run — which are
// kept in memory only, and appended to known_hosts (as --accept-new does) once the last question is
// answered. An unknown key is handed back with its fingerprint for the person (or the answers file) to
// accept; a changed or revoked key is refused and never offered.
import { isDbtlsError } from '../errors.js';
import type { NodeSpec } from '../inventory/model.js';
import { DEFAULT_KNOWN_HOSTS } from '../deliver/connect.js';
import {
  appendKnownHost,
  blobKeyType,
  fingerprintSha256,
  KnownHosts,
  loadKnownHosts,
  type HostKeyResult,
} from '../deliver/ssh/known-hosts.js';
import { connect, jumpLabel } from '../deliver/ssh/connect.js';

/** A host key a server offered that no known_hosts line vouches for. */
export interface OfferedKey {
  host: string;
  port: number;
  /** The key type inside the blob, e.g. ssh-ed25519. */
  keyType: string;
  key: Buffer;
  /** SHA256:… as ssh-keygen -l prints it. */
  fingerprint: string;
  /** The known_hosts file it goes to when accepted. */
  file: string;
  /** The bastion's label (user@host:port) when the key is the node's bastion's. */
  bastion?: string;
}

export type ConnectionResult =
  | { node: string; status: 'ok' }
  | { node: string; status: 'unknown-key'; offered: OfferedKey }
  | { node: string; status: 'refused-key' | 'failed'; code: string; message: string };

/** known_hosts that remembers every key it was asked about, so an unknown one can be shown and accepted. */
class RecordingKnownHosts extends KnownHosts {
  readonly asked: Array<{ host: string; port: number; keyType: string; key: Buffer; result: HostKeyResult }> = [];

  override check(host: string, port: number, keyType: string, key: Buffer): HostKeyResult {
    const result = super.check(host, port, keyType, key);
    this.asked.push({ host, port, keyType, key, result });
    return result;
  }
}

export interface TesterOptions {
  /** Passphrase of encrypted identity files. */
  passphrase?: string;
  connectTimeoutMs?: number;
  retries?: number;
}

export const keyId = (k: { host: string; port: number; fingerprint: string }): string =>
  `${k.host}:${k.port} ${k.fingerprint}`;

export class ConnectionTester {
  private readonly files = new Map<string, Promise<KnownHosts>>();
  private readonly accepted: OfferedKey[] = [];

  constructor(private readonly opts: TesterOptions = {}) {}

  static knownHostsFileOf(node: NodeSpec): string {
    return node.ssh.knownHostsFile ?? DEFAULT_KNOWN_HOSTS;
  }

  /** Connects and logs in (nothing is run); closes the connection again. */
  async test(node: NodeSpec): Promise<ConnectionResult> {
    const file = ConnectionTester.knownHostsFileOf(node);
    if (!this.files.has(file)) this.files.set(file, loadKnownHosts([file]));
    const base = await this.files.get(file)!;
    const known = new RecordingKnownHosts([...base.entries], base.skipped);
    for (const k of this.accepted) if (k.file === file) known.remember(k.host, k.port, k.key, file);
    try {
      const conn = await connect(node, {
        knownHosts: known,
        knownHostsFile: file,
        acceptNew: false,
        // Nothing is delivered here; the field is the transport's.
        backups: 0,
        connectTimeoutMs: this.opts.connectTimeoutMs ?? 10_000,
        retries: this.opts.retries ?? 1,
        retryDelayMs: 300,
        ...(this.opts.passphrase ? { passphrase: this.opts.passphrase } : {}),
      });
      conn.end();
      return { node: node.name, status: 'ok' };
    } catch (e) {
      const code = isDbtlsError(e) ? e.code : ((e as NodeJS.ErrnoException).code ?? 'failure');
      const message = (e as Error).message ?? String(e);
      if (code === 'host-key-unknown') {
        const asked = [...known.asked].reverse().find((a) => a.result.status === 'unknown');
        if (asked) {
          const jump = node.ssh.proxyJump;
          const isBastion =
            jump !== undefined &&
            (asked.host !== node.host || asked.port !== (node.ssh.port ?? 22)) &&
            asked.host === jump.host &&
            asked.port === jump.port;
          const offered: OfferedKey = {
            host: asked.host,
            port: asked.port,
            keyType: blobKeyType(asked.key) ?? asked.keyType,
            key: asked.key,
            fingerprint: fingerprintSha256(asked.key),
            file,
            ...(isBastion ? { bastion: jumpLabel(jump) } : {}),
          };
          return { node: node.name, status: 'unknown-key', offered };
        }
      }
      const refused = code === 'host-key-changed' || code === 'host-key-revoked';
      return { node: node.name, status: refused ? 'refused-key' : 'failed', code, message };
    }
  }

  /** Trusts KEY for the rest of this run (in memory); written by persist(). */
  accept(key: OfferedKey): void {
    if (!this.accepted.some((k) => k.file === key.file && keyId(k) === keyId(key))) this.accepted.push(key);
  }

  get acceptedKeys(): readonly OfferedKey[] {
    return this.accepted;
  }

  /** Appends every accepted key to its known_hosts file (atomically, as --accept-new does). */
  async persist(): Promise<OfferedKey[]> {
    for (const k of this.accepted) await appendKnownHost(k.file, k.host, k.port, k.keyType, k.key);
    return [...this.accepted];
  }
}
