import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sanitizeForTerminal } from '../../lib/text/sanitize.js';

test('sanitizeForTerminal removes ANSI escapes, control characters and newlines', () => {
  const hostile = 'Access denied\u001b[2J\u001b[31mfake\u001b]0;title\u0007\r\nline two\u0000\u009b';
  const out = sanitizeForTerminal(hostile);
  assert.equal(out, 'Access deniedfake line two??');
  assert.doesNotMatch(out, /[\u0000-\u001f\u007f-\u009f]/);
});

test('sanitizeForTerminal bounds the length and says how long the original was', () => {
  const out = sanitizeForTerminal('x'.repeat(100_000), 80);
  assert.ok(out.length < 120, out);
  assert.match(out, /… \(100000 characters in all\)$/);
});

test('sanitizeForTerminal keeps ordinary text as it is', () => {
  assert.equal(
    sanitizeForTerminal("ERROR 1045 (28000): Access denied for user 'app'@'127.0.0.1'"),
    "ERROR 1045 (28000): Access denied for user 'app'@'127.0.0.1'",
  );
});
