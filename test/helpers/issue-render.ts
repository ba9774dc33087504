// An inventory written as TEXT, issued and rendered for real by the dbtls bin: the render tests of
// products that cannot run here (Group Replication, the TiDB stack) read the files it leaves.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls } from './run.js';
import { tempDir } from './tmp.js';

export interface Rendered {
  /** The folder holding inventory.yml and pki/. */
  dir: string;
  /** pki/rendered: one folder per node and clients/. */
  out: string;
}

export async function issueAndRender(
  scope: Parameters<typeof tempDir>[0],
  prefix: string,
  text: string,
): Promise<Rendered> {
  const dir = await tempDir(scope, prefix);
  const inv = join(dir, 'inventory.yml');
  await writeFile(inv, text);
  for (const step of ['issue', 'render']) {
    const r = await dbtls([step, '-i', inv]);
    assert.equal(r.code, 0, `${step}: ${r.stderr}`);
  }
  return { dir, out: join(dir, 'pki', 'rendered') };
}
