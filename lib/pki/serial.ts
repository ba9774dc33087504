// Certificate serial numbers: random, positive, at least 64 bits, and encoded minimally.
// node-forge writes the serial's hex verbatim as the INTEGER's content, so the hex we hand it must
// already be a valid minimal DER integer: no redundant leading 00, and a 00 in front of a first byte
// >= 0x80 (which would otherwise make the number negative). OpenSSL 3 rejects certificates that break
// either rule, and random serials avoid the issuer+serial reuse that breaks NSS clients.
import { randomBytes } from 'node:crypto';

export const SERIAL_BYTES = 16;

/** Minimal positive DER INTEGER content for an unsigned big-endian number, as lower-case hex. */
export function serialHexFromBytes(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  if (trimmed.length === 0 || (trimmed.length === 1 && trimmed[0] === 0)) {
    throw new RangeError('a certificate serial must be positive');
  }
  const hex = Buffer.from(trimmed).toString('hex');
  return (trimmed[0]! & 0x80 ? '00' : '') + hex;
}

/** Serial from a bigint or decimal/hex string, for imports and tests. */
export function serialHexFromBigInt(n: bigint): string {
  if (n <= 0n) throw new RangeError('a certificate serial must be positive');
  let hex = n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return serialHexFromBytes(Buffer.from(hex, 'hex'));
}

/** 16 random bytes with the top bit clear and the next set: always 16 bytes, positive, 126 random bits. */
export function randomSerialHex(): string {
  const b = randomBytes(SERIAL_BYTES);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return serialHexFromBytes(b);
}
