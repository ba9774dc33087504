// lib/concurrency.ts: mapLimit and limiter, measured with counters and hand-released gates (no timing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapLimit, limiter } from '../lib/concurrency.js';

/** A task that stays in flight until released; counts how many are in flight at once. */
function gates() {
  let inFlight = 0;
  let max = 0;
  const started: number[] = [];
  const release = new Map<number, () => void>();
  const run = async (i: number): Promise<number> => {
    inFlight++;
    max = Math.max(max, inFlight);
    started.push(i);
    await new Promise<void>((r) => release.set(i, r));
    inFlight--;
    return i * 10;
  };
  return {
    run,
    started,
    release,
    get max() {
      return max;
    },
    get inFlight() {
      return inFlight;
    },
  };
}

/** Let every pending microtask and promise callback run (bounded). */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

test("mapLimit: never more than limit in flight; results in the items' order, not completion order", async () => {
  const g = gates();
  const items = [0, 1, 2, 3, 4, 5, 6];
  const done = mapLimit(items, 3, (i) => g.run(i));
  await settle();
  assert.deepEqual(g.started, [0, 1, 2]);
  // release in reverse order of start, one at a time: each release lets exactly one more start
  for (let round = 0; round < 20 && g.release.size > 0; round++) {
    const pending = [...g.release.keys()].sort((a, b) => b - a);
    const last = pending[0]!;
    g.release.get(last)!();
    g.release.delete(last);
    await settle();
    assert.ok(g.inFlight <= 3, `in flight ${g.inFlight}`);
  }
  assert.deepEqual(
    await done,
    items.map((i) => i * 10),
  );
  assert.equal(g.max, 3);
  assert.deepEqual([...g.started].sort(), items);
});

test('mapLimit: limit 1 runs one at a time, in order', async () => {
  const g = gates();
  const done = mapLimit([0, 1, 2], 1, (i) => g.run(i));
  for (let round = 0; round < 10 && g.started.length <= 3; round++) {
    await settle();
    assert.ok(g.inFlight <= 1);
    const r = g.release.get(g.started[g.started.length - 1]!);
    if (!r) break;
    g.release.delete(g.started[g.started.length - 1]!);
    r();
  }
  assert.deepEqual(await done, [0, 10, 20]);
  assert.deepEqual(g.started, [0, 1, 2]);
  assert.equal(g.max, 1);
});

test('mapLimit: empty input calls nothing and gives []; a limit of 0 or more than the items still works', async () => {
  let calls = 0;
  assert.deepEqual(await mapLimit([], 4, async () => ++calls), []);
  assert.equal(calls, 0);
  assert.deepEqual(await mapLimit([1, 2], 0, async (x) => x + 1), [2, 3]);
  assert.deepEqual(await mapLimit([1, 2], 100, async (x) => x + 1), [2, 3]);
});

test('mapLimit: the first error is the one thrown, and no item starts after it', async () => {
  const started: number[] = [];
  const release = new Map<number, (fail: boolean) => void>();
  const done = mapLimit([0, 1, 2, 3, 4, 5], 2, (i) => {
    started.push(i);
    return new Promise<number>((resolve, reject) =>
      release.set(i, (fail) => (fail ? reject(new Error(`item ${i}`)) : resolve(i))),
    );
  });
  const outcome = done.then(
    () => null,
    (e: Error) => e.message,
  );
  await settle();
  assert.deepEqual(started, [0, 1]);
  release.get(1)!(true); // item 1 fails while item 0 is still running
  await settle();
  assert.equal(await outcome, 'item 1');
  release.get(0)!(false); // item 0 finishes after the failure: its worker must not pick up item 2
  await settle();
  assert.deepEqual(started, [0, 1]);
});

test('limiter: at most n tasks run at once, each gets its own result, and a failing task frees its slot', async () => {
  const limit = limiter(2);
  const g = gates();
  const results = [0, 1, 2, 3, 4].map((i) => limit(() => g.run(i)));
  const failing = limit(async () => {
    throw new Error('boom');
  });
  await settle();
  assert.deepEqual(g.started, [0, 1]);
  for (let round = 0; round < 20 && g.release.size > 0; round++) {
    const first = [...g.release.keys()][0]!;
    g.release.get(first)!();
    g.release.delete(first);
    await settle();
    assert.ok(g.inFlight <= 2, `in flight ${g.inFlight}`);
  }
  assert.deepEqual(await Promise.all(results), [0, 10, 20, 30, 40]);
  await assert.rejects(failing, /boom/);
  assert.equal(g.max, 2);
  // the failed task released its slot: two more run at once
  const g2 = gates();
  const more = [7, 8].map((i) => limit(() => g2.run(i)));
  await settle();
  assert.equal(g2.inFlight, 2);
  for (const r of g2.release.values()) r();
  assert.deepEqual(await Promise.all(more), [70, 80]);
});

test('limiter(1) serializes', async () => {
  const limit = limiter(1);
  const g = gates();
  const all = [0, 1, 2].map((i) => limit(() => g.run(i)));
  for (let round = 0; round < 10 && g.release.size + g.started.length > 0; round++) {
    await settle();
    assert.ok(g.inFlight <= 1);
    const k = [...g.release.keys()][0];
    if (k === undefined) break;
    g.release.get(k)!();
    g.release.delete(k);
  }
  assert.deepEqual(await Promise.all(all), [0, 10, 20]);
  assert.deepEqual(g.started, [0, 1, 2]);
  assert.equal(g.max, 1);
});
