import { cborError } from './errors';
import { Simple, Tag } from './types';

/**
 * The recursive-descent reader behind decodeCbor (see decode.ts for the policy it enforces).
 * Every read is bounds-checked against the input; a short input throws MALFORMED_CBOR with
 * `details.truncated` so that the streaming reader can tell "wait for more" from "malformed".
 */

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const INDEFINITE = -1;

export class Decoder {
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
