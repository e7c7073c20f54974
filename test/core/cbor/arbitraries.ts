import fc from 'fast-check';
import { Simple as Cbor2Simple, Tag as Cbor2Tag } from 'cbor2';
import { Simple, Tag } from '../../../src/core/cbor';

/** Values our encoder accepts and our decoder returns (Buffers for bstr, Maps for maps). */
export const cborValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.maxSafeInteger(),
    fc.integer({ min: -30, max: 300 }),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    fc.double(),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
    fc.array(tie('value'), { maxLength: 5 }),
    fc
      .uniqueArray(fc.tuple(fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.string({ maxLength: 6 })), tie('value')), { maxLength: 5, selector: (e) => e[0] })
      .map((es) => new Map<unknown, unknown>(es)),
    fc.tuple(fc.integer({ min: 0, max: 100000 }), tie('value')).map(([t, v]) => new Tag(t, v)),
  ),
})).value;

/** A comparable form of a decoded value, whichever library decoded it. */
export function norm(v: unknown): unknown {
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (Object.is(v, -0)) return '-0';
    if (Number.isInteger(v)) return `int:${BigInt(v)}`;
    return `float:${v}`;
  }
  if (typeof v === 'bigint') return `int:${v}`;
  if (v === undefined) return 'undefined';
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return v.map(norm);
  if (v instanceof Map) {
    // Map order is not data: compare entries sorted by key.
    const es = [...v.entries()].map(([k, x]) => [norm(k), norm(x)] as const);
    return { map: es.sort((a, b) => (JSON.stringify(a[0]) < JSON.stringify(b[0]) ? -1 : 1)) };
  }
  if (v instanceof Tag) return { tag: String(v.tag), value: norm(v.value) };
  if (v instanceof Cbor2Tag) return { tag: String(v.tag), value: norm(v.contents) };
  if (v instanceof Simple || v instanceof Cbor2Simple) return `simple:${v.value}`;
  return v;
}

export interface Mutation {
  kind: string;
  at: number;
  bit?: number;
  bytes?: Uint8Array;
  byte?: number;
}

/** Applies byte-level mutations (bit flip, truncation, insertion, overwrite) in order. */
export function mutate(b: Buffer, ms: Mutation[]): Buffer {
  let out = Buffer.from(b);
  for (const m of ms) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.kind === 'flip') out[at] ^= 1 << m.bit!;
    else if (m.kind === 'truncate') out = out.subarray(0, at);
    else if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), m.bytes!, out.subarray(at)]);
    else out[at] = m.byte!;
  }
  return out;
}
