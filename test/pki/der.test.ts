// pki/der.ts, the one DER layer: the writer's bytes are compared with what OpenSSL's own ASN.1
// generator (`openssl asn1parse -genconf`) encodes for the same structure, and the reader reads
// back what the writer wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  bmpString,
  children,
  encodeLength,
  explicit,
  implicit,
  integer,
  nullValue,
  octetString,
  oid,
  readOid,
  readSmallInteger,
  readTlv,
  sequence,
  set,
  TAG,
  valueOf,
} from '../../lib/pki/der.js';
import { run } from '../helpers/run.js';
import { tempDir } from '../helpers/tmp.js';

/** What OpenSSL encodes for an ASN1_generate_nconf configuration (top-level item `asn1`). */
async function opensslEncode(dir: string, name: string, conf: string): Promise<Buffer> {
  const cnf = join(dir, `${name}.cnf`);
  const out = join(dir, `${name}.der`);
  await writeFile(cnf, conf);
  const r = await run('openssl', ['asn1parse', '-genconf', cnf, '-out', out, '-noout']);
  assert.equal(r.code, 0, r.stderr);
  return readFile(out);
}

test('the writer encodes as OpenSSL does: PBEParameter, an AlgorithmIdentifier with NULL, tagged and BMP values, long lengths', async (t) => {
  const dir = await tempDir(t);
  const salt = Buffer.from('0102030405060708', 'hex');
  const long300 = Buffer.alloc(300, 0xab);
  const long200 = Buffer.alloc(200, 0xcd);
  const cases: { name: string; ours: Buffer; conf: string }[] = [
    {
      // JCEKS's PBEParameter: SEQUENCE { OCTET STRING salt, INTEGER 200000 }
      name: 'pbe',
      ours: sequence(octetString(salt), integer(200_000)),
      conf: 'asn1=SEQUENCE:seq\n[seq]\nsalt=FORMAT:HEX,OCTETSTRING:0102030405060708\niter=INTEGER:200000\n',
    },
    {
      // JKS's EncryptedPrivateKeyInfo: { { Sun KeyProtector OID, NULL }, OCTET STRING } with a 300-byte blob (82 01 2C)
      name: 'epki',
      ours: sequence(sequence(oid('1.3.6.1.4.1.42.2.17.1.1'), nullValue()), octetString(long300)),
      conf: `asn1=SEQUENCE:seq\n[seq]\nalg=SEQUENCE:alg\ndata=FORMAT:HEX,OCTETSTRING:${long300.toString('hex')}\n[alg]\noid=OID:1.3.6.1.4.1.42.2.17.1.1\nparams=NULL\n`,
    },
    {
      // PKCS#12 pieces: a bag attribute SET with a BMPString, [0] EXPLICIT, [0] IMPLICIT, a 200-byte value (81 C8)
      name: 'tagged',
      ours: sequence(
        sequence(oid('1.2.840.113549.1.9.20'), set(bmpString('server'))),
        explicit(0, octetString(salt)),
        implicit(0, long200),
        oid('2.16.840.1.113894.746875.1.1'),
        oid('2.999.3'),
      ),
      conf: [
        'asn1=SEQUENCE:seq',
        '[seq]',
        'attr=SEQUENCE:attr',
        'exp=EXPLICIT:0,FORMAT:HEX,OCTETSTRING:0102030405060708',
        `imp=IMPLICIT:0,FORMAT:HEX,OCTETSTRING:${long200.toString('hex')}`,
        'oracle=OID:2.16.840.1.113894.746875.1.1',
        'big=OID:2.999.3',
        '[attr]',
        'type=OID:1.2.840.113549.1.9.20',
        'values=SET:values',
        '[values]',
        'v=BMPSTRING:server',
        '',
      ].join('\n'),
    },
    {
      // INTEGER edges: zero, the sign bit (00 80, FF 7F…), negatives, a value beyond 2^53
      name: 'integers',
      ours: sequence(
        ...[0, 127, 128, 255, 256, -1, -128, -129, 10_000].map((n) => integer(n)),
        integer(2n ** 64n + 1n),
      ),
      conf: `asn1=SEQUENCE:seq\n[seq]\n${[0, 127, 128, 255, 256, -1, -128, -129, 10000].map((n, i) => `i${i}=INTEGER:${n}`).join('\n')}\nbig=INTEGER:0x010000000000000001\n`,
    },
  ];
  for (const c of cases) {
    const theirs = await opensslEncode(dir, c.name, c.conf);
    assert.equal(c.ours.toString('hex'), theirs.toString('hex'), c.name);
  }
});

test('the reader reads back what the writer wrote: tags, nesting, OIDs, integers, octet strings', () => {
  const oids = [
    '1.2.840.113549.1.12.10.1.2',
    '2.5.29.37.0',
    '0.9.2342.19200300.100.1.25',
    '2.999.3',
    '1.3.6.1.4.1.42.2.19.1',
    '2.16.840.1.113894.746875.1.1',
  ];
  const blob = Buffer.alloc(70_000, 7); // a three-byte length (83 01 11 70)
  const der = sequence(...oids.map(oid), integer(200_000), integer(0), octetString(blob), explicit(3, nullValue()));
  const outer = readTlv(der, 0);
  assert.equal(outer.tag, TAG.SEQUENCE);
  assert.equal(outer.end, der.length);
  const kids = children(der, outer);
  assert.deepEqual(
    kids.slice(0, oids.length).map((k) => readOid(der, k)),
    oids,
  );
  const [i1, i0, os, ctx] = kids.slice(oids.length);
  assert.equal(readSmallInteger(der, i1!), 200_000);
  assert.equal(readSmallInteger(der, i0!), 0);
  assert.ok(valueOf(der, os!).equals(blob));
  assert.equal(ctx!.tag, 0xa3);
  assert.deepEqual(
    children(der, ctx!).map((k) => [k.tag, k.end - k.start]),
    [[TAG.NULL, 0]],
  );
});

test('the reader refuses what is not DER it can trust: a child running past its parent, truncated lengths, the wrong tag', () => {
  // SEQUENCE of 3 bytes whose OCTET STRING claims 5: the bytes exist after the parent, but are not its own.
  const overrun = Buffer.from('300304050102030405', 'hex');
  assert.throws(() => children(overrun, readTlv(overrun, 0)), /runs past/);
  assert.throws(() => readTlv(Buffer.from('3082', 'hex'), 0), /truncated/);
  assert.throws(() => readTlv(Buffer.from('30820100', 'hex'), 0), /truncated/);
  assert.throws(() => readTlv(Buffer.from('30', 'hex'), 0), /truncated/);
  assert.throws(() => readOid(Buffer.from('0400', 'hex'), readTlv(Buffer.from('0400', 'hex'), 0)), /expected tag 0x6/);
  const neg = integer(-5);
  assert.throws(() => readSmallInteger(neg, readTlv(neg, 0)), /non-negative/);
});

test('the writer refuses what it cannot encode rightly instead of writing wrong bytes', () => {
  assert.throws(() => oid('1.40'), RangeError); // the second arc of 0.x and 1.x is below 40
  assert.throws(() => oid('3.1'), RangeError);
  assert.throws(() => oid('1.2.'), RangeError);
  assert.throws(() => integer(1.5), RangeError);
  assert.throws(() => integer(2 ** 60), RangeError); // not exact as a number: pass a bigint
  assert.throws(() => explicit(31, nullValue()), RangeError);
  assert.throws(() => encodeLength(-1), RangeError);
  assert.deepEqual(
    [...encodeLength(127), ...encodeLength(128), ...encodeLength(256)],
    [0x7f, 0x81, 0x80, 0x82, 0x01, 0x00],
  );
});
