import { isLedgerError } from '../errors';
import { asBuffer, decodeCborAt, type CborDecodeOptions } from './decode';
import { bstrHead } from './encode';
import { cborError } from './errors';
import { expectBstr } from './expect';

/**
 * RFC 8742 CBOR sequences, as the bulk statements endpoint serves them: one byte string item per
 * registered statement, back to back, streamed. Writers interleave `bstrHead(len)` and the bytes
 * (no copy); readers decode incrementally with a bound on the size of any one item.
 */

/** One byte string item (head + bytes) as a single buffer. */
export function encodeBstrItem(bytes: Uint8Array): Buffer {
  return Buffer.concat([bstrHead(bytes.length), bytes]);
}

export interface CborSeqOptions extends CborDecodeOptions {
  /** No single item may be larger than this (TOO_LARGE). Default 16 MiB. */
  maxItemBytes?: number;
}

/**
 * Incremental decoder: feed chunks as they arrive, get back the items they complete. Holds at
 * most one partial item. Truncation is detected by the decoder itself, which also says how many
 * bytes the item needs at least, so a large byte string is parsed once, not once per chunk.
 */
export class CborSeqDecoder {
  private pending: Buffer[] = [];
  private buffered = 0;
  private need = 1;
  private readonly maxItem: number;

  constructor(private readonly opts: CborSeqOptions = {}) {
    this.maxItem = opts.maxItemBytes ?? 16 * 1024 * 1024;
  }

  /** Bytes received but not yet part of a complete item. */
  get partialBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): unknown[] {
    if (chunk.length === 0) return [];
    this.pending.push(asBuffer(chunk));
    this.buffered += chunk.length;
    const out: unknown[] = [];
    while (this.buffered >= this.need) {
      const buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
      this.pending = [buf];
      let r: { value: unknown; end: number };
      try {
        r = decodeCborAt(buf, 0, this.opts);
      } catch (e) {
        if (!(isLedgerError(e) && e.details?.truncated)) throw e;
        this.need = Math.max(Number(e.details.needed), this.buffered + 1);
        if (this.need > this.maxItem) throw this.tooLarge(this.need);
        break;
      }
      if (r.end > this.maxItem) throw this.tooLarge(r.end);
      out.push(r.value);
      const rest = buf.subarray(r.end);
      this.pending = rest.length ? [rest] : [];
      this.buffered = rest.length;
      this.need = 1;
    }
    return out;
  }

  /** Call at end of input: a sequence must not stop inside an item. */
  end(): void {
    if (this.buffered > 0) throw cborError('MALFORMED_CBOR', `the sequence ends inside an item (${this.buffered} byte(s) left over)`);
  }

  private tooLarge(n: number) {
    return cborError('TOO_LARGE', `a sequence item needs at least ${n} bytes; the limit is ${this.maxItem}`, { size: n, limit: this.maxItem });
  }
}

/** Decodes a CBOR sequence arriving as chunks (a Node stream, a fetch body reader...). */
export async function* readCborSeq(source: AsyncIterable<Uint8Array>, opts?: CborSeqOptions): AsyncGenerator<unknown> {
  const d = new CborSeqDecoder(opts);
  for await (const chunk of source) yield* d.push(chunk);
  d.end();
}

/** A sequence whose every item must be a byte string; yields the bytes. */
export async function* readBstrSeq(source: AsyncIterable<Uint8Array>, opts?: CborSeqOptions): AsyncGenerator<Buffer> {
  let i = 0;
  for await (const v of readCborSeq(source, opts)) yield expectBstr(v, `sequence item ${i++}`, 'MALFORMED_CBOR');
}
