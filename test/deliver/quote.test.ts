// The quoting function against a real shell: whatever the argument, sh sees exactly it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shellCommand, shellQuote } from '../../lib/deliver/quote.js';
import { run } from '../helpers/run.js';

const HOSTILE = [
  'a b',
  "it's",
  '$(touch /tmp/dbtls-pwned)',
  '`id`',
  'x;rm -rf /',
  'new\nline',
  '"dq"',
  '\\back',
  '*',
  '~root',
  '-rf',
  '',
  '--',
  'é€',
  "'; echo '",
];

test('sh receives every hostile argument unchanged, and runs nothing from inside it', async () => {
  // printf prints each argument NUL-terminated: the shell's view of the argv.
  const line = shellCommand(['printf', '%s\\0', ...HOSTILE]);
  const r = await run('sh', ['-c', line]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\0').slice(0, -1), HOSTILE);
});

test('safe words stay readable; NUL is refused', () => {
  assert.equal(shellQuote('/etc/mysql/ssl/ca.pem'), '/etc/mysql/ssl/ca.pem');
  assert.equal(shellQuote("it's"), "'it'\\''s'");
  assert.throws(() => shellQuote('a\u0000b'), /NUL/);
});
