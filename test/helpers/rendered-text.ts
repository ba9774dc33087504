// What every rendered file must look like as text, whatever its format: one final newline, no
// trailing blanks, no tabs or carriage returns (and, where a test asks, no run of blank lines).
import assert from 'node:assert/strict';

export function assertCleanText(text: string, file: string, opts: { noDoubleBlank?: boolean } = {}): void {
  assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'), `${file} ends with exactly one newline`);
  if (opts.noDoubleBlank) assert.doesNotMatch(text, /\n\n\n/, `${file} has no double blank lines`);
  text.split('\n').forEach((l, i) => assert.doesNotMatch(l, /[ \t]$/, `${file}:${i + 1} has trailing white space`));
  assert.doesNotMatch(text, /\r|\t/, `${file} has no tabs or carriage returns`);
}
