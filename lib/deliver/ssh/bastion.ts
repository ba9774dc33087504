// Bastion connections shared by the nodes behind them: hundreds of nodes behind one ProxyJump host
// need one SSH connection to it, not hundreds. Each node takes a lease while its own connection
// (tunnelled through the bastion) is open; the bastion connection is closed when the last lease is
// returned — after a short grace, so the next node of a sequential run reuses it — or when the run
// closes the pool. A bastion connection that drops is forgotten, and the next lease opens a new one.
import type { Client, ClientChannel } from 'ssh2';

export interface BastionLease {
  client: Client;
  /** Gives the lease back; safe to call more than once. */
  release(): void;
}

interface Entry {
  client: Promise<Client>;
  refs: number;
  timer?: NodeJS.Timeout;
}

/** How long an unused bastion connection waits for the next node before it is closed. */
export const BASTION_GRACE_MS = 1_000;

export class BastionPool {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly graceMs = BASTION_GRACE_MS) {}

  /**
   * A lease on the bastion connection named KEY, opened with OPEN when there is none (or the last one
   * dropped). Callers waiting for the same opening share it, and its failure.
   */
  async acquire(key: string, open: () => Promise<Client>): Promise<BastionLease> {
    let entry = this.entries.get(key);
    if (!entry) {
      const made: Entry = { client: open(), refs: 0 };
      entry = made;
      this.entries.set(key, made);
      made.client.then(
        (c) => c.once('close', () => this.forget(key, made)),
        () => this.forget(key, made),
      );
    }
    entry.refs++;
    clearTimeout(entry.timer);
    let client: Client;
    try {
      client = await entry.client;
    } catch (e) {
      entry.refs--;
      throw e;
    }
    let returned = false;
    const held = entry;
    return {
      client,
      release: () => {
        if (returned) return;
        returned = true;
        if (--held.refs > 0) return;
        clearTimeout(held.timer);
        held.timer = setTimeout(() => {
          if (held.refs > 0) return;
          this.forget(key, held);
          client.end();
        }, this.graceMs);
        // The open connection keeps the process alive until the timer closes it; the timer itself need not.
        held.timer.unref();
      },
    };
  }

  /** Open bastion connections (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  /** Closes every bastion connection now, leases or not: the run is over. */
  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      all.map(async (e) => {
        clearTimeout(e.timer);
        const c = await e.client.catch(() => undefined);
        c?.end();
      }),
    );
  }

  private forget(key: string, entry: Entry): void {
    clearTimeout(entry.timer);
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}

/**
 * A TCP stream to HOST:PORT opened by the bastion (an SSH direct-tcpip channel), for the node's own SSH
 * connection to run over. Rejects after TIMEOUT_MS; a channel that opens after that is closed at once.
 */
export function forwardThrough(bastion: Client, host: string, port: number, timeoutMs: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(
        Object.assign(new Error(`timed out after ${timeoutMs} ms waiting for the bastion to open a connection`), {
          code: 'ETIMEDOUT',
        }),
      );
    }, timeoutMs);
    try {
      bastion.forwardOut('127.0.0.1', 0, host, port, (err, channel) => {
        clearTimeout(timer);
        if (late) {
          channel?.close();
          return;
        }
        if (err) reject(err);
        else resolve(channel);
      });
    } catch (e) {
      // ssh2 throws when the connection is no longer usable (e.g. closed meanwhile).
      clearTimeout(timer);
      reject(e);
    }
  });
}
