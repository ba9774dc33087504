// systemdQuote and friends: exact output for the rules of systemd.syntax(7), round trips through an
// independent unquoter, refusals, and systemd-analyze verify on a unit full of awkward arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemdCommandLine, systemdQuote, systemdValue } from '../../lib/schedule/systemd-quote.js';
import { parseAt, systemdTimespan, formatAt } from '../../lib/schedule/clock.js';
import { cronCommandField } from '../../lib/schedule/cron.js';
import { isDbtlsError } from '../../lib/errors.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';
import { which } from '../helpers/which.js';
import { cronSplit, systemdUnquote } from './fixtures.js';

const AWKWARD = [
  'plain',
  '',
  'a b',
  "it's",
  'say "hi"',
  'back\\slash',
  'trailing\\',
  '100%',
  '%n%%',
  '$HOME',
  '${HOME}',
  '$$',
  ';',
  '\\;',
  'line\nbreak',
  'tab\there',
  'bell\u0007',
  'ünïcødé ✓',
  '--flag=x y',
  '\'"$%\\;',
];

test('systemdQuote: double quotes, \\ and " escaped, % and $ doubled, control characters as C escapes', () => {
  assert.equal(systemdQuote('plain'), '"plain"');
  assert.equal(systemdQuote(''), '""');
  assert.equal(systemdQuote('a b'), '"a b"');
  assert.equal(systemdQuote('say "hi"'), '"say \\"hi\\""');
  assert.equal(systemdQuote('back\\slash'), '"back\\\\slash"');
  assert.equal(systemdQuote('100%'), '"100%%"');
  assert.equal(systemdQuote('$HOME'), '"$$HOME"');
  assert.equal(systemdQuote("it's"), '"it\'s"');
  assert.equal(systemdQuote('line\nbreak'), '"line\\nbreak"');
  assert.equal(systemdQuote('bell\u0007'), '"bell\\x07"');
  assert.throws(
    () => systemdQuote('nul\u0000'),
    (e) => isDbtlsError(e) && e.code === 'systemd-nul',
  );
});

test("every awkward argument comes back unchanged through systemd's unquoting rules", () => {
  const line = systemdCommandLine(['/usr/bin/flock', ...AWKWARD]);
  assert.ok(!line.includes('\n'), 'one line');
  assert.deepEqual(systemdUnquote(line), ['/usr/bin/flock', ...AWKWARD]);
  for (const a of AWKWARD) assert.deepEqual(systemdUnquote(systemdQuote(a)), [a], JSON.stringify(a));
});

test('the executable must be an absolute path systemd accepts', () => {
  for (const exe of ['flock', "/opt/it's/flock", '/opt/a"b', '/opt/a\\b', '/opt/a\nb']) {
    assert.throws(
      () => systemdCommandLine([exe, 'x']),
      (e) => isDbtlsError(e) && e.code === 'systemd-executable' && e.exitCode === 2,
      exe,
    );
  }
  assert.throws(() => systemdCommandLine([]), RangeError);
  assert.equal(systemdCommandLine(['/opt/dir with space/flock']), '"/opt/dir with space/flock"');
});

test('systemdValue: % doubled; blanks at the ends, a trailing backslash and line breaks refused', () => {
  assert.equal(systemdValue("/srv/it's 100% here", 'WorkingDirectory'), "/srv/it's 100%% here");
  assert.equal(systemdValue('/srv/$HOME', 'WorkingDirectory'), '/srv/$HOME', '$ is not expanded in paths');
  for (const bad of [' /lead', '/trail ', '/ends\\', '/a\nb', '/a\rb']) {
    assert.throws(
      () => systemdValue(bad, 'WorkingDirectory'),
      (e) => isDbtlsError(e) && e.exitCode === 2 && /WorkingDirectory=/.test(e.message),
      JSON.stringify(bad),
    );
  }
});

test('systemd-analyze verify accepts a unit whose ExecStart= holds every awkward argument', async (t) => {
  const analyze = await which('systemd-analyze');
  if (!analyze) return t.skip('systemd-analyze not installed');
  const dir = await tempDir(t);
  const file = join(dir, 'awkward.service');
  const cwd = "/srv/it's 100% $HOME";
  await writeFile(
    file,
    `[Unit]\nDescription=${systemdValue('100% awkward', 'Description')}\n[Service]\nType=oneshot\nWorkingDirectory=${systemdValue(cwd, 'WorkingDirectory')}\nExecStart=${systemdCommandLine(['/bin/true', ...AWKWARD])}\n`,
  );
  const r = await run(analyze, ['verify', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.trim(), '');
});

test('cron command field: % escaped so cron hands the shell the original; line breaks and \\% refused', () => {
  const command = `echo "$(date +%Y-%m-%d)" '100%' '\\\\'`;
  const field = cronCommandField(command);
  const back = cronSplit(`0 0 * * * ${field}`);
  assert.equal(back.command, command);
  assert.equal(back.stdin, undefined);
  assert.throws(
    () => cronCommandField('echo a\nb'),
    (e) => isDbtlsError(e) && e.exitCode === 2,
  );
  assert.throws(
    () => cronCommandField("echo 'a\\%b'"),
    (e) => isDbtlsError(e) && e.code === 'cron-backslash-percent',
  );
});

test('--at and time spans', () => {
  assert.deepEqual(parseAt('03:17'), { hour: 3, minute: 17 });
  assert.deepEqual(parseAt('0:05'), { hour: 0, minute: 5 });
  assert.deepEqual(parseAt('23:59'), { hour: 23, minute: 59 });
  assert.equal(formatAt(parseAt('4:41')), '04:41');
  for (const bad of ['24:00', '12:60', '3', '3pm', '03:5', '-1:00', '', '03:17:00', 'aa:bb']) {
    assert.throws(
      () => parseAt(bad),
      (e) => isDbtlsError(e) && e.code === 'bad-at' && e.exitCode === 2,
      bad,
    );
  }
  assert.equal(systemdTimespan(15 * 60_000), '15min');
  assert.equal(systemdTimespan(3_600_000), '1h');
  assert.equal(systemdTimespan(2 * 86_400_000), '2d');
  assert.equal(systemdTimespan(90_000), '90s');
  assert.equal(systemdTimespan(0), '0');
});
