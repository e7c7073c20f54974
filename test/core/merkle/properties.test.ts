import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  consistencyProofFromTiles,
  consistencyProofRef,
  inclusionProofFromTiles,
  inclusionProofRef,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/core/merkle';
import { buildTiles, flipBit, hex, makeLeaves, prefixRoots } from './helpers';

const MAX = 2000;
const leaves = makeLeaves(MAX);
const { tiles } = buildTiles(leaves, 333);
const roots = prefixRoots(leaves, Array.from({ length: MAX + 1 }, (_, i) => i));
const RUNS = { numRuns: 150 };

const sizeAndIndex = fc.integer({ min: 1, max: MAX }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 })));
const twoSizes = fc.integer({ min: 1, max: MAX }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n)));

const mismatch = { code: 'ROOT_MISMATCH' };

describe('inclusion proofs (property)', () => {
  it('tile proofs equal reference proofs and verify', async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndIndex, async ([n, i]) => {
        const ref = inclusionProofRef(i, leaves.slice(0, n));
        const fromTiles = await inclusionProofFromTiles(i, n, tiles);
        assert.deepEqual(hex(fromTiles), hex(ref));
        verifyInclusion(i, n, leaves[i], fromTiles, roots.get(n)!);
        assert.deepEqual(rootFromInclusionProof(i, n, leaves[i], ref), roots.get(n));
      }),
      RUNS,
    );
  });

  it('flipping any bit of the proof, the leaf or the root is a ROOT_MISMATCH', async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndIndex, fc.nat(), fc.nat(255), async ([n, i], pick, b) => {
        const proof = await inclusionProofFromTiles(i, n, tiles);
        const root = roots.get(n)!;
        assert.throws(() => verifyInclusion(i, n, flipBit(leaves[i], b), proof, root), mismatch);
        assert.throws(() => verifyInclusion(i, n, leaves[i], proof, flipBit(root, b)), mismatch);
        if (proof.length > 0) {
          const bad = proof.slice();
          bad[pick % proof.length] = flipBit(bad[pick % proof.length], b);
          assert.throws(() => verifyInclusion(i, n, leaves[i], bad, root), mismatch);
        }
      }),
      RUNS,
    );
  });

  it('a proof for one index never verifies at another index of the same tree', async () => {
    // Only within one tree size: the size itself is bound by the signed checkpoint, not by the
    // proof, and two sizes can share a path shape (e.g. index 0 in sizes 1025 and 1412).
    await fc.assert(
      fc.asyncProperty(sizeAndIndex, fc.nat(MAX), async ([n, i], j) => {
        const i2 = j % n;
        fc.pre(i2 !== i);
        const proof = await inclusionProofFromTiles(i, n, tiles);
        assert.throws(() => verifyInclusion(i2, n, leaves[i], proof, roots.get(n)!));
      }),
      RUNS,
    );
  });

  it('malformed input is rejected with the right code', () => {
    const proof = inclusionProofRef(5, leaves.slice(0, 10));
    const root = roots.get(10)!;
    assert.throws(() => verifyInclusion(10, 10, leaves[5], proof, root), { code: 'INDEX_OUT_OF_RANGE' });
    assert.throws(() => verifyInclusion(5, 10, leaves[5].subarray(1), proof, root), { code: 'INVALID_HASH_SIZE' });
    assert.throws(() => verifyInclusion(5, 10, leaves[5], proof, root.subarray(1)), { code: 'INVALID_HASH_SIZE' });
    assert.throws(() => verifyInclusion(5, 10, leaves[5], [...proof, root], root), { code: 'INVALID_PROOF_SIZE' });
    assert.throws(() => verifyInclusion(5, 10, leaves[5], proof.slice(1), root), { code: 'INVALID_PROOF_SIZE' });
    assert.throws(() => verifyInclusion(5, 10, leaves[5], [proof[0].subarray(1), ...proof.slice(1)], root), { code: 'INVALID_HASH_SIZE' });
    assert.throws(() => verifyInclusion(5, 10, leaves[5], 'x' as unknown as Buffer[], root), { code: 'INVALID_PROOF_SIZE' });
    assert.throws(() => verifyInclusion(5, 2 ** 53, leaves[5], proof, root), { code: 'INVALID_SIZE' });
    assert.throws(() => verifyInclusion(-1, 10, leaves[5], proof, root), { code: 'INVALID_SIZE' });
    assert.throws(() => verifyInclusion(NaN, 10, leaves[5], proof, root), { code: 'INVALID_SIZE' });
  });

  it('handles sizes beyond 2^32 (no 32-bit truncation in the bit arithmetic)', () => {
    // A synthetic tree: leaf at index 2^40 + 5 in a tree of 2^41 + 3 leaves. The proof is made of
    // arbitrary hashes; rootFromInclusionProof must want the right length and chain deterministically.
    const n = 2 ** 41 + 3;
    const i = 2 ** 40 + 5;
    const want = inclusionLength(i, n);
    const proof = makeLeaves(want, 10_000);
    const r = rootFromInclusionProof(i, n, leaves[0], proof);
    verifyInclusion(i, n, leaves[0], proof, r);
    assert.throws(() => verifyInclusion(i, n, leaves[0], proof.slice(1), r), { code: 'INVALID_PROOF_SIZE' });
    assert.throws(() => verifyInclusion(i + 1, n, leaves[0], proof, r), mismatch);
  });
});

/** Proof length by the RFC's recursion, written independently of decompInclProof. */
function inclusionLength(i: number, n: number): number {
  if (n <= 1) return 0;
  let k = 1;
  while (k * 2 < n) k *= 2;
  return 1 + (i < k ? inclusionLength(i, k) : inclusionLength(i - k, n - k));
}

describe('consistency proofs (property)', () => {
  it('tile proofs equal reference proofs and verify', async () => {
    await fc.assert(
      fc.asyncProperty(twoSizes, async ([m, n]) => {
        const ref = consistencyProofRef(m, leaves.slice(0, n));
        const fromTiles = await consistencyProofFromTiles(m, n, tiles);
        assert.deepEqual(hex(fromTiles), hex(ref));
        verifyConsistency(m, n, fromTiles, roots.get(m)!, roots.get(n)!);
      }),
      RUNS,
    );
  });

  it('flipping any bit of the proof or either root fails', async () => {
    await fc.assert(
      fc.asyncProperty(twoSizes, fc.nat(), fc.nat(255), async ([m, n], pick, b) => {
        const proof = await consistencyProofFromTiles(m, n, tiles);
        const [r1, r2] = [roots.get(m)!, roots.get(n)!];
        assert.throws(() => verifyConsistency(m, n, proof, flipBit(r1, b), r2), mismatch);
        assert.throws(() => verifyConsistency(m, n, proof, r1, flipBit(r2, b)), mismatch);
        if (proof.length > 0) {
          const bad = proof.slice();
          bad[pick % proof.length] = flipBit(bad[pick % proof.length], b);
          assert.throws(() => verifyConsistency(m, n, bad, r1, r2), mismatch);
        }
      }),
      RUNS,
    );
  });

  it('a proof from one old size never verifies from another old size of the same tree', async () => {
    // As for inclusion, the new size is bound by the checkpoint: proofs for (10, 1145) and
    // (10, 1724) share a shape, so only the old size is varied here.
    await fc.assert(
      fc.asyncProperty(twoSizes, fc.nat(MAX), async ([m, n], j) => {
        const m2 = 1 + (j % n);
        fc.pre(m < n && m2 !== m);
        const proof = await consistencyProofFromTiles(m, n, tiles);
        assert.throws(() => verifyConsistency(m2, n, proof, roots.get(m)!, roots.get(n)!));
      }),
      RUNS,
    );
  });

  it('rejects the degenerate cases', () => {
    const r = roots.get(5)!;
    assert.throws(() => verifyConsistency(0, 5, [], roots.get(0)!, r), { code: 'INVALID_SIZE' });
    assert.throws(() => verifyConsistency(6, 5, [], r, r), { code: 'INVALID_SIZE' });
    assert.throws(() => verifyConsistency(5, 5, [r], r, r), { code: 'INVALID_PROOF_SIZE' });
    assert.throws(() => verifyConsistency(4, 5, [], roots.get(4)!, r), { code: 'INVALID_PROOF_SIZE' });
    assert.throws(() => verifyConsistency(5, 5, [], r, roots.get(4)!), mismatch);
    verifyConsistency(5, 5, [], r, Buffer.from(r));
  });
});
