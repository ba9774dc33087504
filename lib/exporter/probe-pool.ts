// What stands between a scrape storm and the database servers: at most `concurrency` probes run at
// once, at most `queue` more wait for a slot (the rest are refused at once), scrapes of the same
// target share one probe in flight, and a result is reused for `cacheMs`. A waiting scrape gives up
// at its own deadline, so every scrape is answered within its timeout, probed or not. The cache holds
// at most `maxEntries` targets (the oldest go first): a flood of distinct targets cannot grow memory.

export interface PoolOptions {
  /** Probes running at once: the most connections the exporter opens to all servers together. */
  concurrency: number;
  /** Scrapes that may wait for a slot; more are answered "busy" at once. */
  queue: number;
  /** How long a result (success or failure) is reused. 0: never. */
  cacheMs: number;
  /** Targets the cache keeps at most. */
  maxEntries: number;
  now?: () => number;
}

/** How a scrape was answered: by a probe of its own, one already in flight, the cache, or not at all. */
export type Outcome<R> =
  | { kind: 'probed' | 'joined' | 'cached'; result: R; ageMs: number }
  | { kind: 'busy'; reason: 'queue-full' | 'queue-timeout' };

export interface PoolStats {
  inFlight: number;
  queued: number;
  cacheHits: number;
  joined: number;
  rejected: number;
  queueTimeouts: number;
  cacheEntries: number;
}

interface Entry<R> {
  at: number;
  result: R;
}

export class ProbePool<R> {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly inFlight = new Map<string, Promise<Entry<R>>>();
  private readonly cache = new Map<string, Entry<R>>();
  private readonly counts = { cacheHits: 0, joined: 0, rejected: 0, queueTimeouts: 0 };
  private readonly now: () => number;

  constructor(private readonly opts: PoolOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * The result for KEY: cached, shared with the probe in flight, or from `probeFn` once a slot is free.
   * `probeFn` gets the milliseconds left before `deadline` (an absolute time) and must settle by then;
   * it must not throw (a failed probe is a result).
   */
  async get(key: string, deadline: number, probeFn: (ms: number) => Promise<R>): Promise<Outcome<R>> {
    const hit = this.fresh(key);
    if (hit) {
      this.counts.cacheHits++;
      return { kind: 'cached', result: hit.result, ageMs: this.now() - hit.at };
    }
    const running = this.inFlight.get(key);
    if (running) {
      this.counts.joined++;
      const e = await running;
      return { kind: 'joined', result: e.result, ageMs: this.now() - e.at };
    }
    if (this.active >= this.opts.concurrency) {
      if (this.waiting.length >= this.opts.queue) {
        this.counts.rejected++;
        return { kind: 'busy', reason: 'queue-full' };
      }
      if (!(await this.slot(deadline))) {
        this.counts.queueTimeouts++;
        return { kind: 'busy', reason: 'queue-timeout' };
      }
      // While this scrape waited, another may have probed the same target: the slot goes back.
      const done = this.fresh(key);
      const running = this.inFlight.get(key);
      if (done || running) {
        this.release();
        this.counts.joined++;
        const e = done ?? (await running!);
        return { kind: 'joined', result: e.result, ageMs: this.now() - e.at };
      }
    } else {
      this.active++;
    }
    const p = (async (): Promise<Entry<R>> => {
      try {
        const result = await probeFn(Math.max(1, deadline - this.now()));
        return { at: this.now(), result };
      } finally {
        this.inFlight.delete(key);
        this.release();
      }
    })();
    this.inFlight.set(key, p);
    const e = await p;
    this.remember(key, e);
    return { kind: 'probed', result: e.result, ageMs: 0 };
  }

  stats(): PoolStats {
    return {
      inFlight: this.active,
      queued: this.waiting.length,
      ...this.counts,
      cacheEntries: this.cache.size,
    };
  }

  private fresh(key: string): Entry<R> | undefined {
    const e = this.cache.get(key);
    if (e && this.now() - e.at < this.opts.cacheMs) return e;
    if (e) this.cache.delete(key);
    return undefined;
  }

  private remember(key: string, e: Entry<R>): void {
    if (this.opts.cacheMs <= 0) return;
    this.cache.delete(key); // re-inserted last: Map order is age order
    this.cache.set(key, e);
    const now = this.now();
    for (const [k, old] of this.cache) {
      if (this.cache.size <= this.opts.maxEntries && now - old.at < this.opts.cacheMs) break;
      this.cache.delete(k);
    }
  }

  /** Waits for a free slot until DEADLINE; true with the slot taken, false when the time ran out. */
  private slot(deadline: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true); // release() handed its slot over: active stays counted
      };
      const timer = setTimeout(
        () => {
          const i = this.waiting.indexOf(wake);
          if (i >= 0) this.waiting.splice(i, 1);
          resolve(false);
        },
        Math.max(0, deadline - this.now()),
      );
      this.waiting.push(wake);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
