// `dbtls inspect` reads only regular files, and at most 64 MiB of one: a device (/dev/zero read
// 24 GB in 20 minutes), a FIFO (blocked for ever without a writer), a directory or an oversized
// file is refused at once, exit 2, naming it — and the other files are still described. A symlink
// given on the command line is followed: the user chose that path, as `openssl x509 -in` would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, open, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dbtls, run, type RunResult } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { fileScope } from '../helpers/scope.js';
import { generateRsaKey } from '../../lib/pki/keys.js';
import { issueCertificate } from '../../lib/pki/certificate.js';

const scope = fileScope();
const dir = await tempDir(scope, 'dbtls-inspect-bounds-');
const cert = join(dir, 'ca.pem');
await writeFile(
  cert,
  issueCertificate({ profile: 'ca', subject: { CN: 'Bounds CA' }, days: 2, subjectKey: await generateRsaKey() }).pem,
);

/** inspect ARGS, killed after 20 s if it does not finish (the old code never did on /dev/zero). */
const inspect = (args: string[]): Promise<RunResult> => dbtls(['inspect', ...args], { timeoutMs: 20_000 });

function assertRefused(r: RunResult, file: string, what: RegExp): void {
  assert.equal(r.signal, null, `killed: it did not finish (${file})`);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`^dbtls: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} ${what.source}`, 'm'));
}

test('/dev/zero is refused at once as a device, exit 2', async () => {
  assertRefused(await inspect(['/dev/zero']), '/dev/zero', /is a device, not a regular file$/);
});

test('a FIFO with no writer is refused, not waited on', async () => {
  const fifo = join(dir, 'fifo.pem');
  const mk = await run('mkfifo', [fifo]);
  assert.equal(mk.code, 0, mk.stderr);
  assertRefused(await inspect([fifo]), fifo, /is a FIFO, not a regular file$/);
});

test('a directory and a missing file: exit 2 naming each', async () => {
  const sub = join(dir, 'sub');
  await mkdir(sub);
  assertRefused(await inspect([sub]), sub, /is a directory, not a regular file$/);
  const none = join(dir, 'none.pem');
  const r = await inspect([none]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.split('\n')[0], `dbtls: ${none}: no such file`);
});

test('a file over 64 MiB is refused without being read', async () => {
  const big = join(dir, 'big.pem');
  const fh = await open(big, 'w');
  await fh.truncate(65 * 1024 * 1024); // sparse: no disk used
  await fh.close();
  assertRefused(await inspect([big]), big, /is 68157440 bytes, more than the 67108864 dbtls reads$/);
});

test('a symlink named on the command line is followed; the good files are still described beside a refused one', async () => {
  const link = join(dir, 'link.pem');
  await symlink(cert, link);
  const ok = await inspect([link]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /subject +CN=Bounds CA/);

  const mixed = await inspect([cert, '/dev/zero', '--json']);
  assert.equal(mixed.code, 2);
  const entries = JSON.parse(mixed.stdout) as Array<{ file: string; ok: boolean; error?: { code: string } }>;
  assert.deepEqual(
    entries.map((e) => [e.file, e.ok, e.error?.code]),
    [
      [cert, true, undefined],
      ['/dev/zero', false, 'not-a-file'],
    ],
  );
});

test('--ca and --key on a device are refused too, before anything is read', async () => {
  for (const flag of ['--ca', '--key']) {
    const r = await inspect([cert, flag, '/dev/zero']);
    assert.equal(r.signal, null);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.split('\n')[0], `dbtls: ${flag} /dev/zero: is a device, not a regular file`);
  }
});

test('keystore list reads its store the same way: /dev/zero and a FIFO refused at once, exit 2', async () => {
  assertRefused(
    await dbtls(['keystore', 'list', '/dev/zero'], { timeoutMs: 20_000 }),
    '/dev/zero',
    /is a device, not a regular file$/,
  );
  const fifo = join(dir, 'store.fifo');
  assert.equal((await run('mkfifo', [fifo])).code, 0);
  assertRefused(await dbtls(['keystore', 'list', fifo], { timeoutMs: 20_000 }), fifo, /is a FIFO, not a regular file$/);
});
