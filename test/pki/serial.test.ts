import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { randomSerialHex, serialHexFromBytes, serialHexFromBigInt } from '../../lib/pki/serial.js';
import { generateRsaKey } from '../../lib/pki/keys.js';
import { issueCertificate } from '../../lib/pki/certificate.js';

test('leading zero bytes are dropped (a non-minimal INTEGER breaks OpenSSL 3)', () => {
  assert.equal(serialHexFromBytes(Buffer.from([0x00, 0x00, 0x12, 0x34])), '1234');
  assert.equal(serialHexFromBytes(Buffer.from([0x00, 0x7f])), '7f');
});

test('a first byte >= 0x80 gets a 00 in front so the serial stays positive', () => {
  assert.equal(serialHexFromBytes(Buffer.from([0x80])), '0080');
  assert.equal(serialHexFromBytes(Buffer.from([0x00, 0x00, 0xff, 0x01])), '00ff01');
  assert.equal(serialHexFromBigInt(0x80n), '0080');
  assert.equal(serialHexFromBigInt(1n), '01');
});

test('zero and negative serials are refused', () => {
  assert.throws(() => serialHexFromBytes(Buffer.from([0, 0])), RangeError);
  assert.throws(() => serialHexFromBytes(Buffer.alloc(0)), RangeError);
  assert.throws(() => serialHexFromBigInt(0n), RangeError);
  assert.throws(() => serialHexFromBigInt(-5n), RangeError);
});

test('random serials: 16 bytes, positive, minimal, at least 64 bits, and different', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const hex = randomSerialHex();
    assert.equal(hex.length, 32, hex);
    const first = parseInt(hex.slice(0, 2), 16);
    assert.ok(first >= 0x40 && first < 0x80, `first byte ${hex.slice(0, 2)}`);
    seen.add(hex);
  }
  assert.equal(seen.size, 2000);
});

test('edge-case serials survive a round trip through a real certificate parser', async () => {
  const key = await generateRsaKey();
  for (const serialHex of ['01', '7f', '0080', '00ff', '00ffffffffffffffffffffffffffffff', randomSerialHex()]) {
    const { pem } = issueCertificate({
      profile: 'ca',
      subject: { CN: 'serial test' },
      days: 1,
      subjectKey: key,
      serialHex,
    });
    const parsed = new X509Certificate(pem);
    assert.equal(parsed.serialNumber.toLowerCase(), serialHex.replace(/^00/, ''), serialHex);
  }
});
