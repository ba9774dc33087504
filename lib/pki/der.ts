// A minimal DER reader: just enough to walk SEQUENCEs and pull out a value without a full ASN.1 library.

export interface Tlv {
  tag: number;
  /** Offset of the value within the buffer. */
  start: number;
  /** Offset just past the value. */
  end: number;
}

export function readTlv(buf: Uint8Array, offset: number): Tlv {
  const tag = buf[offset];
  let len = buf[offset + 1];
  let start = offset + 2;
  if (tag === undefined || len === undefined) throw new Error('DER: truncated');
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('DER: unsupported length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] ?? 0);
    start += n;
  }
  const end = start + len;
  if (end > buf.length) throw new Error('DER: truncated');
  return { tag, start, end };
}

/** The TLVs directly inside a constructed value. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = parent.start; off < parent.end; ) {
    const t = readTlv(buf, off);
    out.push(t);
    off = t.end;
  }
  return out;
}
