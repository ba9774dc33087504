// `dbtls … | head`: the reader goes away early. dbtls must not crash with an EPIPE stack trace; it
// finishes and exits with its own status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cliPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { writeInventory } from '../helpers/inventory.js';

test("a closed stdout (| head) is not a crash: the exit status is the command's own, stderr has no EPIPE", async (t) => {
  // 300 nodes: `issue --check --json` prints far more than a pipe holds (64 KiB), without making keys.
  const dir = await tempDir(t);
  const nodes = Array.from({ length: 300 }, (_, i) => ({
    name: `db${i + 1}`,
    host: `10.2.${Math.floor(i / 200)}.${(i % 200) + 1}`,
    roles: ['mysql'],
  }));
  const inv = await writeInventory(dir, { nodes });
  const child = spawn(process.execPath, [cliPath, 'issue', '-i', inv, '--check', '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let first = 0;
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // Read one chunk, then close our end, as `head -1` does.
  child.stdout.once('data', (d: Buffer) => {
    first = d.length;
    child.stdout.destroy();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.ok(first > 0);
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Error/);
});
