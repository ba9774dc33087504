// Files the user names for a store (PEM certificates and keys, --storepass-file) are read bounded:
// a device is refused at once instead of read without end, a pipe still carries a password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDbtlsError } from '../../lib/errors.js';
import { keyEntryFromFiles, trustedEntriesFromFiles } from '../../lib/keystore/from-files.js';
import { storepassFromSources } from '../../lib/keystore/passwords.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

// The timeouts only bound the old behaviour (reading /dev/zero until memory runs out): a failure, not a measurement.
test(
  'a certificate or CA file that is a device is an input error naming it, not read',
  { timeout: 60_000 },
  async (t) => {
    const dir = await tempDir(t);
    const pem = join(dir, 'x.pem');
    await writeFile(pem, 'not used\n');
    const refused = (file: string) => (e: unknown) =>
      isDbtlsError(e) && e.code === 'not-a-file' && e.message.includes(`${file} is a device`);
    await assert.rejects(keyEntryFromFiles({ cert: '/dev/zero', key: pem, chain: [] }), refused('/dev/zero'));
    await assert.rejects(trustedEntriesFromFiles(['/dev/zero']), refused('/dev/zero'));
  },
);

test('--storepass-file: a device is a usage error; a pipe carries the password', { timeout: 60_000 }, async (t) => {
  await assert.rejects(
    storepassFromSources({ file: '/dev/zero', env: {} }),
    (e: unknown) =>
      isDbtlsError(e) && e.kind === 'usage' && /storepass-file \/dev\/zero: \/dev\/zero is a device/.test(e.message),
  );
  const dir = await tempDir(t);
  const fifo = join(dir, 'pass.fifo');
  assert.equal((await run('mkfifo', [fifo])).code, 0);
  const writer = (async () => {
    const fh = await open(fifo, 'w'); // blocks (on a pool thread) until the reader opens it
    await fh.writeFile('from-a-pipe-123\n');
    await fh.close();
  })();
  assert.equal(await storepassFromSources({ file: fifo, env: {} }), 'from-a-pipe-123');
  await writer;
});
