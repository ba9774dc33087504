// Resources shared by the tests of one file (servers, certificate sets): made on first use, cleaned
// up newest first when the file ends.
import { after } from 'node:test';

/** Something that can run cleanup later: a TestContext, or the file's collector below. */
export type Scope = { after(fn: () => unknown): void };

/** A scope for the whole test file; call once at module level. */
export function fileScope(): Scope {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  return { after: (fn) => void cleanups.push(fn) };
}

/** Runs `make` on the first call only; later calls share its promise. */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= make());
}
