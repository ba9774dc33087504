// HOST[:PORT] parsing: names, IPv4, bracketed and bare IPv6, the default port, and usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTarget, parseTarget } from '../../lib/probe/target.js';
import { DbtlsError } from '../../lib/errors.js';

test('accepted forms, with 3306 as the default port', () => {
  assert.deepEqual(parseTarget('db1'), { host: 'db1', port: 3306 });
  assert.deepEqual(parseTarget('db1.example.com:3307'), { host: 'db1.example.com', port: 3307 });
  assert.deepEqual(parseTarget('10.0.0.5:6033'), { host: '10.0.0.5', port: 6033 });
  assert.deepEqual(parseTarget('[::1]:4000'), { host: '::1', port: 4000 });
  assert.deepEqual(parseTarget('[fe80::1]'), { host: 'fe80::1', port: 3306 });
  assert.deepEqual(parseTarget('::1'), { host: '::1', port: 3306 });
  assert.deepEqual(parseTarget('2001:db8::7'), { host: '2001:db8::7', port: 3306 });
  assert.deepEqual(parseTarget('mysql_primary-1'), { host: 'mysql_primary-1', port: 3306 });
  assert.deepEqual(parseTarget('db1', 4000), { host: 'db1', port: 4000 });
});

test('bad forms are usage errors (exit 2) that say what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /no host/],
    [':3306', /no host/],
    ['db1:', /port "" is not 1-65535/],
    ['db1:0', /port "0"/],
    ['db1:65536', /port "65536"/],
    ['db1:33o6', /port "33o6"/],
    ['[::1', /unbalanced brackets/],
    ['[db1]:3306', /IPv6 address/],
    ['db1:3306:1', /write \[ADDRESS\]:PORT/],
    ['db 1', /neither a name nor an IP/],
    ['-db1', /neither a name nor an IP/],
    ['db1/x', /neither a name nor an IP/],
  ];
  for (const [text, reason] of cases) {
    assert.throws(
      () => parseTarget(text),
      (e: unknown) => e instanceof DbtlsError && e.exitCode === 2 && e.code === 'bad-target' && reason.test(e.message),
      text,
    );
  }
});

test('formatTarget brackets IPv6 addresses', () => {
  assert.equal(formatTarget({ host: '::1', port: 3306 }), '[::1]:3306');
  assert.equal(formatTarget({ host: 'db1', port: 3306 }), 'db1:3306');
});
