/**
 * Hashes of perfect subtrees inside one tile. Serving an inclusion proof needs, per tile level,
 * the siblings at 8 heights inside one tile: about 250 node hashes, which dominates the cost of
 * a proof. Full tiles never change, so their interior layers are computed once and memoised in a
 * small LRU keyed by the tile buffer's identity (readers such as the service's TileStore hand out
 * the same Buffer for a cached full tile). Partial tiles are always recomputed.
 *
 * Precondition for callers of TileReader: a full tile buffer, once returned, is never mutated.
 */
import { HASH_SIZE, nodeHash } from './hash';

const TILE_WIDTH = 256;
const TILE_BYTES = TILE_WIDTH * HASH_SIZE;
/** 4,096 tiles × (8 KiB layers + the 8 KiB tile kept alive) ≈ 64 MiB at most. */
const MAX_CACHED = 4096;

const layersByTile = new Map<Uint8Array, Buffer>();

/**
 * Interior layers 1..8 of a full tile, concatenated: layer k (2^(8-k) nodes) starts at node
 * 256 - 2^(9-k).
 */
function layersOf(tile: Uint8Array): Buffer {
  const hit = layersByTile.get(tile);
  if (hit) {
    // Refresh recency: Map iteration order is insertion order.
    layersByTile.delete(tile);
    layersByTile.set(tile, hit);
    return hit;
  }
  const out = Buffer.allocUnsafe(TILE_BYTES - HASH_SIZE);
  let src: Uint8Array = tile;
  let srcStart = 0;
  let dst = 0;
  for (let width = TILE_WIDTH; width > 1; width /= 2) {
    const layerStart = dst;
    for (let i = 0; i < width; i += 2) {
      const l = srcStart + i * HASH_SIZE;
      out.set(nodeHash(src.subarray(l, l + HASH_SIZE), src.subarray(l + HASH_SIZE, l + 2 * HASH_SIZE)), dst);
      dst += HASH_SIZE;
    }
    src = out;
    srcStart = layerStart;
  }
  if (layersByTile.size >= MAX_CACHED) layersByTile.delete(layersByTile.keys().next().value as Uint8Array);
  layersByTile.set(tile, out);
  return out;
}

/**
 * Hash of the perfect subtree over hashes [offset, offset + count) of `tile`.
 * Preconditions: count is a power of two <= 256, offset is a multiple of count, and the tile holds
 * at least offset + count hashes (checked by the caller).
 */
export function subtreeInTile(tile: Uint8Array, offset: number, count: number): Buffer {
  if (count === 1) return Buffer.from(tile.subarray(offset * HASH_SIZE, (offset + 1) * HASH_SIZE));
  if (tile.length === TILE_BYTES) {
    const k = Math.log2(count);
    const node = TILE_WIDTH - 2 ** (9 - k) + offset / count;
    return Buffer.from(layersOf(tile).subarray(node * HASH_SIZE, (node + 1) * HASH_SIZE));
  }
  const layer: Uint8Array[] = [];
  for (let i = offset; i < offset + count; i++) layer.push(tile.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  for (let w = count; w > 1; w /= 2) {
    for (let i = 0; i < w / 2; i++) layer[i] = nodeHash(layer[2 * i], layer[2 * i + 1]);
  }
  return Buffer.from(layer[0]);
}
