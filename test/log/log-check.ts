import assert from 'node:assert/strict';
import { consistencyProofFromTiles, inclusionProofFromTiles, leafHash, nodeHash, verifyConsistency, verifyInclusion } from '../../src/core/merkle';
import type { Queryable } from '../../src/db/db';
import { TileStore } from '../../src/log/tile.store';

/**
 * Re-verifies a whole stored log from the database alone: indices contiguous, every stored
 * checkpoint's root equals the root recomputed from the stored entries, every checkpoint
 * consistent with the others (via tile-served consistency proofs for sampled pairs), and sampled
 * inclusion proofs served from tiles verify. Returns the tree size.
 */
export async function verifyStoredLog(q: Queryable, samples = 50): Promise<number> {
  const { rows: leaves } = await q.query<{ idx: string; entry_hash: Buffer; statement: Buffer }>(
    'SELECT l.idx, l.entry_hash, e.statement FROM log_leaves l JOIN entries e USING (entry_hash) ORDER BY l.idx',
  );
  leaves.forEach((r, i) => assert.equal(Number(r.idx), i, `index ${i} missing or duplicated`));
  const { rows: cps } = await q.query<{ tree_size: string; root: Buffer }>('SELECT tree_size, root FROM checkpoints ORDER BY tree_size');
  const wanted = new Map(cps.map((c) => [Number(c.tree_size), c.root]));
  // Incremental roots with a compact range: root of every prefix size in one pass.
  const stack: { h: Buffer; size: number }[] = [];
  const rootNow = () => {
    let acc = stack[stack.length - 1].h;
    for (let i = stack.length - 2; i >= 0; i--) acc = nodeHash(stack[i].h, acc);
    return acc;
  };
  let checked = 0;
  if (wanted.has(0)) checked++;
  leaves.forEach((r, i) => {
    const { createHash } = require('node:crypto') as typeof import('node:crypto');
    assert.deepEqual(createHash('sha256').update(r.statement).digest(), r.entry_hash, `entry ${i}: statement bytes do not hash to the entry`);
    let node = { h: leafHash(r.entry_hash), size: 1 };
    while (stack.length > 0 && stack[stack.length - 1].size === node.size) {
      const left = stack.pop()!;
      node = { h: nodeHash(left.h, node.h), size: left.size * 2 };
    }
    stack.push(node);
    const want = wanted.get(i + 1);
    if (want) {
      assert.deepEqual(rootNow(), want, `checkpoint at size ${i + 1} does not match the entries`);
      checked++;
    }
  });
  assert.equal(checked, cps.length, 'a checkpoint is larger than the stored log');
  const tiles = new TileStore();
  const sizes = cps.map((c) => Number(c.tree_size)).filter((s) => s > 0);
  for (let k = 0; k < Math.min(samples, sizes.length); k++) {
    const a = sizes[Math.floor(Math.random() * sizes.length)];
    const b = sizes[Math.floor(Math.random() * sizes.length)];
    const [m, n] = a <= b ? [a, b] : [b, a];
    const proof = await consistencyProofFromTiles(m, n, tiles.reader(q, n));
    verifyConsistency(m, n, proof, wanted.get(m)!, wanted.get(n)!);
    const idx = Math.floor(Math.random() * n);
    const path = await inclusionProofFromTiles(idx, n, tiles.reader(q, n));
    verifyInclusion(idx, n, leafHash(leaves[idx].entry_hash), path, wanted.get(n)!);
  }
  return leaves.length;
}
