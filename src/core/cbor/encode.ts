import { cborError } from './errors';
import { RawCbor, Simple, Tag } from './types';

/**
 * RFC 8949 §4.2.1 core deterministic encoding: shortest heads, definite lengths only, map keys
 * sorted by the bytewise order of their encodings, floats in the shortest form that keeps the
 * value. Written here rather than taken from cbor2 because cbor2 encodes a Node `Buffer` as the
 * JSON object {"type":"Buffer","data":[...]} — and every byte string in this code base is a Buffer.
 *
 * JavaScript numbers that are integers encode as CBOR integers (a float 1.0 cannot be told apart
 * from 1 in JS; -0 stays a float); bigints in [-2^64, 2^64) encode as integers. Anything else (functions, symbols,
 * class instances other than the types below, bigints out of range) is refused with UNENCODABLE.
 */

const HEAD_SCRATCH = Buffer.alloc(9);

/** The head of a data item: major type and argument, in the shortest form. */
export function encodeHead(major: number, n: number | bigint): Buffer {
  return Buffer.from(HEAD_SCRATCH.subarray(0, writeHead(HEAD_SCRATCH, 0, major, n)));
}

/** Writes a shortest-form head at `off` and returns the number of bytes written (1-9). */
export function writeHead(out: Uint8Array, off: number, major: number, n: number | bigint): number {
  const mt = major << 5;
  if (typeof n === 'bigint') {
    if (n < 0n || n > 0xffffffffffffffffn) throw cborError('UNENCODABLE', `argument ${n} does not fit in 64 bits`);
    if (n <= 0xffffffffn) return writeHead(out, off, major, Number(n));
    out[off] = mt | 27;
    new DataView(out.buffer, out.byteOffset).setBigUint64(off + 1, n);
    return 9;
  }
  if (!(n >= 0 && Number.isSafeInteger(n))) throw cborError('UNENCODABLE', `argument ${n} is not a non-negative safe integer`);
  if (n < 24) {
    out[off] = mt | n;
    return 1;
  }
  if (n < 0x100) {
    out[off] = mt | 24;
    out[off + 1] = n;
    return 2;
  }
  if (n < 0x10000) {
    out[off] = mt | 25;
    out[off + 1] = n >> 8;
    out[off + 2] = n & 0xff;
    return 3;
  }
  if (n < 0x100000000) {
    out[off] = mt | 26;
    new DataView(out.buffer, out.byteOffset).setUint32(off + 1, n);
    return 5;
  }
  out[off] = mt | 27;
  new DataView(out.buffer, out.byteOffset).setBigUint64(off + 1, BigInt(n));
  return 9;
}

/** Length of the shortest head for argument `n` (non-negative safe integer). */
export function headLength(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
}

/** The head of a byte string of `len` bytes (what a CBOR sequence of bstr items interleaves). */
export function bstrHead(len: number): Buffer {
  return encodeHead(2, len);
}

class Writer {
  buf = Buffer.allocUnsafe(256);
  len = 0;

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  head(major: number, n: number | bigint): void {
    this.reserve(9);
    this.len += writeHead(this.buf, this.len, major, n);
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** Float bits as IEEE 754 half precision when that is exact, else undefined. */
function toHalf(v: number): number | undefined {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  if (a >= 65520) return undefined;
  const e = Math.floor(Math.log2(a));
  if (e < -14) {
    const m = a * 2 ** 24; // subnormal: value = m * 2^-24
    return Number.isInteger(m) ? sign | m : undefined;
  }
  const m = (a / 2 ** e - 1) * 1024;
  if (!Number.isInteger(m) || m < 0 || e > 15) return undefined;
  return sign | ((e + 15) << 10) | m;
}

function encodeFloat(w: Writer, v: number): void {
  const h = toHalf(v);
  if (h !== undefined) {
    w.reserve(3);
    w.buf[w.len] = 0xf9;
    w.buf.writeUInt16BE(h, w.len + 1);
    w.len += 3;
  } else if (Math.fround(v) === v) {
    w.reserve(5);
    w.buf[w.len] = 0xfa;
    w.buf.writeFloatBE(v, w.len + 1);
    w.len += 5;
  } else {
    w.reserve(9);
    w.buf[w.len] = 0xfb;
    w.buf.writeDoubleBE(v, w.len + 1);
    w.len += 9;
  }
}

function encodeInto(w: Writer, v: unknown, depth: number): void {
  if (depth > 256) throw cborError('UNENCODABLE', 'value nests deeper than 256 levels (cyclic?)');
  switch (typeof v) {
    case 'number':
      // -0 is a float in JS (no integer has a sign of zero): keep it, as f98000.
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) return v >= 0 ? w.head(0, v) : w.head(1, -1 - v);
      return encodeFloat(w, v);
    case 'bigint':
      if (v >= 0n) return w.head(0, v);
      if (v < -0x10000000000000000n) throw cborError('UNENCODABLE', `integer ${v} is below -2^64`);
      return w.head(1, -1n - v);
    case 'string': {
      const b = Buffer.from(v, 'utf8');
      w.head(3, b.length);
      return w.bytes(b);
    }
    case 'boolean':
      return w.byte(v ? 0xf5 : 0xf4);
    case 'undefined':
      return w.byte(0xf7);
    case 'object':
      break;
    default:
      throw cborError('UNENCODABLE', `cannot encode a ${typeof v} as CBOR`);
  }
  if (v === null) return w.byte(0xf6);
  if (v instanceof Uint8Array) {
    w.head(2, v.length);
    return w.bytes(v);
  }
  if (Array.isArray(v)) {
    w.head(4, v.length);
    for (const x of v) encodeInto(w, x, depth + 1);
    return;
  }
  if (v instanceof Map) return encodeMap(w, [...v.entries()], depth);
  if (v instanceof Tag) {
    w.head(6, v.tag);
    return encodeInto(w, v.value, depth + 1);
  }
  if (v instanceof RawCbor) return w.bytes(v.bytes);
  if (v instanceof Simple) {
    if (v.value < 24) return w.byte(0xe0 | v.value);
    w.byte(0xf8);
    return w.byte(v.value);
  }
  if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
    return encodeMap(w, Object.entries(v as Record<string, unknown>), depth);
  }
  throw cborError('UNENCODABLE', `cannot encode an instance of ${(v as object).constructor?.name ?? 'unknown'} as CBOR`);
}

function encodeMap(w: Writer, entries: [unknown, unknown][], depth: number): void {
  const keyed = entries.map(([k, val]) => [encodeAt(k, depth + 1), val] as const);
  keyed.sort((a, b) => Buffer.compare(a[0], b[0]));
  for (let i = 1; i < keyed.length; i++) {
    if (keyed[i - 1][0].equals(keyed[i][0])) throw cborError('UNENCODABLE', 'two map keys have the same encoding');
  }
  w.head(5, keyed.length);
  for (const [k, val] of keyed) {
    w.bytes(k);
    encodeInto(w, val, depth + 1);
  }
}

function encodeAt(value: unknown, depth: number): Buffer {
  const w = new Writer();
  encodeInto(w, value, depth);
  return w.done();
}

/** Deterministic (RFC 8949 §4.2.1) encoding of `value`. */
export function encodeCbor(value: unknown): Buffer {
  return encodeAt(value, 0);
}
