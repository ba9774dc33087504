// Loading an Ansible inventory from text in the tests: write it to a temporary file, load it, or
// collect its problems as [line, column, field, message].
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadInventory, type LoadOptions } from '../../lib/inventory/load.js';
import { InventoryError } from '../../lib/inventory/errors.js';
import { ROLES, type Cluster } from '../../lib/inventory/model.js';
import { tempDir } from './tmp.js';

export type Ctx = Parameters<typeof tempDir>[0];
export type Where = [line: number, column: number, field: string, message: string];

export async function write(t: Ctx, text: string, name: string): Promise<string> {
  const file = join(await tempDir(t), name);
  await writeFile(file, text);
  return file;
}

export async function load(t: Ctx, text: string, name = 'hosts.ini', opts: LoadOptions = {}): Promise<Cluster> {
  return loadInventory(await write(t, text, name), opts);
}

export async function problems(t: Ctx, text: string, name = 'hosts.ini', opts: LoadOptions = {}): Promise<Where[]> {
  const file = await write(t, text, name);
  const err = await loadInventory(file, opts).then(
    () => assert.fail('the inventory loaded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof InventoryError, String(err));
  for (const p of err.problems) assert.equal(p.file, file);
  return err.problems.map((p) => [p.line, p.column, p.field, p.message]);
}

export const byName = (c: Cluster) => Object.fromEntries(c.nodes.map((n) => [n.name, n]));
export const ROLE_LIST = ROLES.join(', ');
