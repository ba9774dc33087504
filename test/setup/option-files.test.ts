// Option-file reader against real files, and against MariaDB's own my_print_defaults when present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  defaultOptionFiles,
  normaliseOptionName,
  parseOptionFile,
  readOptionGroups,
  type ReadOptionGroupsOptions,
} from '../../lib/setup/option-files.js';
import { DbtlsError } from '../../lib/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** Writes a file 0644 (MySQL ignores world-writable option files, so never rely on the umask). */
async function put(dir: string, rel: string, text: string): Promise<string> {
  const file = join(dir, rel);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text, { mode: 0o644 });
  await chmod(file, 0o644);
  return file;
}

/** Reads with nothing from the machine: no /etc, an empty home, an empty environment. */
function read(dir: string, opts: Partial<ReadOptionGroupsOptions> & { groups: string[] }) {
  return readOptionGroups({ searchPath: [], home: join(dir, 'home'), env: {}, ...opts });
}

function plain(values: Map<string, { value: string | null }>): Record<string, string | null> {
  return Object.fromEntries([...values].map(([k, v]) => [k, v.value]));
}

async function rejectsAt(p: Promise<unknown>, code: string, file: string, line?: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DbtlsError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.kind, 'input');
    assert.equal(e.location.file, file);
    assert.equal(e.location.line, line);
    return true;
  });
}

test('only the named groups are read, group names compared case-insensitively', async (t) => {
  const dir = await tempDir(t);
  const f = await put(
    dir,
    'my.cnf',
    [
      '[client]',
      'port=1',
      '[MySQLd]',
      'datadir=/a',
      '[mysql_ssl_rsa_setup]  ',
      'suffix=x',
      '[ mysqld]',
      'user=ignored', // MySQL keeps the leading blank: a different group
      '[mysqld] # trailing text after ] is ignored',
      'socket=/s',
    ].join('\n'),
  );
  const r = await read(dir, { groups: ['mysqld', 'mysql_ssl_rsa_setup'], defaultsFile: f });
  assert.deepEqual(plain(r.values), { datadir: '/a', suffix: 'x', socket: '/s' });
  assert.deepEqual(r.values.get('datadir'), { value: '/a', file: f, line: 4, group: 'MySQLd' });
  assert.deepEqual(r.filesRead, [f]);
});

test('later lines and later files win; file and line point at the winner', async (t) => {
  const dir = await tempDir(t);
  const a = await put(dir, 'etc/my.cnf', '[mysqld]\ndatadir=/one\nport=1\n[mysql_ssl_rsa_setup]\ndatadir=/two\n');
  const b = await put(dir, 'etc/mysql/my.cnf', '[mysqld]\nport=2\nport=3\n');
  const r = await read(dir, {
    groups: ['mysqld', 'mysql_ssl_rsa_setup'],
    searchPath: [a, join(dir, 'missing.cnf'), b],
  });
  assert.deepEqual(plain(r.values), { datadir: '/two', port: '3' });
  assert.deepEqual(r.values.get('datadir'), { value: '/two', file: a, line: 5, group: 'mysql_ssl_rsa_setup' });
  assert.deepEqual(r.values.get('port'), { value: '3', file: b, line: 3, group: 'mysqld' });
  assert.deepEqual(r.filesRead, [a, b]);
  assert.deepEqual(r.skipped, [], 'a missing default file is skipped silently');
});

test('- and _ are the same in names, loose- is dropped, case is kept', async (t) => {
  const dir = await tempDir(t);
  const f = await put(
    dir,
    'my.cnf',
    '[mysqld]\nssl-ca=/a\nssl_ca=/b\nloose-ssl-cert=/c\nloose_tls_version=TLSv1.3\nSSL-Key=/k\n',
  );
  const r = await read(dir, { groups: ['mysqld'], defaultsFile: f });
  assert.deepEqual(plain(r.values), { ssl_ca: '/b', ssl_cert: '/c', tls_version: 'TLSv1.3', SSL_Key: '/k' });
  assert.equal(normaliseOptionName('loose-skip-name-resolve'), 'skip_name_resolve');
});

test('values: trimming, quotes, escapes, comments', () => {
  const text = [
    '# comment',
    '   ; also a comment',
    '',
    '[g]',
    'a = spaced value   ',
    'b="x\\ny\\sz\\\\w\\qv"', // \n \s \\ are escapes; unknown \q keeps its backslash
    'c=p\\tq', // escapes apply without quotes too
    "d='a\"b'",
    'e="a\\"b"',
    "f='it\\'s' # comment",
    'g=x#y', // # starts a comment anywhere outside quotes
    'h="x#y" # z',
    'i=v ; not a comment',
    'j', // a flag: no value
    'k =', // empty value
    'l=""',
    'm="abc # still inside the open quote',
    "n='",
    'o=ends\\', // a trailing backslash stays
    'p="  inner  "  ',
    'q="a" c"', // outer quotes match: only they go
    'r=\\b\\r',
  ].join('\r\n'); // CRLF files read the same
  const got = Object.fromEntries(
    parseOptionFile(text, 'f.cnf').map((e) => (e.kind === 'option' ? [e.key, e.value] : [e.kind, e.path])),
  );
  assert.deepEqual(got, {
    a: 'spaced value',
    b: 'x\ny z\\w\\qv',
    c: 'p\tq',
    d: 'a"b',
    e: 'a"b',
    f: "it's",
    g: 'x',
    h: 'x#y',
    i: 'v ; not a comment',
    j: null,
    k: '',
    l: '',
    m: '"abc # still inside the open quote',
    n: "'",
    o: 'ends\\',
    p: '  inner  ',
    q: 'a" c',
    r: '\b\r',
  });
});

test('!include and !includedir: *.cnf only, sorted, each file opens its own group', async (t) => {
  const dir = await tempDir(t);
  const inc = await put(dir, 'inc.cnf', '[mysqld]\nport=10\n');
  const z = await put(dir, 'conf.d/z.cnf', '[mysqld]\nport=30\nlast=z\n');
  const a = await put(dir, 'conf.d/a.cnf', '[mysqld]\nport=20\nlast=a\n');
  await put(dir, 'conf.d/b.cnf.dpkg-old', '[mysqld]\nlast=dpkg\n');
  await put(dir, 'conf.d/README', 'not an option file\n');
  await mkdir(join(dir, 'conf.d/sub.cnf')); // a folder named *.cnf is passed over
  const main = await put(
    dir,
    'my.cnf',
    [
      '!include ' + join(dir, 'nothere.cnf'), // missing: ignored, as MySQL does
      '[client]',
      `!include ${inc}`,
      'port=1', // still [client] after the include
      `  !   includedir   ${join(dir, 'conf.d')}/  `,
      '!unknown directive is ignored',
    ].join('\n'),
  );
  const r = await read(dir, { groups: ['mysqld'], defaultsFile: main });
  assert.deepEqual(plain(r.values), { port: '30', last: 'z' });
  assert.deepEqual(r.filesRead, [main, inc, a, z]);
  assert.deepEqual(
    r.skipped.map((s) => s.file),
    [join(dir, 'nothere.cnf'), join(dir, 'conf.d/sub.cnf')],
  );
  const client = await read(dir, { groups: ['client'], defaultsFile: main });
  assert.deepEqual(plain(client.values), { port: '1' });
});

test('include cycles terminate, also through a symlink', async (t) => {
  const dir = await tempDir(t);
  const a = join(dir, 'a.cnf');
  const b = await put(dir, 'b.cnf', `[g]\nfrom_b=1\n!include ${a}\n`);
  await put(dir, 'a.cnf', `[g]\nfrom_a=1\n!include ${b}\n!include ${a}\n!include ${join(dir, 'link.cnf')}\n`);
  await symlink(a, join(dir, 'link.cnf'));
  const r = await read(dir, { groups: ['g'], defaultsFile: a });
  assert.deepEqual(plain(r.values), { from_a: '1', from_b: '1' });
  assert.deepEqual(r.filesRead, [a, b, join(dir, 'link.cnf'), b]);
  assert.equal(r.skipped.filter((s) => s.reason.startsWith('include cycle')).length, 5);
});

test('includes nest at most 10 deep, as in MySQL', async (t) => {
  const dir = await tempDir(t);
  for (let i = 0; i <= 12; i++) await put(dir, `c${i}.cnf`, `[g]\nv${i}=1\n!include ${join(dir, `c${i + 1}.cnf`)}\n`);
  const r = await read(dir, { groups: ['g'], defaultsFile: join(dir, 'c0.cnf') });
  assert.deepEqual([...r.values.keys()], ['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10']);
  assert.deepEqual(r.skipped, [{ file: join(dir, 'c10.cnf'), reason: 'line 3: !include deeper than 10 levels' }]);
});

test('default order: globals, MYSQL_HOME, --defaults-extra-file, ~/.my.cnf', async (t) => {
  const dir = await tempDir(t);
  const etc = await put(dir, 'etc/my.cnf', '[mysqld]\nfrom=etc\netc=1\n');
  const mh = await put(dir, 'mh/my.cnf', '[mysqld]\nfrom=mysql_home\nmh=1\n');
  const extra = await put(dir, 'extra.cnf', '[mysqld]\nfrom=extra\nextra=1\n');
  const user = await put(dir, 'home/.my.cnf', '[mysqld]\nfrom=user\n');
  const base = { groups: ['mysqld'], searchPath: [etc], env: { MYSQL_HOME: join(dir, 'mh') } };
  const r = await read(dir, { ...base, extraFile: extra });
  assert.deepEqual(r.filesRead, [etc, mh, extra, user]);
  assert.deepEqual(plain(r.values), { from: 'user', etc: '1', mh: '1', extra: '1' });
  assert.deepEqual(defaultOptionFiles({ ...base, extraFile: extra, home: join(dir, 'home') }), [etc, mh, extra, user]);
  // MARIADB_HOME is preferred; a folder listed twice is read once.
  assert.deepEqual(
    defaultOptionFiles({ searchPath: [etc], env: { MARIADB_HOME: join(dir, 'etc'), MYSQL_HOME: '/x' }, home: '/h' }),
    [etc, '/h/.my.cnf'],
  );
  assert.deepEqual(defaultOptionFiles({ env: {}, home: '/h' }), ['/etc/my.cnf', '/etc/mysql/my.cnf', '/h/.my.cnf']);

  const only = await read(dir, { ...base, defaultsFile: extra });
  assert.deepEqual(only.filesRead, [extra], '--defaults-file reads that file and nothing else');
  const none = await read(dir, { ...base, noDefaults: true, defaultsFile: extra });
  assert.deepEqual([none.filesRead, none.values.size], [[], 0], '--no-defaults reads nothing');
});

test('a missing --defaults-file or --defaults-extra-file is an error; ~/ is expanded', async (t) => {
  const dir = await tempDir(t);
  const missing = join(dir, 'nope.cnf');
  await rejectsAt(read(dir, { groups: ['mysqld'], defaultsFile: missing }), 'option-file-unreadable', missing);
  await rejectsAt(read(dir, { groups: ['mysqld'], extraFile: missing }), 'option-file-unreadable', missing);
  await rejectsAt(read(dir, { groups: ['mysqld'], defaultsFile: dir }), 'option-file-unreadable', dir);
  const f = await put(dir, 'home/conf/x.cnf', '[mysqld]\ndatadir=/d\n');
  const r = await read(dir, { groups: ['mysqld'], defaultsFile: '~/conf/x.cnf' });
  assert.deepEqual([r.filesRead, plain(r.values)], [[f], { datadir: '/d' }]);
});

test('world-writable option files are ignored, as MySQL does', async (t) => {
  const dir = await tempDir(t);
  const f = await put(dir, 'my.cnf', '[mysqld]\ndatadir=/evil\n');
  await chmod(f, 0o666);
  const r = await read(dir, { groups: ['mysqld'], searchPath: [f] });
  assert.equal(r.values.size, 0);
  assert.deepEqual(
    r.skipped.map((s) => s.file),
    [f],
  );
});

test('syntax errors name the file and the line', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string, string, number]> = [
    ['# c\n\ndatadir=/x\n[mysqld]\n', 'option-file-no-group', 3],
    ['[mysqld]\nport=1\n[mysqld\n', 'option-file-bad-group', 3],
    ['[mysqld]\n!include   \n', 'option-file-bad-directive', 2],
    ['[mysqld]\n!includedir\n', 'option-file-bad-directive', 2],
    ['[mysqld]\n = 1\n', 'option-file-no-name', 2],
    [`[mysqld]\n\n!includedir ${join(dir, 'no-such-dir')}\n`, 'option-file-bad-includedir', 3],
  ];
  for (const [i, [text, code, line]] of cases.entries()) {
    const f = await put(dir, `bad${i}.cnf`, text);
    await rejectsAt(read(dir, { groups: ['mysqld'], defaultsFile: f }), code, f, line);
  }
  // An error inside an included file names that file; an included file must open its own group.
  const inner = await put(dir, 'inner.cnf', '# no header\nport=1\n');
  const outer = await put(dir, 'outer.cnf', `[mysqld]\n!include ${inner}\n`);
  await rejectsAt(read(dir, { groups: ['mysqld'], defaultsFile: outer }), 'option-file-no-group', inner, 2);
  assert.match(
    (await read(dir, { groups: ['x'], defaultsFile: outer }).catch((e: DbtlsError) => e.describe())) as string,
    /inner\.cnf:2: option "port" comes before any \[group\] header/,
  );
});

// ---- Against the real tool -------------------------------------------------------------------

const myPrintDefaults = ['/usr/bin/my_print_defaults', '/usr/local/bin/my_print_defaults'].find((p) => existsSync(p));

/** my_print_defaults prints `--name=value` lines in reading order; the last one wins. */
async function realTool(args: string[]): Promise<Record<string, string | null>> {
  // execFile rejects on a non-zero exit, with stderr in the error.
  const { stdout } = await promisify(execFile)(myPrintDefaults!, args);
  const out: Record<string, string | null> = {};
  for (const l of stdout.split('\n').filter((l) => l.startsWith('--'))) {
    const eq = l.indexOf('=');
    out[normaliseOptionName(eq < 0 ? l.slice(2) : l.slice(2, eq))] = eq < 0 ? null : l.slice(eq + 1);
  }
  return out;
}

test(
  'same result as my_print_defaults for a config tree',
  { skip: !myPrintDefaults && 'my_print_defaults not installed' },
  async (t) => {
    const dir = await tempDir(t);
    await put(dir, 'conf.d/10-b.cnf', '[mysqld]\nport = 3307\nloose-ssl-ca = "/etc/ssl/my ca.pem"\n[client]\nport=1\n');
    await put(dir, 'conf.d/05-a.cnf', "[MYSQLD]\nport=3306\nsocket='/run/my # sock'  # comment\n");
    await put(dir, 'conf.d/ignored.conf', '[mysqld]\nport=9\n');
    await put(dir, 'inc.cnf', '[mysql_ssl_rsa_setup]\nsuffix=abc\nverbose\n[mysqld]\nssl_cert=x\\ty\\sz\\\\w\n');
    const main = await put(
      dir,
      'my.cnf',
      [
        '# main',
        '[mysqld]',
        'datadir = /var/lib/mysql-x   ',
        'ssl-key=/k#not-a-comment? it is',
        `!include ${join(dir, 'inc.cnf')}`,
        `!includedir ${join(dir, 'conf.d')}`,
        '[mysqld]',
        'datadir="/srv/data"',
        'skip-name-resolve',
        'key_with_quote="unbalanced',
      ].join('\n'),
    );
    const groups = ['mysql_ssl_rsa_setup', 'mysqld'];
    const ours = await read(dir, { groups, defaultsFile: main });
    const expected = await realTool([`--defaults-file=${main}`, ...groups]);
    assert.ok(Object.keys(expected).length >= 8, JSON.stringify(expected));
    assert.deepEqual(plain(ours.values), expected);
  },
);

test(
  'this machine: default search path gives what my_print_defaults mysqld gives',
  {
    skip: (!myPrintDefaults || !existsSync('/etc/mysql/my.cnf')) && 'no MySQL/MariaDB installation here',
  },
  async () => {
    const ours = await readOptionGroups({ groups: ['mysqld'] });
    const expected = await realTool(['mysqld']);
    assert.ok(ours.filesRead.includes('/etc/mysql/my.cnf'), ours.filesRead.join(', '));
    assert.deepEqual(plain(ours.values), expected);
    // Debian leaves datadir commented out (the server's compiled-in default is /var/lib/mysql);
    // whatever the machine says, we must agree with it.
    assert.equal(ours.values.get('datadir')?.value, expected['datadir']);
  },
);
