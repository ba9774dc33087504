// The one DER layer: a reader that walks TLVs in place (no copies, no object tree) and a writer
// that builds them from Buffers. Enough ASN.1 for certificates, CSRs, PKCS#8/#12 and the Java
// keystores, without a full ASN.1 library. Single-byte tags only (every structure dbtls touches).

// ---- reading ----------------------------------------------------------------------------------

export interface Tlv {
  tag: number;
  /** Offset of the value within the buffer. */
  start: number;
  /** Offset just past the value. */
  end: number;
}

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export function readTlv(buf: Uint8Array, offset: number): Tlv {
  const tag = buf[offset];
  let len = buf[offset + 1];
  let start = offset + 2;
  if (tag === undefined || len === undefined) throw new Error('DER: truncated');
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('DER: unsupported length');
    if (start + n > buf.length) throw new Error('DER: truncated');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > buf.length) throw new Error('DER: truncated');
  return { tag, start, end };
}

/** The TLVs directly inside a constructed value; a child that runs past its parent is refused. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = parent.start; off < parent.end;) {
    const t = readTlv(buf, off);
    if (t.end > parent.end) throw new Error('DER: a value runs past its enclosing one');
    out.push(t);
    off = t.end;
  }
  return out;
}

/** The TLV, checked to carry `tag`. */
export function expectTag(t: Tlv | undefined, tag: number): Tlv {
  if (!t || t.tag !== tag) throw new Error(`DER: expected tag 0x${tag.toString(16)}`);
  return t;
}

/** The value bytes of a TLV (a view, not a copy). */
export function valueOf(buf: Buffer, t: Tlv): Buffer {
  return buf.subarray(t.start, t.end);
}

/** An OBJECT IDENTIFIER in dotted form. */
export function readOid(buf: Buffer, t: Tlv): string {
  const arcs: number[] = [];
  let n = 0;
  for (const byte of valueOf(buf, expectTag(t, TAG.OID))) {
    n = n * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(n);
      n = 0;
    }
  }
  const first = arcs.shift() ?? 0;
  return [...(first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80]), ...arcs].join('.');
}

/** A non-negative INTEGER that fits a JS number exactly (iteration counts, versions). */
export function readSmallInteger(buf: Buffer, t: Tlv): number {
  const v = valueOf(buf, expectTag(t, TAG.INTEGER));
  if (v.length === 0 || v[0]! & 0x80) throw new Error('DER: expected a non-negative INTEGER');
  const n = v.reduce((acc, b) => acc * 256 + b, 0);
  if (!Number.isSafeInteger(n)) throw new Error('DER: INTEGER too large');
  return n;
}

// ---- writing ----------------------------------------------------------------------------------

/** The length octets: short form below 128, else 0x80|n and n big-endian bytes. */
export function encodeLength(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`DER: bad length ${n}`);
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV: tag, length, then the concatenated value parts. */
export function tlv(tag: number, ...value: Uint8Array[]): Buffer {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & 0x1f) === 0x1f)
    throw new RangeError(`DER: unsupported tag ${tag}`);
  const body = Buffer.concat(value);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, ...items);

/**
 * A SET in the order given. DER sorts a SET OF by encoding (X.690 11.6); Java and OpenSSL read
 * either, and the PKCS#12 bag attributes keep the order they always had (friendlyName first,
 * which is what `openssl pkcs12 -info` prints).
 */
export const set = (...items: Uint8Array[]): Buffer => tlv(TAG.SET, ...items);

export const octetString = (b: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, b);

export const nullValue = (): Buffer => tlv(TAG.NULL);

/** An INTEGER, two's complement, minimal (a leading 00 only where the high bit would read as a sign). */
export function integer(n: number | bigint): Buffer {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) throw new RangeError(`DER: ${n} is not a whole number`);
  let v = BigInt(n);
  const bytes: number[] = [];
  if (v >= 0n) {
    do {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v > 0n);
    if (bytes[0]! & 0x80) bytes.unshift(0);
  } else {
    do {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v < -1n);
    if (!(bytes[0]! & 0x80)) bytes.unshift(0xff);
  }
  return tlv(TAG.INTEGER, Buffer.from(bytes));
}

/** An OBJECT IDENTIFIER from dotted form. */
export function oid(dotted: string): Buffer {
  if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(dotted)) throw new RangeError(`DER: "${dotted}" is not an OID`);
  const arcs = dotted.split('.').map(BigInt);
  const [a, b] = [arcs[0]!, arcs[1]!];
  if (a < 2n && b > 39n) throw new RangeError(`DER: "${dotted}" is not an OID`);
  const out: number[] = [];
  for (const arc of [a * 40n + b, ...arcs.slice(2)]) {
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...groups);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

/** A BMPString: UTF-16BE code units. */
export function bmpString(s: string): Buffer {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return tlv(TAG.BMP_STRING, b);
}

/** [n] EXPLICIT: a constructed context tag wrapping whole TLVs. */
export const explicit = (n: number, ...items: Uint8Array[]): Buffer => tlv(0xa0 | contextNumber(n), ...items);

/** [n] IMPLICIT over a primitive type: the value bytes under a primitive context tag. */
export const implicit = (n: number, value: Uint8Array): Buffer => tlv(0x80 | contextNumber(n), value);

function contextNumber(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError(`DER: context tag [${n}] is not supported`);
  return n;
}
