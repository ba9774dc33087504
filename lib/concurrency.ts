// Bounded parallelism, the two shapes dbtls needs: a whole list mapped with at most N at once (nodes
// in a push, probes in a live check), and a gate that lets at most N tasks through (remote commands
// on one SSH connection).

/**
 * fn over every item, at most `limit` at once; results in the items' order. If fn throws, the first
 * error is the one thrown and no item starts after it (those already running are not awaited).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/** At most n of the tasks given to it run at once; the others wait their turn. */
export function limiter(n: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    while (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
