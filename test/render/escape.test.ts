// Per-format escaping: what goes in comes back out of the format's real reader, or is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseToml } from 'smol-toml';
import {
  cnfValue,
  iniValue,
  jdbcParam,
  jsString,
  libconfigString,
  maxscaleValue,
  phpString,
  propertiesValue,
  routerValue,
  sqlString,
  tomlString,
} from '../../lib/render/escape.js';
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
  assert.throws(
    () => sqlString('a\u0000b'),
    (e: unknown) => isDbtlsError(e) && /NUL/.test(e.message),
  );
});

test('libconfig strings escape quotes and backslashes', () => {
  assert.equal(libconfigString('/var/lib/proxysql/a"b\\c'), '"/var/lib/proxysql/a\\"b\\\\c"');
});

test('INI values: one line, no comment characters, no edge spaces', () => {
  assert.equal(iniValue('/opt/continuent/share/x.jks'), '/opt/continuent/share/x.jks');
  for (const bad of ['a\nb', ' lead', 'trail ', 'a#b', 'a;b'])
    assert.throws(
      () => iniValue(bad),
      (e: unknown) => isDbtlsError(e) && e.exitCode === 2,
      bad,
    );
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

test('JS strings: U+2028/U+2029 are escaped (a line end to pre-ES2019 engines), and node reads every value back as is', async () => {
  const values = [TRICKY, 'a\u2028b\u2029c', '</script>', '/CN=it\'s "x"'];
  assert.equal(jsString('a\u2028b'), '"a\\u2028b"');
  const r = await run(process.execPath, [
    '-e',
    `process.stdout.write(JSON.stringify([${values.map(jsString).join(', ')}]))`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), values);
  for (const v of values) assert.doesNotMatch(jsString(v), /[\u2028\u2029\n\r]/);
});

test('PHP single-quoted literals read back exactly by the real php (quotes, backslashes, a trailing backslash)', async () => {
  const values = [TRICKY, "it's", 'ends with \\', '\\\\two', '$var {$x} \\n'];
  const code = `echo json_encode([${values.map(phpString).join(', ')}]);`;
  const r = await run('php', ['-r', code]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), values);
  assert.throws(
    () => phpString('a\u0000b'),
    (e: unknown) => isDbtlsError(e) && /NUL/.test(e.message),
  );
});

test('option-file values: what cnfValue writes my_print_defaults reads back as is; "\\" and a leading quote, which it would change, are refused', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'dbtls-cnf-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const kept = ['/etc/my ssl/ca.pem', 'a "quoted" = b é', "it's"];
  await writeFile(join(dir, 'x.cnf'), `[client]\n${kept.map((v, i) => `o${i}=${cnfValue(v)}`).join('\n')}\n`);
  const r = await run('my_print_defaults', [`--defaults-file=${join(dir, 'x.cnf')}`, 'client']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    r.stdout.trim().split('\n'),
    kept.map((v, i) => `--o${i}=${v}`),
  );
  // What the readers would have changed: the escape read as a tab, the quotes stripped.
  await writeFile(join(dir, 'y.cnf'), '[client]\na=C:\\temp\nb="quoted"\n');
  const changed = await run('my_print_defaults', [`--defaults-file=${join(dir, 'y.cnf')}`, 'client']);
  assert.deepEqual(changed.stdout.trim().split('\n'), ['--a=C:\temp', '--b=quoted']);
  for (const bad of ['C:\\temp', '"quoted"', "'x'", 'a\nb', 'a#b'])
    assert.throws(
      () => cnfValue(bad),
      (e: unknown) => isDbtlsError(e) && e.exitCode === 2,
      bad,
    );
});

/** What Python's configparser (strict, no interpolation, no inline comments: the rules MaxScale's and Router's readers share) reads from TEXT. */
async function configparser(text: string): Promise<Record<string, Record<string, string>>> {
  const py =
    'import configparser, json, sys\n' +
    'c = configparser.ConfigParser(strict=True, interpolation=None)\n' +
    'c.optionxform = str\n' +
    'c.read_string(sys.stdin.read())\n' +
    'print(json.dumps({s: dict(c.items(s, raw=True)) for s in c.sections()}))\n';
  const r = await run('python3', ['-c', py], { input: text });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, Record<string, string>>;
}

test('MaxScale values: "#" and ";" inside a value are kept (no inline comments in its inih build); line breaks, edge blanks and a leading "$" are refused', async () => {
  const kept = ['/etc/maxscale/ssl/ca#1;x.pem', 'db1.example.com', 'a = b: c', '/srv/a$b/key.pem'];
  const text = `[s]\n${kept.map((v, i) => `o${i}=${maxscaleValue(v)}`).join('\n')}\n`;
  assert.deepEqual(await configparser(text), { s: Object.fromEntries(kept.map((v, i) => [`o${i}`, v])) });
  // The line break MaxScale would read as a second line, a continuation in both readers:
  assert.deepEqual(await configparser('[s]\na=/x\n ssl=false\n'), { s: { a: '/x\nssl=false' } });
  for (const bad of ['/x\n ssl=false', '/x\rssl=false', ' /lead', '/trail ', '$HOME/key.pem', 'a\u0000b'])
    assert.throws(
      () => maxscaleValue(bad),
      (e: unknown) => isDbtlsError(e) && e.exitCode === 2 && /MaxScale/.test(e.message),
      JSON.stringify(bad),
    );
});

test('MySQL Router values: "#" and ";" kept; line breaks, edge blanks and "{…}" (Router\'s option interpolation) are refused', async () => {
  const kept = ['/etc/mysqlrouter/ssl/a#b;c.pem', 'x = y: z'];
  const text = `[DEFAULT]\n${kept.map((v, i) => `o${i}=${routerValue(v)}`).join('\n')}\n[s]\n`;
  assert.deepEqual(await configparser(text), { s: Object.fromEntries(kept.map((v, i) => [`o${i}`, v])) });
  for (const bad of ['/x\nserver_ssl_verify=DISABLED', ' /lead', '/trail ', '{datadir}/key.pem', '/a}b'])
    assert.throws(
      () => routerValue(bad),
      (e: unknown) => isDbtlsError(e) && e.exitCode === 2 && /MySQL Router/.test(e.message),
      JSON.stringify(bad),
    );
});
