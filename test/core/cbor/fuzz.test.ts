import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decode as cbor2Decode } from 'cbor2';
import { decodeCbor, encodeCbor } from '../../../src/core/cbor';
import { isLedgerError } from '../../../src/core/errors';
import { cborValue, mutate, norm } from './arbitraries';

type Outcome = { ok: true; value: unknown } | { ok: false; message: string };

/** Our decoder on hostile bytes: a value or a LedgerError, never anything else, never slow. */
function ours(b: Uint8Array): Outcome {
  const t = performance.now();
  try {
    return { ok: true, value: decodeCbor(b) };
  } catch (e) {
    if (!isLedgerError(e)) throw new Error(`non-LedgerError for ${Buffer.from(b).toString('hex')}: ${(e as Error)?.stack ?? e}`);
    return { ok: false, message: e.message };
  } finally {
    assert.ok(performance.now() - t < 200, `decoding ${b.length} bytes took ${performance.now() - t} ms`);
  }
}

function theirs(b: Uint8Array): Outcome {
  try {
    return { ok: true, value: cbor2Decode(new Uint8Array(b), { preferMap: true, ignoreGlobalTags: true, rejectDuplicateKeys: true, maxDepth: 60 }) };
  } catch (e) {
    return { ok: false, message: String((e as Error)?.message ?? e) };
  }
}

/**
 * Differential check against cbor2. Allowed differences, all deliberate strictness of ours:
 * duplicate keys that cbor2 sees as different bytes but that are the same JS value
 * (1 and 1.0, 0 and 1800), and nesting limits (cbor2's depth counts differently).
 */
function agree(b: Uint8Array): void {
  const a = ours(b);
  const c = theirs(b);
  const hex = Buffer.from(b).toString('hex');
  if (a.ok) {
    assert.ok(c.ok, `we accept ${hex}, cbor2 rejects: ${!c.ok && c.message}`);
    assert.deepEqual(norm(a.value), norm(c.value), hex);
  } else if (c.ok) {
    assert.match(a.message, /duplicate map key|deeper than/, `cbor2 accepts ${hex}, we reject: ${a.message}`);
  }
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0x1b, 0x3b, 0x5b, 0x7b, 0x9b, 0xbb, 0x5f, 0x9f, 0xbf, 0xff, 0xc0, 0xd8, 0xf8, 0xf9, 0x1c) }),
);

describe('CBOR decoder under hostile input (fast-check, 10,000+ inputs)', () => {
  it('5,000 random byte strings: only LedgerErrors, and the same verdicts as cbor2', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 48 }), (b) => agree(b)), { numRuns: 5000 });
  });

  it('5,000 mutated encodings of random values: only LedgerErrors, and the same verdicts as cbor2', () => {
    fc.assert(
      fc.property(cborValue, fc.array(mutation, { minLength: 1, maxLength: 3 }), (v, ms) => agree(mutate(encodeCbor(v), ms))),
      { numRuns: 5000 },
    );
  });

  it('hostile shapes: deep nesting, huge declared lengths, endless indefinite items, tag chains', () => {
    const shapes: Buffer[] = [
      Buffer.alloc(200_000, 0x81),
      Buffer.alloc(200_000, 0x9f),
      Buffer.alloc(200_000, 0xbf),
      Buffer.alloc(200_000, 0xc6),
      Buffer.concat([Buffer.alloc(50_000, 0xa1), Buffer.alloc(1, 0)]),
      Buffer.from('9bffffffffffffffff', 'hex'),
      Buffer.from('bbffffffffffffffff', 'hex'),
      Buffer.from('5bffffffffffffffff', 'hex'),
      Buffer.from('9a7fffffff' + '00'.repeat(1000), 'hex'),
      Buffer.concat([Buffer.from('5f', 'hex'), Buffer.alloc(200_000, 0x40)]), // 200k empty chunks, never closed
      Buffer.concat([Buffer.from('9f', 'hex'), Buffer.alloc(200_000, 0x00)]), // 200k items, never closed
      Buffer.concat([Buffer.from('7f', 'hex'), Buffer.from('6161'.repeat(50_000), 'hex'), Buffer.from('ff', 'hex')]),
      Buffer.concat([Buffer.from('bf', 'hex'), Buffer.from('0000'.repeat(10), 'hex')]), // duplicate keys in a stream
    ];
    for (const b of shapes) {
      const r = ours(b);
      if (b[0] !== 0x7f) assert.equal(r.ok, false, b.subarray(0, 8).toString('hex'));
    }
    assert.equal(ours(shapes[11]).ok, true);
  });
});
