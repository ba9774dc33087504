import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSan, parseSans, isDnsName, sanProblem } from '../../lib/pki/san.js';

test('SANs: DNS names, IPv4, IPv6 (bracketed or not), explicit prefixes', () => {
  assert.deepEqual(parseSan('DB1.Example.com.'), { type: 'dns', value: 'db1.example.com' });
  assert.deepEqual(parseSan('10.0.0.11'), { type: 'ip', value: '10.0.0.11' });
  assert.deepEqual(parseSan('[::1]'), { type: 'ip', value: '::1' });
  assert.deepEqual(parseSan('IP:fe80::1'), { type: 'ip', value: 'fe80::1' });
  assert.deepEqual(parseSan('dns:localhost'), { type: 'dns', value: 'localhost' });
  assert.deepEqual(parseSan('*.db.example.com'), { type: 'dns', value: '*.db.example.com' });
});

test('SANs: bad input is refused', () => {
  for (const bad of [
    '',
    'db_1',
    '-db',
    'db-',
    'a..b',
    'has space',
    '10.0.0.300',
    'IP:db1',
    'x'.repeat(64) + '.com',
    'a.*.b',
    '1.2.3',
    'db1;rm -rf /',
    'db1\nx',
  ]) {
    assert.equal(parseSan(bad), null, JSON.stringify(bad));
  }
  assert.equal(isDnsName('a'.repeat(63) + '.com'), true);
});

test('parseSans de-duplicates and collects the invalid ones', () => {
  const r = parseSans(['localhost', 'LOCALHOST', '127.0.0.1', 'bad name', '127.0.0.1']);
  assert.deepEqual(
    r.sans.map((s) => s.value),
    ['localhost', '127.0.0.1'],
  );
  assert.deepEqual(r.invalid, ['bad name']);
});

test('an IPv6 address with a zone is no SAN (an IP SAN has no room for it), and sanProblem says why', () => {
  for (const zoned of ['fe80::1%eth0', '[fe80::1%eth0]', 'IP:fe80::1%25eth0', 'fe80::1%1'])
    assert.equal(parseSan(zoned), null, zoned);
  assert.deepEqual(parseSans(['fe80::1%eth0', 'fe80::1']), {
    sans: [{ type: 'ip', value: 'fe80::1' }],
    invalid: ['fe80::1%eth0'],
  });
  assert.match(
    sanProblem('fe80::1%eth0')!,
    /^an IPv6 address with a zone \(%eth0\): .*give the address without it \(fe80::1\)$/,
  );
  assert.equal(sanProblem('db_1'), 'not a DNS name or an IP address');
  assert.equal(sanProblem('fe80::1'), undefined);
  // A hostile zone is cut and escaped, so the error stays one short line.
  assert.ok(sanProblem(`fe80::1%${'x'.repeat(1000)}\n`)!.length < 200);
});
