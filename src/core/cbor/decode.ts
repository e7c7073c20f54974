import { isLedgerError } from '../errors';
import { cborError } from './errors';
import { Decoder } from './reader';

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
 *   Keys are compared as the JS values a reader will look them up by, so 1 and 1.0, or 1 and a
 *   non-shortest 1, are duplicates too (cbor2 compares bytes and would accept them).
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

/** A Buffer view of the same memory (no copy), so byte strings come out as Buffers. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
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
