import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { emptyRoot, MemoryTiles, nodeHash, rootOfLeaves, TILE_WIDTH, TreeState, type TileWrite } from '../../../src/core/merkle';
import { makeLeaves, prefixRoots } from './helpers';

/** Appends `leaves` in the given batch sizes; returns the root after each batch and all writes. */
function appendInBatches(state: TreeState, leaves: Buffer[], batches: number[], tiles = new MemoryTiles()) {
  const roots: [number, Buffer][] = [];
  const writes: TileWrite[][] = [];
  let done = state.size;
  for (const b of batches) {
    const res = state.append(leaves.slice(done, done + b));
    done += b;
    assert.equal(res.size, done);
    assert.equal(state.size, done);
    assert.deepEqual(res.root, state.root());
    tiles.put(res.tiles);
    roots.push([done, res.root]);
    writes.push(res.tiles);
  }
  return { roots, writes, tiles };
}

describe('TreeState', () => {
  const leaves = makeLeaves(70_000);

  it('starts empty', () => {
    const s = TreeState.empty();
    assert.equal(s.size, 0);
    assert.deepEqual(s.root(), emptyRoot());
    const res = s.append([]);
    assert.deepEqual(res, { size: 0, root: emptyRoot(), tiles: [] });
  });

  it('appending in random batches gives the roots of the reference', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 12 }), (batches) => {
        const { roots } = appendInBatches(TreeState.empty(), leaves, batches);
        const want = prefixRoots(leaves.slice(0, roots[roots.length - 1][0]), roots.map(([n]) => n));
        for (const [n, root] of roots) assert.deepEqual(root, want.get(n), `size ${n}`);
      }),
      { numRuns: 60 },
    );
  });

  it('writes the tiles C2SP defines: leaf hashes at level 0, full-tile roots one level up', () => {
    const { tiles, writes } = appendInBatches(TreeState.empty(), leaves, [1, 255, 1, 300, 2000, 65536 - 2557, 5]);
    // Level 0: every tile is the run of leaf hashes it covers.
    for (let i = 0; i * TILE_WIDTH < 65541; i++) {
      const want = Buffer.concat(leaves.slice(i * TILE_WIDTH, Math.min((i + 1) * TILE_WIDTH, 65541)));
      assert.deepEqual(tiles.tiles.get(`0/${i}`), want, `tile 0/${i}`);
    }
    // Level 1 holds the roots of full level-0 tiles; level 2 the root of the first 65,536 leaves.
    const l1 = tiles.tiles.get('1/0')!;
    assert.equal(l1.length, 256 * 32);
    assert.deepEqual(l1.subarray(32 * 7, 32 * 8), rootOfLeaves(leaves.slice(7 * 256, 8 * 256)));
    assert.deepEqual(tiles.tiles.get('2/0'), rootOfLeaves(leaves.slice(0, 65536)));
    assert.equal(tiles.tiles.size, 257 + 1 + 1);
    // One write per (level, index) per batch, partial widths matching the size.
    for (const w of writes) assert.equal(new Set(w.map((t) => `${t.level}/${t.index}`)).size, w.length);
    assert.deepEqual(
      writes[0].map((t) => [t.level, t.index, t.data.length / 32]),
      [[0, 0, 1]],
    );
    assert.deepEqual(
      writes[1].map((t) => [t.level, t.index, t.data.length / 32]),
      [[0, 0, 256], [1, 0, 1]],
    );
    assert.deepEqual(
      writes[2].map((t) => [t.level, t.index, t.data.length / 32]),
      [[0, 1, 1]],
    );
  });

  it('load(size) from stored tiles, then appending, continues the same tree', async () => {
    const batches = [3, 250, 700, 1, 4000, 60000];
    const straight = appendInBatches(TreeState.empty(), leaves, batches);
    // Tiles stored at the final size are wider than every intermediate size needs.
    for (const [k, [size, root]] of straight.roots.entries()) {
      const calls = straight.tiles.calls;
      const loaded = await TreeState.load(size, straight.tiles);
      assert.equal(straight.tiles.calls - calls, 1, 'load reads all right-edge tiles in one call');
      assert.equal(loaded.size, size);
      assert.deepEqual(loaded.root(), root);
      const rest = batches.slice(k + 1);
      const cont = appendInBatches(loaded, leaves, rest);
      assert.deepEqual(cont.roots, straight.roots.slice(k + 1));
      // The same tiles are written as without the reload.
      const show = (ws: TileWrite[][]) => ws.map((w) => w.map((t) => `${t.level}/${t.index}:${t.data.toString('hex')}`));
      assert.deepEqual(show(cont.writes), show(straight.writes.slice(k + 1)));
    }
    assert.deepEqual((await TreeState.load(0, straight.tiles)).root(), emptyRoot());
  });

  it('load fails loudly when storage cannot back the size', async () => {
    const { tiles } = appendInBatches(TreeState.empty(), leaves, [300]);
    await assert.rejects(TreeState.load(301, tiles), { code: 'MISSING_TILE' });
    await assert.rejects(TreeState.load(256 * 256, tiles), { code: 'MISSING_TILE' });
    await assert.rejects(TreeState.load(-1, tiles), { code: 'INVALID_SIZE' });
    const bad = new MemoryTiles();
    bad.tiles.set('0/1', Buffer.alloc(33));
    bad.tiles.set('1/0', Buffer.alloc(32));
    await assert.rejects(TreeState.load(257, bad), { code: 'BAD_TILE' });
  });

  it('append validates everything before mutating; clone is independent', () => {
    const s = TreeState.empty();
    s.append(leaves.slice(0, 10));
    const root = s.root();
    assert.throws(() => s.append([leaves[10], Buffer.alloc(31)]), { code: 'INVALID_HASH_SIZE' });
    assert.throws(() => s.append([leaves[10], 'x' as unknown as Buffer]), { code: 'INVALID_HASH_SIZE' });
    assert.equal(s.size, 10);
    assert.deepEqual(s.root(), root);
    const c = s.clone();
    c.append(leaves.slice(10, 600));
    assert.equal(s.size, 10);
    assert.deepEqual(s.root(), root);
    assert.deepEqual(s.append(leaves.slice(10, 600)).root, c.root());
    // Mutating a caller's buffer after append cannot corrupt the tree.
    const mine = Buffer.from(leaves[600]);
    s.append([mine]);
    mine.fill(0);
    assert.deepEqual(s.root(), rootOfLeaves(leaves.slice(0, 601)));
  });

  it('root folds the right edge across tile levels', () => {
    const s = TreeState.empty();
    s.append(leaves.slice(0, 256 + 3));
    const want = nodeHash(rootOfLeaves(leaves.slice(0, 256)), rootOfLeaves(leaves.slice(256, 259)));
    assert.deepEqual(s.root(), want);
  });
});
