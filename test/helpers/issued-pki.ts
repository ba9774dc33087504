// One `dbtls issue` per test file, copied for each test that needs an issued PKI to work on. An
// issue costs seconds of CPU (RSA keys, and for Tungsten nodes a JCEKS store sealed with 200,000
// MD5 rounds), and most tests are about what check, issue or render do to a PKI that exists, not
// about making it; tests about issuing itself keep running their own issue. Each copy is the test's
// own (a new folder, same bytes, modes and mtimes), so one test's damage never reaches another.
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeInventory, type TestInventory } from './inventory.js';
import { dbtls } from './run.js';
import { once, type Scope } from './scope.js';
import { tempDir } from './tmp.js';

export interface IssuedCopy {
  /** The test's folder: inventory.yml and pki/ beside it. */
  dir: string;
  /** DIR/inventory.yml. */
  inv: string;
  /** DIR/pki. */
  pki: string;
}

/**
 * A function that gives each caller its own copy of one PKI issued (once, on the first call) for
 * INVENTORY with `dbtls issue -i inventory.yml ...OPTS.args` (in OPTS.env, default this process's).
 * SCOPE (the file's) removes the original when the file ends; each copy goes when the test T passed
 * to the function ends.
 * INVENTORY may be a function of the folder, for inventories that name paths inside it (a node's
 * dest): each copy's inventory.yml is then written anew for the copy's folder.
 */
export function issuedPki(
  scope: Scope,
  inventory: TestInventory | ((dir: string) => TestInventory),
  opts: { args?: string[]; env?: NodeJS.ProcessEnv } = {},
): (t: Scope) => Promise<IssuedCopy> {
  const inventoryFor = typeof inventory === 'function' ? inventory : () => inventory;
  const original = once(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dbtls-issued-'));
    scope.after(() => rm(dir, { recursive: true, force: true }));
    const inv = await writeInventory(dir, inventoryFor(dir));
    const r = await dbtls(['issue', '-i', inv, ...(opts.args ?? [])], {
      env: opts.env ?? process.env,
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, `the shared issue failed: ${r.stderr}`);
    return dir;
  });
  return async (t) => {
    const from = await original();
    const dir = await tempDir(t);
    // The inventory names its PKI folder relatively (pki: ./pki), so the copy is self-contained.
    await cp(from, dir, { recursive: true, preserveTimestamps: true });
    if (typeof inventory === 'function') await writeInventory(dir, inventory(dir));
    return { dir, inv: join(dir, 'inventory.yml'), pki: join(dir, 'pki') };
  };
}
