// Packet framing and parsing on bytes built by hand: greetings with and without CLIENT_SSL, ERR
// packets, truncated and foreign bytes; and the SSLRequest packet, byte by byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLIENT_PLUGIN_AUTH,
  CLIENT_PROTOCOL_41,
  CLIENT_SECURE_CONNECTION,
  CLIENT_SSL,
  CLIENT_LONG_PASSWORD,
  MAX_FIRST_PACKET,
  offersTls,
  parseFirstPacket,
  scanGreeting,
  sslRequestPacket,
  type Greeting,
} from '../../lib/probe/mysql-handshake.js';
import { errPayload, frame, greetingPayload, MYSQL8_CAPABILITIES } from './fake-servers.js';

function complete(bytes: Buffer) {
  const scan = scanGreeting(bytes);
  assert.equal(scan.status, 'complete', JSON.stringify(scan));
  return (scan as Extract<typeof scan, { status: 'complete' }>).packet;
}

function invalid(bytes: Buffer): string {
  const scan = scanGreeting(bytes);
  assert.equal(scan.status, 'invalid', JSON.stringify(scan));
  return (scan as Extract<typeof scan, { status: 'invalid' }>).reason;
}

test('a MySQL 8.0 greeting: version, connection id, both halves of the capability flags, plugin; offers TLS', () => {
  const g = complete(frame(greetingPayload({ version: '8.0.36', connectionId: 0x01020304 }))) as Greeting;
  assert.equal(g.kind, 'greeting');
  assert.equal(g.serverVersion, '8.0.36');
  assert.equal(g.connectionId, 0x01020304);
  assert.equal(g.capabilities, MYSQL8_CAPABILITIES); // the upper half too, as an unsigned number
  assert.equal(g.characterSet, 255);
  assert.equal(g.statusFlags, 2);
  assert.equal(g.authPluginName, 'caching_sha2_password');
  assert.equal(offersTls(g), true);
});

test('a greeting without CLIENT_SSL does not offer TLS; MariaDB and TiDB versions come through as sent', () => {
  const noSsl = complete(frame(greetingPayload({ capabilities: MYSQL8_CAPABILITIES & ~CLIENT_SSL }))) as Greeting;
  assert.equal(offersTls(noSsl), false);
  for (const version of ['5.5.5-10.11.6-MariaDB-0+deb12u1', '8.0.11-TiDB-v7.5.0', '8.0.11 (ProxySQL)']) {
    assert.equal((complete(frame(greetingPayload({ version }))) as Greeting).serverVersion, version);
  }
});

test('a greeting is "incomplete" at every shorter prefix, and complete with trailing bytes after it', () => {
  const bytes = frame(greetingPayload());
  for (let n = 0; n < bytes.length; n++)
    assert.deepEqual(scanGreeting(bytes.subarray(0, n)), { status: 'incomplete' }, `prefix ${n}`);
  const scan = scanGreeting(Buffer.concat([bytes, Buffer.from([1, 2, 3])]));
  assert.equal(scan.status, 'complete');
  assert.equal((scan as { length: number }).length, bytes.length);
});

test('a pre-4.1 greeting that ends after the lower capability flags is accepted', () => {
  const full = greetingPayload({ version: '4.0.30', capabilities: CLIENT_SSL | CLIENT_LONG_PASSWORD });
  const short = full.subarray(0, 1 + '4.0.30'.length + 1 + 4 + 8 + 1 + 2);
  const g = complete(frame(short)) as Greeting;
  assert.equal(g.serverVersion, '4.0.30');
  assert.equal(g.capabilities, CLIENT_SSL | CLIENT_LONG_PASSWORD);
  assert.equal(g.characterSet, undefined);
});

test('ERR packets before the greeting: code and message, with or without an SQL state', () => {
  assert.deepEqual(complete(frame(errPayload(1040, 'Too many connections'))), {
    kind: 'error',
    code: 1040,
    message: 'Too many connections',
  });
  const blocked =
    "Host '10.0.0.9' is blocked because of many connection errors; unblock with 'mariadb-admin flush-hosts'";
  assert.deepEqual(complete(frame(errPayload(1129, blocked, 'HY000'))), {
    kind: 'error',
    code: 1129,
    sqlState: 'HY000',
    message: blocked,
  });
  assert.match(invalid(frame(Buffer.from([0xff, 0x10]))), /ERR packet is truncated/);
});

test('truncated and malformed greetings are "not MySQL", with the reason', () => {
  const g = greetingPayload({ version: '8.0.36' });
  const versionEnd = 1 + '8.0.36'.length + 1;
  // Framed consistently, but the payload stops early.
  assert.match(invalid(frame(g.subarray(0, 5))), /no end to the server version/);
  assert.match(invalid(frame(g.subarray(0, versionEnd + 6))), /truncated \(before the capability flags\)/);
  assert.match(invalid(frame(g.subarray(0, versionEnd + 15 + 4))), /truncated \(after the capability flags\)/);
  const badFiller = Buffer.from(g);
  badFiller[versionEnd + 12] = 7;
  assert.match(invalid(frame(badFiller)), /filler/);
  const binaryVersion = Buffer.from(g);
  binaryVersion[2] = 0x01;
  assert.match(invalid(frame(binaryVersion)), /not printable/);
  assert.match(invalid(frame(greetingPayload({ protocol: 9 }))), /protocol version 9/);
  assert.match(invalid(frame(Buffer.alloc(0))), /empty/);
  assert.equal(typeof parseFirstPacket(Buffer.from([10])), 'string');
});

test('foreign protocols are refused from their first bytes, without waiting for more', () => {
  // An SSH banner: "SSH" reads as a 4.7 MB packet, "-" as sequence id 45.
  assert.match(invalid(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n')), /sequence id 45/);
  // An SMTP / FTP greeting, an HTTP response, a TLS alert record: all refused at once.
  assert.equal(scanGreeting(Buffer.from('220 mail.example.com ESMTP\r\n')).status, 'invalid');
  assert.equal(scanGreeting(Buffer.from('HTTP/1.1 400 Bad Request\r\n')).status, 'invalid');
  assert.equal(scanGreeting(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])).status, 'invalid');
  // Sequence 0 but too long for a first packet.
  const huge = Buffer.from([0, 0, 0x10, 0, 10]);
  assert.match(invalid(huge), new RegExp(`claims ${0x100000} bytes`));
  assert.ok(0x100000 > MAX_FIRST_PACKET);
  // Right framing, wrong first byte: decided after 5 bytes.
  assert.match(invalid(Buffer.from([50, 0, 0, 0, 0x16])), /protocol version 22/);
});

test('SSLRequest: 32-byte payload, sequence id 1, CLIENT_SSL and PROTOCOL_41, max packet, charset, 23 zero bytes', () => {
  const p = sslRequestPacket(MYSQL8_CAPABILITIES);
  assert.equal(p.length, 36);
  assert.deepEqual([...p.subarray(0, 4)], [32, 0, 0, 1]);
  const flags = p.readUInt32LE(4);
  for (const bit of [
    CLIENT_SSL,
    CLIENT_PROTOCOL_41,
    CLIENT_SECURE_CONNECTION,
    CLIENT_LONG_PASSWORD,
    CLIENT_PLUGIN_AUTH,
  ]) {
    assert.ok(flags & bit, `flag 0x${bit.toString(16)} set`);
  }
  assert.equal(p.readUInt32LE(8), 0x01000000);
  assert.equal(p[12], 45);
  assert.deepEqual([...p.subarray(13)], new Array(23).fill(0));
  // Optional capabilities only if the server has them; the required ones always.
  const minimal = sslRequestPacket(CLIENT_SSL | CLIENT_PROTOCOL_41).readUInt32LE(4);
  assert.equal(minimal & CLIENT_PLUGIN_AUTH, 0);
  assert.equal(minimal, CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION);
  assert.equal(sslRequestPacket(MYSQL8_CAPABILITIES, 33)[12], 33);
});
