import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  consistencyProofFromTiles,
  consistencyProofRef,
  inclusionProofFromTiles,
  inclusionProofRef,
  MemoryTiles,
  rootFromTiles,
  rootOfLeaves,
  TILE_WIDTH,
  tileWidthAt,
  verifyConsistency,
  verifyInclusion,
  type TileReader,
} from '../../../src/core/merkle';
import { buildTiles, hex, makeLeaves, prefixRoots } from './helpers';

/** A few indices worth probing in a tree of n: both ends, the middle, the first tile's edge. */
function probes(n: number): number[] {
  return [...new Set([0, n - 1, n >> 1, 255].filter((i) => i >= 0 && i < n))];
}

function snapshot(t: MemoryTiles): MemoryTiles {
  const c = new MemoryTiles();
  for (const [k, v] of t.tiles) c.tiles.set(k, v);
  return c;
}

describe('proofs from tiles equal the reference proofs', () => {
  const N = 600;
  const leaves = makeLeaves(N);

  it(`every size 1..${N}, with exact-width tiles and with the wider tiles of size ${N}`, async () => {
    const { state, tiles } = buildTiles([], 1);
    const roots = prefixRoots(leaves, Array.from({ length: N + 1 }, (_, i) => i));
    const refs: { incl: Map<number, string[]>; cons: Map<number, string[]> }[] = [];
    // Pass 1: tiles exactly as wide as size n implies (the sequencer's view right after n).
    // Two proofs of each kind per size are compared with the reference byte for byte (it is
    // O(n) per proof); the rest are verified against the independently computed root, which
    // pins them down just as well short of a SHA-256 collision.
    for (let n = 1; n <= N; n++) {
      tiles.put(state.append([leaves[n - 1]]).tiles);
      const root = roots.get(n)!;
      assert.deepEqual(await rootFromTiles(n, tiles), root, `root ${n}`);
      const incl = new Map<number, string[]>();
      const cons = new Map<number, string[]>();
      for (const i of probes(n)) {
        const calls = tiles.calls;
        const proof = await inclusionProofFromTiles(i, n, tiles);
        assert.ok(tiles.calls - calls <= 1, 'at most one getTiles call per proof');
        if (i === n - 1 || i === n >> 1) assert.deepEqual(hex(proof), hex(inclusionProofRef(i, leaves.slice(0, n))), `inclusion ${i}/${n}`);
        verifyInclusion(i, n, leaves[i], proof, root);
        incl.set(i, hex(proof));
      }
      for (const m of probes(n + 1).filter((m) => m > 0)) {
        const proof = await consistencyProofFromTiles(m, n, tiles);
        if (m === n - 1 || m === n >> 1) assert.deepEqual(hex(proof), hex(consistencyProofRef(m, leaves.slice(0, n))), `consistency ${m}→${n}`);
        verifyConsistency(m, n, proof, roots.get(m)!, root);
        cons.set(m, hex(proof));
      }
      refs[n] = { incl, cons };
    }
    // Pass 2: the same proofs served from tiles written for the largest size (prefixes only).
    for (let n = 1; n <= N; n++) {
      assert.deepEqual(await rootFromTiles(n, tiles), roots.get(n), `root ${n} (wide tiles)`);
      for (const [i, want] of refs[n].incl) assert.deepEqual(hex(await inclusionProofFromTiles(i, n, tiles)), want);
      for (const [m, want] of refs[n].cons) assert.deepEqual(hex(await consistencyProofFromTiles(m, n, tiles)), want);
    }
  });

  it('sizes around the 65,536 boundary (level-2 tiles appear)', async () => {
    const sizes = [65535, 65536, 65537, 65536 + 255, 65536 + 256, 65536 + 257, 66000];
    const leaves = makeLeaves(66000);
    const { state, tiles } = buildTiles([], 1);
    const exact = new Map<number, MemoryTiles>();
    let done = 0;
    for (const s of sizes) {
      tiles.put(state.append(leaves.slice(done, s)).tiles);
      done = s;
      exact.set(s, snapshot(tiles));
    }
    const extra = [1, 256, 4097, 65535];
    const roots = prefixRoots(leaves, [...sizes, ...extra, ...sizes.map((s) => s - 1)]);
    assert.deepEqual(roots.get(66000), rootOfLeaves(leaves));
    for (const n of sizes) {
      for (const [label, r] of [['exact', exact.get(n)!], ['wide', tiles]] as const) {
        assert.deepEqual(await rootFromTiles(n, r), roots.get(n), `root ${n} ${label}`);
        for (const i of [...probes(n), 256, n - 257, 65535, 65536, 40000].filter((i) => i < n)) {
          // A proof that verifies against the independently computed root is the proof (anything
          // else would be a SHA-256 collision).
          verifyInclusion(i, n, leaves[i], await inclusionProofFromTiles(i, n, r), roots.get(n)!);
        }
        for (const m of sizes.filter((m) => m <= n)) {
          verifyConsistency(m, n, await consistencyProofFromTiles(m, n, r), roots.get(m)!, roots.get(n)!);
        }
        for (const m of [...extra, n - 1]) {
          verifyConsistency(m, n, await consistencyProofFromTiles(m, n, r), roots.get(m)!, roots.get(n)!);
        }
      }
    }
    // And one full comparison with the reference at the boundary.
    const d = leaves.slice(0, 65537);
    assert.deepEqual(hex(await inclusionProofFromTiles(65536, 65537, tiles)), hex(inclusionProofRef(65536, d)));
    assert.deepEqual(hex(await consistencyProofFromTiles(65535, 65537, tiles)), hex(consistencyProofRef(65535, d)));
  });
});

describe('tile reads are checked', () => {
  const leaves = makeLeaves(700);
  const { tiles } = buildTiles(leaves);

  function reader(f: (keys: { level: number; index: number }[], real: (Uint8Array | undefined)[]) => unknown[]): TileReader {
    return { getTiles: async (keys) => f(keys, await tiles.getTiles(keys)) as (Uint8Array | undefined)[] };
  }

  it('missing, narrow, malformed and miscounted answers are LedgerErrors', async () => {
    await assert.rejects(inclusionProofFromTiles(3, 700, reader((k) => k.map(() => undefined))), { code: 'MISSING_TILE' });
    await assert.rejects(inclusionProofFromTiles(3, 700, reader((_k, t) => t.map((x) => x!.subarray(0, 32)))), { code: 'MISSING_TILE' });
    await assert.rejects(inclusionProofFromTiles(3, 700, reader((_k, t) => t.map((x) => x!.subarray(0, 33)))), { code: 'BAD_TILE' });
    await assert.rejects(inclusionProofFromTiles(3, 700, reader((_k, t) => t.map(() => Buffer.alloc(TILE_WIDTH * 32 + 32)))), { code: 'BAD_TILE' });
    await assert.rejects(inclusionProofFromTiles(3, 700, reader((_k, t) => t.map(() => 'x'))), { code: 'BAD_TILE' });
    await assert.rejects(inclusionProofFromTiles(3, 700, reader((_k, t) => t.slice(1))), { code: 'BAD_TILE' });
    await assert.rejects(rootFromTiles(701, tiles), { code: 'MISSING_TILE' });
  });

  it('rejects bad sizes and indices before reading', async () => {
    const none = reader(() => assert.fail('must not read'));
    await assert.rejects(inclusionProofFromTiles(700, 700, none), { code: 'INDEX_OUT_OF_RANGE' });
    await assert.rejects(inclusionProofFromTiles(-1, 700, none), { code: 'INVALID_SIZE' });
    await assert.rejects(inclusionProofFromTiles(0.5, 700, none), { code: 'INVALID_SIZE' });
    await assert.rejects(inclusionProofFromTiles(0, 2 ** 53, none), { code: 'INVALID_SIZE' });
    await assert.rejects(consistencyProofFromTiles(5, 4, none), { code: 'INVALID_SIZE' });
    assert.deepEqual(await consistencyProofFromTiles(0, 700, none), []);
    assert.deepEqual(await consistencyProofFromTiles(700, 700, none), []);
    assert.deepEqual(await rootFromTiles(0, none), rootOfLeaves([]));
  });

  it('tileWidthAt follows the tree size', () => {
    assert.equal(tileWidthAt(0, 0, 700), 256);
    assert.equal(tileWidthAt(0, 2, 700), 188);
    assert.equal(tileWidthAt(0, 3, 700), 0);
    assert.equal(tileWidthAt(1, 0, 700), 2);
    assert.equal(tileWidthAt(2, 0, 700), 0);
    assert.equal(tileWidthAt(2, 0, 65536), 1);
  });
});
