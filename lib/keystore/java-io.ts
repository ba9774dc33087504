// Java's DataOutputStream/DataInputStream conventions, as JKS and JCEKS use them: big-endian
// integers and "modified UTF-8" strings (u16 length; U+0000 as C0 80; characters beyond the BMP
// as two 3-byte surrogates).
import { createHash } from 'node:crypto';
import { inputError } from '../errors.js';

export class JavaWriter {
  private parts: Buffer[] = [];

  u8(n: number): this {
    this.parts.push(Buffer.from([n & 0xff]));
    return this;
  }

  u16(n: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    this.parts.push(b);
    return this;
  }

  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    this.parts.push(b);
    return this;
  }

  /** DataOutputStream.writeLong: signed, as Java's dates are. */
  long(n: number): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(n));
    this.parts.push(b);
    return this;
  }

  /** DataOutputStream.writeUTF: u16 length, modified UTF-8. */
  utf(s: string): this {
    const body = encodeModifiedUtf8(s);
    if (body.length > 0xffff)
      throw inputError('java-string', 'a string (an alias?) is too long for a Java keystore: at most 65535 bytes');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(body.length);
    this.parts.push(len, body);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }

  /** A u32 length, then the bytes. */
  block(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export interface JavaReaderOptions {
  /** What the bytes should have been, for the truncation error (default "a Java keystore"). */
  format?: string;
  /** Where reading starts (default 0). */
  offset?: number;
  /** The error to throw when the bytes run out, instead of the generic "truncated". */
  truncated?: () => Error;
}

export class JavaReader {
  offset: number;
  private readonly truncated: () => Error;

  /** `what` names the file in errors. */
  constructor(
    readonly buf: Buffer,
    what: string,
    opts: JavaReaderOptions = {},
  ) {
    this.offset = opts.offset ?? 0;
    const format = opts.format ?? 'a Java keystore';
    this.truncated = opts.truncated ?? (() => inputError('truncated', `${what} is truncated or not ${format}`));
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw this.truncated();
  }

  /** The next byte without consuming it. */
  peek(): number {
    this.need(1);
    return this.buf[this.offset]!;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** DataInputStream.readLong: signed. */
  long(): number {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return Number(v);
  }

  utf(): string {
    this.need(2);
    const len = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return decodeModifiedUtf8(this.bytes(len));
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }

  block(): Buffer {
    return this.bytes(this.u32());
  }
}

export function encodeModifiedUtf8(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i); // UTF-16 code units: surrogates are encoded one by one, as Java does
    if (c >= 0x01 && c <= 0x7f) out.push(c);
    else if (c <= 0x7ff) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Buffer.from(out);
}

export function decodeModifiedUtf8(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length;) {
    const x = b[i]!;
    if (x < 0x80) {
      s += String.fromCharCode(x);
      i += 1;
    } else if ((x & 0xe0) === 0xc0) {
      s += String.fromCharCode(((x & 0x1f) << 6) | (b[i + 1]! & 0x3f));
      i += 2;
    } else {
      s += String.fromCharCode(((x & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f));
      i += 3;
    }
  }
  return s;
}

/** Java's password bytes for JKS: each UTF-16 code unit as two big-endian bytes. */
export function passwordBytes(password: string): Buffer {
  const b = Buffer.alloc(password.length * 2);
  for (let i = 0; i < password.length; i++) b.writeUInt16BE(password.charCodeAt(i), i * 2);
  return b;
}

/** JKS and JCEKS end with SHA-1 over (password as UTF-16BE ‖ "Mighty Aphrodite" ‖ every preceding byte). */
export function keystoreIntegrity(password: string, body: Uint8Array): Buffer {
  return createHash('sha1').update(passwordBytes(password)).update('Mighty Aphrodite', 'latin1').update(body).digest();
}
