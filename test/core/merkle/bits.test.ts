import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bit, bitLen, popCount, shr, splitPoint, trailingZeros, xor } from '../../../src/core/merkle/bits';

describe('53-bit bit arithmetic agrees with BigInt', () => {
  const safe = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 + 5 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
  it('bitLen, popCount, trailingZeros, xor, shr, bit, splitPoint', () => {
    fc.assert(
      fc.property(safe, safe, fc.integer({ min: 0, max: 53 }), (a, b, k) => {
        const A = BigInt(a);
        const B = BigInt(b);
        assert.equal(bitLen(a), a === 0 ? 0 : A.toString(2).length);
        assert.equal(popCount(a), [...A.toString(2)].filter((c) => c === '1').length);
        if (a > 0) assert.equal(trailingZeros(a), A.toString(2).length - A.toString(2).lastIndexOf('1') - 1);
        assert.equal(xor(a, b), Number(A ^ B));
        assert.equal(shr(a, k), Number(A >> BigInt(k)));
        assert.equal(bit(a, k), Number((A >> BigInt(k)) & 1n));
        if (a >= 2) {
          const p = splitPoint(a);
          assert.ok(p < a && 2 * p >= a && (BigInt(p) & (BigInt(p) - 1n)) === 0n);
        }
      }),
      { numRuns: 500 },
    );
  });
  it('edges', () => {
    assert.equal(bitLen(2 ** 32), 33);
    assert.equal(bitLen(2 ** 32 - 1), 32);
    assert.equal(trailingZeros(2 ** 52), 52);
    assert.equal(popCount(Number.MAX_SAFE_INTEGER), 53);
    assert.equal(xor(2 ** 52, 1), 2 ** 52 + 1);
  });
});
