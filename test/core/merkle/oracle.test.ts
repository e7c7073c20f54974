import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { MerkleTree } from 'merkletreejs';
import { inclusionProofFromTiles, rootOfLeaves } from '../../../src/core/merkle';
import { buildTiles, hex, makeLeaves } from './helpers';

const sha256 = (d: Buffer) => createHash('sha256').update(d).digest();

/**
 * merkletreejs is an independent implementation. With leaves pre-hashed as RFC 9162 leaf hashes,
 * a 0x01-prefixing concatenator and its defaults (no duplicateOdd, no sorting: a lone node is
 * carried up a layer unhashed) it builds exactly the RFC 9162 tree.
 */
function oracle(leaves: Buffer[]): MerkleTree {
  return new MerkleTree(leaves, sha256, { concatenator: (bufs: Buffer[]) => Buffer.concat([Buffer.from([1]), ...bufs]) });
}

describe('merkletreejs as an oracle', () => {
  const all = makeLeaves(5000);
  for (const n of [1, 2, 3, 7, 255, 256, 257, 1023, 3001, 5000]) {
    it(`size ${n}: roots and inclusion proofs agree`, async () => {
      const leaves = all.slice(0, n);
      const tree = oracle(leaves);
      assert.deepEqual(rootOfLeaves(leaves), tree.getRoot());
      const { tiles } = buildTiles(leaves, 777);
      for (const i of new Set([0, 1, n >> 1, n - 2, n - 1].filter((i) => i >= 0 && i < n))) {
        const theirs = tree.getProof(leaves[i], i).map((p) => p.data);
        assert.deepEqual(hex(await inclusionProofFromTiles(i, n, tiles)), hex(theirs), `leaf ${i}`);
      }
    });
  }
});
