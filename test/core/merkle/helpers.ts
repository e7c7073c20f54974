import { emptyRoot, leafHash, MemoryTiles, nodeHash, TreeState } from '../../../src/core/merkle';

/** Deterministic, distinct leaf hashes: leaf i is SHA-256(0x00 || "leaf-<i>"). */
export function makeLeaves(n: number, from = 0): Buffer[] {
  const out: Buffer[] = [];
  for (let i = from; i < from + n; i++) out.push(leafHash(Buffer.from(`leaf-${i}`)));
  return out;
}

/** A tree of `leaves` written to memory tiles in batches of `batch`. */
export function buildTiles(leaves: Buffer[], batch = 1000): { state: TreeState; tiles: MemoryTiles } {
  const state = TreeState.empty();
  const tiles = new MemoryTiles();
  for (let i = 0; i < leaves.length; i += batch) tiles.put(state.append(leaves.slice(i, i + batch)).tiles);
  return { state, tiles };
}

/** Copies `b` with bit `bitIndex` flipped. */
export function flipBit(b: Uint8Array, bitIndex: number): Buffer {
  const c = Buffer.from(b);
  c[bitIndex >> 3] ^= 1 << (bitIndex & 7);
  return c;
}

export function hex(bs: readonly Uint8Array[]): string[] {
  return bs.map((b) => Buffer.from(b).toString('hex'));
}

/**
 * Roots of several prefixes in one left-to-right pass (a compact range written out here, so it
 * stays independent of the code under test).
 */
export function prefixRoots(leaves: readonly Buffer[], sizes: Iterable<number>): Map<number, Buffer> {
  const want = new Set(sizes);
  const out = new Map<number, Buffer>();
  if (want.has(0)) out.set(0, emptyRoot());
  const stack: { h: Buffer; n: number }[] = [];
  leaves.forEach((l, i) => {
    let node = { h: l, n: 1 };
    while (stack.length > 0 && stack[stack.length - 1].n === node.n) {
      const left = stack.pop()!;
      node = { h: nodeHash(left.h, node.h), n: 2 * node.n };
    }
    stack.push(node);
    if (want.has(i + 1)) {
      let acc = stack[stack.length - 1].h;
      for (let k = stack.length - 2; k >= 0; k--) acc = nodeHash(stack[k].h, acc);
      out.set(i + 1, acc);
    }
  });
  return out;
}
