// Per-format escaping: what goes in comes back out of the format's real reader, or is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseToml } from 'smol-toml';
import { iniValue, jdbcParam, jsString, libconfigString, phpString, propertiesValue, sqlString, tomlString } from '../../lib/render/escape.js';
import { run } from '../helpers/run.js';
import { isDbtlsError } from '../../lib/errors.js';

const TRICKY = 'a "quoted" \\ back\tslash\nnew line é';

test('TOML strings round-trip through a TOML parser', () => {
  const doc = parseToml(`v = ${tomlString(TRICKY)}\nc = ${tomlString('\u0001')}\n`);
  assert.equal(doc.v, TRICKY);
  assert.equal(doc.c, '\u0001');
});

test('SQL literals double quotes and escape backslashes and line breaks', () => {
  assert.equal(sqlString("it's"), "'it''s'");
  assert.equal(sqlString('a\\b'), "'a\\\\b'");
  assert.equal(sqlString('/C=DE/CN=app'), "'/C=DE/CN=app'");
  assert.equal(sqlString('x\ny'), "'x\\ny'");
  assert.throws(() => sqlString('a\u0000b'), (e: unknown) => isDbtlsError(e) && /NUL/.test(e.message));
});

test('libconfig strings escape quotes and backslashes', () => {
  assert.equal(libconfigString('/var/lib/proxysql/a"b\\c'), '"/var/lib/proxysql/a\\"b\\\\c"');
});

test('INI values: one line, no comment characters, no edge spaces', () => {
  assert.equal(iniValue('/opt/continuent/share/x.jks'), '/opt/continuent/share/x.jks');
  for (const bad of ['a\nb', ' lead', 'trail ', 'a#b', 'a;b']) assert.throws(() => iniValue(bad), (e: unknown) => isDbtlsError(e) && e.exitCode === 2, bad);
});

test('Java properties values escape the separators', () => {
  assert.equal(propertiesValue('file:/a b=c#d'), 'file\\:/a\\ b\\=c\\#d');
  assert.equal(propertiesValue('x\ny'), 'x\\ny');
});

test('JDBC parameters refuse what Connector/J cannot carry; JS strings are JSON', () => {
  assert.equal(jdbcParam('Abc123-_.'), 'Abc123-_.');
  for (const bad of ['a&b', 'a=b', 'a b', 'a%41']) assert.throws(() => jdbcParam(bad), /Connector\/J splits/);
  assert.equal(jsString('a"b'), '"a\\"b"');
});

test('PHP single-quoted literals read back exactly by the real php (quotes, backslashes, a trailing backslash)', async () => {
  const values = [TRICKY, "it's", 'ends with \\', '\\\\two', '$var {$x} \\n'];
  const code = `echo json_encode([${values.map(phpString).join(', ')}]);`;
  const r = await run('php', ['-r', code]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), values);
  assert.throws(() => phpString('a\u0000b'), (e: unknown) => isDbtlsError(e) && /NUL/.test(e.message));
});
