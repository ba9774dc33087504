import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run } from '../helpers/run.js';
import { cliPath, repoRoot } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

test('--version prints the package version', async () => {
  const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
  const r = await dbtls(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `${version}\n`);
});

// help for every command and subcommand: test/cli/help.test.ts

test('an unknown command or option is a usage error: exit 2 with a message', async () => {
  const cmd = await dbtls(['frobnicate']);
  assert.equal(cmd.code, 2);
  assert.match(cmd.stderr, /unknown command 'frobnicate'/);
  const opt = await dbtls(['--frobnicate']);
  assert.equal(opt.code, 2);
  assert.match(opt.stderr, /unknown option '--frobnicate'/);
});

test('heavy modules are loaded only by the command that needs them', async (t) => {
  const dir = await tempDir(t);
  // Node puts CommonJS packages (all of ours) in Module._cache, even when imported from ESM.
  const probe = join(dir, 'probe.cjs');
  await writeFile(probe, `process.on('exit', () => { const seen = new Set(Object.keys(require('module')._cache).filter((k) => k.includes('node_modules')).map((k) => k.split('node_modules/').pop().split('/')[0])); process.stderr.write('LOADED ' + JSON.stringify([...seen].sort()) + '\\n'); });\n`);
  const loaded = async (args: string[]) => {
    const r = await run(process.execPath, ['--require', probe, cliPath, ...args]);
    return JSON.parse(/LOADED (.*)/.exec(r.stderr)![1]!) as string[];
  };
  assert.deepEqual(await loaded(['--version']), ['commander']);
  assert.deepEqual(await loaded(['setup', '--help']), ['commander']);
  const data = join(dir, 'data');
  await (await import('node:fs/promises')).mkdir(data);
  assert.deepEqual(await loaded(['setup', '-d', data, '--suffix', 'x']), ['commander', 'node-forge']);
});
