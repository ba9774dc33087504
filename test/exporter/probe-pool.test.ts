// The exporter's ProbePool, alone: how many probes run at once, who waits and who is turned away,
// scrapes of one target sharing a probe, the cache's life and size. Probes here are promises the
// test settles by hand, so every count is exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProbePool } from '../../lib/exporter/probe-pool.js';

/** A probe function whose calls the test sees and settles. */
function manual() {
  const calls: Array<{ key: string; ms: number; settle: (v: string) => void }> = [];
  let running = 0;
  let most = 0;
  const fn = (key: string) => (ms: number) =>
    new Promise<string>((resolve) => {
      running++;
      most = Math.max(most, running);
      calls.push({
        key,
        ms,
        settle: (v) => {
          running--;
          resolve(v);
        },
      });
    });
  return { calls, fn, most: () => most };
}

const far = () => Date.now() + 60_000;

test('at most `concurrency` probes run; `queue` more wait and run as slots free; the rest are busy at once', async () => {
  const pool = new ProbePool<string>({ concurrency: 3, queue: 2, cacheMs: 0, maxEntries: 100 });
  const m = manual();
  const answers = Array.from({ length: 8 }, (_, i) => pool.get(`t${i}`, far(), m.fn(`t${i}`)));
  await sleep(10);
  assert.equal(m.calls.length, 3, 'three probes started');
  assert.deepEqual(pool.stats().queued, 2);
  for (let round = 0; round < 3; round++) {
    for (const c of m.calls.filter((c) => !(c as { done?: boolean }).done)) {
      (c as { done?: boolean }).done = true;
      c.settle(`ok ${c.key}`);
    }
    await sleep(10);
  }
  const out = await Promise.all(answers);
  assert.deepEqual(
    out.map((o) => o.kind),
    ['probed', 'probed', 'probed', 'probed', 'probed', 'busy', 'busy', 'busy'],
  );
  assert.equal(m.most(), 3, 'never more than three at once');
  assert.deepEqual(out[5], { kind: 'busy', reason: 'queue-full' });
  assert.equal(pool.stats().rejected, 3);
  assert.equal(pool.stats().inFlight, 0);
});

test('a waiting scrape gives up at its deadline, and its slot is not lost', async () => {
  const pool = new ProbePool<string>({ concurrency: 1, queue: 5, cacheMs: 0, maxEntries: 100 });
  const m = manual();
  const first = pool.get('a', far(), m.fn('a'));
  const t0 = performance.now();
  const waiting = await pool.get('b', Date.now() + 150, m.fn('b'));
  const waited = performance.now() - t0;
  assert.deepEqual(waiting, { kind: 'busy', reason: 'queue-timeout' });
  assert.ok(waited >= 140 && waited < 1000, `gave up after ${waited} ms`);
  m.calls[0]!.settle('a done');
  assert.equal((await first).kind, 'probed');
  const next = pool.get('c', far(), m.fn('c'));
  await sleep(10);
  assert.equal(m.calls.length, 2, 'the slot went to the next scrape');
  m.calls[1]!.settle('c done');
  assert.deepEqual(await next, { kind: 'probed', result: 'c done', ageMs: 0 });
  assert.equal(pool.stats().queueTimeouts, 1);
});

test('the probe gets what is left of the deadline', async () => {
  const pool = new ProbePool<string>({ concurrency: 1, queue: 1, cacheMs: 0, maxEntries: 10 });
  const m = manual();
  const p = pool.get('a', Date.now() + 2000, m.fn('a'));
  await sleep(5);
  assert.ok(m.calls[0]!.ms > 1800 && m.calls[0]!.ms <= 2000, `ms ${m.calls[0]!.ms}`);
  m.calls[0]!.settle('x');
  await p;
});

test('scrapes of one target share the probe in flight; within cacheMs the result is reused, then probed again', async () => {
  let clock = 1_000_000;
  const pool = new ProbePool<string>({ concurrency: 4, queue: 4, cacheMs: 10_000, maxEntries: 10, now: () => clock });
  const m = manual();
  const a = Array.from({ length: 50 }, () => pool.get('db1', clock + 60_000, m.fn('db1')));
  await sleep(5);
  assert.equal(m.calls.length, 1, 'fifty scrapes, one probe');
  m.calls[0]!.settle('served');
  const out = await Promise.all(a);
  assert.equal(out.filter((o) => o.kind === 'probed').length, 1);
  assert.equal(out.filter((o) => o.kind === 'joined').length, 49);
  clock += 9_000;
  const cached = await pool.get('db1', clock + 60_000, m.fn('db1'));
  assert.deepEqual(cached, { kind: 'cached', result: 'served', ageMs: 9_000 });
  clock += 1_001;
  const again = pool.get('db1', clock + 60_000, m.fn('db1'));
  await sleep(5);
  assert.equal(m.calls.length, 2, 'expired: probed again');
  m.calls[1]!.settle('served again');
  assert.equal((await again).kind, 'probed');
});

test('the cache keeps at most maxEntries targets, the oldest going first', async () => {
  const pool = new ProbePool<string>({ concurrency: 8, queue: 0, cacheMs: 60_000, maxEntries: 5 });
  for (let i = 0; i < 20; i++) await pool.get(`t${i}`, far(), async () => `r${i}`);
  assert.equal(pool.stats().cacheEntries, 5);
  assert.equal((await pool.get('t19', far(), async () => 'new')).kind, 'cached');
  assert.equal((await pool.get('t0', far(), async () => 'new')).kind, 'probed');
});
