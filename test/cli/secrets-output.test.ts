// The CA passphrase and the store password, given through the environment or a file, appear in no
// output of a whole run — issue, render, apply, check, with and without --json — nor in the errors a
// wrong one causes. (They are written only where they belong: the rendered Java configs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, type RunResult } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/scope.js';
import { writeInventory } from '../helpers/inventory.js';

const scope = fileScope();
const CA_PASS = 'ca-Passphrase-7f3e9a1c';
const STOREPASS = 'store-Pass-52b8d0e4';
const OTHER = 'wrong-Passphrase-0c9d';

function assertNoSecret(r: RunResult, label: string): void {
  for (const s of [CA_PASS, STOREPASS, OTHER]) {
    assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `${label}: a secret in the output`);
  }
}

test("no secret in the output of issue, render, apply, check (text and --json), nor in a wrong passphrase's error", async () => {
  const dir = await tempDir(scope, 'dbtls-secrets-out-');
  const inv = await writeInventory(dir, {
    nodes: [
      { name: 'db1', host: 'db1.example.com' },
      { name: 't1', host: 't1.example.com', roles: ['tungsten'] },
    ],
    clients: [{ name: 'app', keystore: 'pkcs12' }],
  });
  const env = { ...process.env, DBTLS_CA_PASSPHRASE: CA_PASS, DBTLS_STOREPASS: STOREPASS, DBTLS_DEBUG: '1' };
  const passFile = join(dir, 'pass');
  await writeFile(passFile, `${OTHER}\n`, { mode: 0o600 });
  const runs: Array<[string[], number[]]> = [
    [['issue', '-i', inv], [0]],
    [['issue', '-i', inv, '--json', '--force'], [0]],
    [['render', '-i', inv, '--json'], [0]],
    [['apply', '-i', inv, '--local-root', join(dir, 'nodes')], [0]],
    [['apply', '-i', inv, '--local-root', join(dir, 'nodes'), '--json'], [0]],
    [['check', '-i', inv], [0]],
    [['check', '-i', inv, '--json'], [0]],
    // The wrong CA passphrase, from a file: refused without echoing either one.
    [['issue', '-i', inv, '--force', '--ca-passphrase-file', passFile, '--json'], [2]],
  ];
  for (const [args, codes] of runs) {
    const r = await dbtls(args, { env, timeoutMs: 120_000 });
    const label = args.join(' ');
    assert.ok(codes.includes(r.code ?? -1), `${label}: exit ${r.code}\n${r.stderr}`);
    assertNoSecret(r, label);
  }
});
