import { isLedgerError } from '../errors';
import { cborError } from './errors';
import { Simple, Tag } from './types';

/**
 * A strict RFC 8949 decoder for attacker-controlled bytes.
 *
 * Why not cbor2 here: on this machine cbor2's `decode()` costs ~30-40 µs per call whatever the
 * input size (it merges a ~40-key options object twice per call and runs a generator per item),
 * which is about the cost of the ES256 verification the registration hot path exists to do.
 * This decoder is ~1 µs for a typical protected header. cbor2 stays the test oracle (the fuzz
 * tests compare both on random and mutated inputs).
 *
 * Policy, decided once for every caller:
 * - Size is checked before the first byte is parsed; nesting (arrays, maps, tags) is bounded.
 * - Declared lengths larger than the remaining input are rejected before anything is allocated,
 *   so a 9-byte header cannot make us allocate or loop 2^64 times.
 * - Not well-formed input is rejected: reserved additional information (28-30), indefinite
 *   integers/tags, misplaced breaks, mixed or nested indefinite string chunks, two-byte simple
 *   values below 32, invalid UTF-8, trailing bytes.
 * - Duplicate map keys are rejected (RFC 9052 §3: a repeated header label MUST make the message
 *   malformed; doing it here means no map anywhere can smuggle a second value past a reader).
 * - Lenient where interop needs it and security does not: non-shortest heads and indefinite
 *   lengths are accepted by default (signatures are checked over bytes as received, never over a
 *   re-encoding, so encoding variants cannot change what was signed). `allowIndefinite: false`
 *   refuses them where a profile wants definite lengths only.
 * - Tags are returned as `Tag` objects, never interpreted (no dates, regexps, bignums or
 *   embedded CBOR evaluated on hostile input). Every map is a `Map` (no prototype pollution
 *   through `__proto__` keys, integer labels stay integers).
 * - Byte strings are zero-copy `Buffer` views into the input (payloads are not copied).
 */
export interface CborDecodeOptions {
  /** Inputs longer than this are refused with TOO_LARGE before parsing. Default 64 MiB. */
  maxBytes?: number;
  /** Maximum nesting of arrays, maps and tags. Default 64. */
  maxDepth?: number;
  /** Accept indefinite-length strings, arrays and maps. Default true. */
  allowIndefinite?: boolean;
}

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const INDEFINITE = -1;

/** A Buffer view of the same memory (no copy), so byte strings come out as Buffers. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

class Decoder {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start: number,
    readonly maxDepth: number,
    readonly allowIndefinite: boolean,
  ) {
    this.pos = start;
  }

  fail(message: string): never {
    throw cborError('MALFORMED_CBOR', `${message} (byte ${this.pos})`, { offset: this.pos });
  }

  /**
   * The input ends `more` bytes (at least) before the item does. `needed` (the input length that
   * would be needed at least) lets a streaming reader wait for more bytes instead of retrying.
   */
  truncated(more: number): never {
    throw cborError('MALFORMED_CBOR', `truncated input: at least ${more} more byte(s) needed (byte ${this.pos})`, {
      offset: this.pos,
      truncated: true,
      needed: this.buf.length + more,
    });
  }

  /** The argument of a head (RFC 8949 §3), or INDEFINITE for additional information 31. */
  arg(ai: number): number | bigint {
    if (ai < 24) return ai;
    const b = this.buf;
    const p = this.pos;
    const left = b.length - p;
    switch (ai) {
      case 24:
        if (left < 1) this.truncated(1 - left);
        this.pos = p + 1;
        return b[p];
      case 25:
        if (left < 2) this.truncated(2 - left);
        this.pos = p + 2;
        return (b[p] << 8) | b[p + 1];
      case 26:
        if (left < 4) this.truncated(4 - left);
        this.pos = p + 4;
        return b.readUInt32BE(p);
      case 27: {
        if (left < 8) this.truncated(8 - left);
        this.pos = p + 8;
        const hi = b.readUInt32BE(p);
        const lo = b.readUInt32BE(p + 4);
        // Below 2^53 a number is exact; above, callers get a bigint (or a length error).
        return hi < 0x200000 ? hi * 0x100000000 + lo : (BigInt(hi) << 32n) | BigInt(lo);
      }
      case 31:
        return INDEFINITE;
      default:
        return this.fail(`reserved additional information ${ai}`);
    }
  }

  /** A length from a head that must fit in what is left of the input. */
  length(ai: number, what: string): number {
    const n = this.arg(ai);
    if (n === INDEFINITE) return INDEFINITE;
    const left = this.buf.length - this.pos;
    if (typeof n === 'bigint') this.fail(`${what} length ${n} is absurd`);
    if (n > left) this.truncated(n - left);
    return n;
  }

  item(depth: number): unknown {
    const b = this.buf;
    if (this.pos >= b.length) this.truncated(1);
    const ib = b[this.pos++];
    const major = ib >> 5;
    const ai = ib & 31;
    switch (major) {
      case 0: {
        const v = this.arg(ai);
        if (v === INDEFINITE) this.fail('indefinite-length integer');
        return v;
      }
      case 1: {
        const v = this.arg(ai);
        if (v === INDEFINITE) this.fail('indefinite-length integer');
        if (typeof v === 'bigint') return -1n - v;
        return v < Number.MAX_SAFE_INTEGER ? -1 - v : -1n - BigInt(v);
      }
      case 2:
      case 3:
        return this.string(major, ai);
      case 4:
        return this.array(ai, depth);
      case 5:
        return this.map(ai, depth);
      case 6: {
        const t = this.arg(ai);
        if (t === INDEFINITE) this.fail('indefinite-length tag');
        if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
        return new Tag(t, this.item(depth + 1));
      }
      default:
        return this.simple(ai);
    }
  }

  string(major: number, ai: number): Buffer | string {
    const n = this.length(ai, 'string');
    if (n !== INDEFINITE) {
      const s = this.pos;
      this.pos = s + n;
      return major === 2 ? this.buf.subarray(s, s + n) : this.text(s, s + n);
    }
    if (!this.allowIndefinite) this.fail('indefinite-length string');
    const bytes: Buffer[] = [];
    const texts: string[] = [];
    for (;;) {
      if (this.pos >= this.buf.length) this.truncated(1);
      const cb = this.buf[this.pos++];
      if (cb === 0xff) break;
      if (cb >> 5 !== major) this.fail('indefinite-length string chunk of another type');
      const len = this.length(cb & 31, 'chunk');
      if (len === INDEFINITE) this.fail('nested indefinite-length string');
      const s = this.pos;
      this.pos = s + len;
      // Each text chunk must be valid UTF-8 on its own (RFC 8949 §3.2.3).
      if (major === 2) bytes.push(this.buf.subarray(s, s + len));
      else texts.push(this.text(s, s + len));
    }
    return major === 2 ? Buffer.concat(bytes) : texts.join('');
  }

  text(s: number, e: number): string {
    const b = this.buf;
    for (let i = s; i < e; i++) {
      if (b[i] & 0x80) {
        try {
          return utf8.decode(b.subarray(s, e));
        } catch {
          this.pos = s;
          return this.fail('text string is not valid UTF-8');
        }
      }
    }
    return b.toString('latin1', s, e);
  }

  array(ai: number, depth: number): unknown[] {
    const n = this.length(ai, 'array');
    if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    if (n !== INDEFINITE) {
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = this.item(depth + 1);
      return out;
    }
    if (!this.allowIndefinite) this.fail('indefinite-length array');
    const out: unknown[] = [];
    while (!this.atBreak()) out.push(this.item(depth + 1));
    return out;
  }

  map(ai: number, depth: number): Map<unknown, unknown> {
    const n = this.length(ai, 'map');
    if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    if (n === INDEFINITE && !this.allowIndefinite) this.fail('indefinite-length map');
    const m = new Map<unknown, unknown>();
    // Keys that are objects (byte strings, arrays...) compare by identity in a Map, so their
    // duplicates are found through their encoded bytes instead.
    let objectKeys: Set<string> | undefined;
    for (let i = 0; n === INDEFINITE ? !this.atBreak() : i < n; i++) {
      const start = this.pos;
      const key = this.item(depth + 1);
      if (key !== null && typeof key === 'object') {
        const raw = this.buf.toString('latin1', start, this.pos);
        objectKeys ??= new Set();
        if (objectKeys.has(raw)) this.dup(start);
        objectKeys.add(raw);
      } else if (m.has(key)) {
        this.dup(start);
      }
      m.set(key, this.item(depth + 1));
    }
    return m;
  }

  dup(at: number): never {
    this.pos = at;
    return this.fail('duplicate map key');
  }

  /** Consumes the break byte that ends an indefinite-length container, if it is next. */
  atBreak(): boolean {
    if (this.pos >= this.buf.length) this.truncated(1);
    if (this.buf[this.pos] !== 0xff) return false;
    this.pos++;
    return true;
  }

  simple(ai: number): unknown {
    const b = this.buf;
    const p = this.pos;
    const left = b.length - p;
    switch (ai) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 24: {
        if (left < 1) this.truncated(1);
        const v = b[this.pos++];
        if (v < 32) this.fail(`simple value ${v} in two bytes`);
        return new Simple(v);
      }
      case 25:
        if (left < 2) this.truncated(2 - left);
        this.pos = p + 2;
        return halfToNumber((b[p] << 8) | b[p + 1]);
      case 26:
        if (left < 4) this.truncated(4 - left);
        this.pos = p + 4;
        return b.readFloatBE(p);
      case 27:
        if (left < 8) this.truncated(8 - left);
        this.pos = p + 8;
        return b.readDoubleBE(p);
      case 31:
        return this.fail('unexpected break');
      default:
        if (ai > 27) return this.fail(`reserved additional information ${ai}`);
        return new Simple(ai);
    }
  }
}

function halfToNumber(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const v = e === 0 ? m * 2 ** -24 : e === 31 ? (m === 0 ? Infinity : NaN) : (m + 1024) * 2 ** (e - 25);
  return h & 0x8000 ? -v : v;
}

function check(bytes: Uint8Array, maxBytes: number): void {
  if (!(bytes instanceof Uint8Array)) throw cborError('MALFORMED_CBOR', 'CBOR input must be bytes');
  if (bytes.length > maxBytes) throw cborError('TOO_LARGE', `CBOR input is ${bytes.length} bytes; the limit is ${maxBytes}`, { size: bytes.length, limit: maxBytes });
}

function run<T>(d: Decoder, f: (d: Decoder) => T): T {
  try {
    return f(d);
  } catch (e) {
    if (isLedgerError(e)) throw e;
    // Defence in depth: nothing but a LedgerError may escape for hostile input.
    throw cborError('MALFORMED_CBOR', `undecodable CBOR: ${(e as Error)?.message ?? e}`, { offset: d.pos });
  }
}

/** Decodes exactly one CBOR item that must span the whole input. */
export function decodeCbor(bytes: Uint8Array, opts?: CborDecodeOptions): unknown {
  check(bytes, opts?.maxBytes ?? DEFAULT_MAX_BYTES);
  const d = new Decoder(asBuffer(bytes), 0, opts?.maxDepth ?? DEFAULT_MAX_DEPTH, opts?.allowIndefinite ?? true);
  return run(d, (x) => {
    if (bytes.length === 0) x.fail('empty input');
    const v = x.item(0);
    if (x.pos !== bytes.length) x.fail(`${bytes.length - x.pos} trailing byte(s) after the item`);
    return v;
  });
}

/**
 * Decodes the one item that starts at `start` and returns it with the offset just past it.
 * A truncated item throws MALFORMED_CBOR with `details.truncated` and `details.needed` (the input
 * length that would be needed at least), which is how the streaming reader knows to wait.
 */
export function decodeCborAt(bytes: Uint8Array, start: number, opts?: CborDecodeOptions): { value: unknown; end: number } {
  check(bytes, Infinity);
  const d = new Decoder(asBuffer(bytes), start, opts?.maxDepth ?? DEFAULT_MAX_DEPTH, opts?.allowIndefinite ?? true);
  const value = run(d, (x) => x.item(0));
  return { value, end: d.pos };
}

/** Decodes a whole RFC 8742 CBOR sequence held in memory (zero or more items back to back). */
export function decodeCborSequence(bytes: Uint8Array, opts?: CborDecodeOptions): unknown[] {
  check(bytes, opts?.maxBytes ?? DEFAULT_MAX_BYTES);
  const out: unknown[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const r = decodeCborAt(bytes, pos, opts);
    out.push(r.value);
    pos = r.end;
  }
  return out;
}
