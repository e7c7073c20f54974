/**
 * Hashes of perfect subtrees inside one tile. Serving an inclusion proof needs, per tile level,
 * the siblings at up to 8 heights inside one tile: about 250 node hashes, which dominates the
 * cost of a proof. Tile buffers are immutable once handed out (a growing right-edge tile is a new
 * Buffer each time), so a tile's interior layers are computed once per buffer and kept in a
 * WeakMap for as long as the buffer lives: the service's TileStore holds full tiles and the
 * current right edge, so every receipt of a batch shares one computation, partial tiles included.
 *
 * Precondition for callers of TileReader: a tile buffer, once returned, is never mutated.
 */
import { HASH_SIZE, nodeHash } from './hash';

/** layers[k] holds the floor(width / 2^k) complete nodes of height k (layers[0] is the tile). */
const layersByTile = new WeakMap<Uint8Array, Uint8Array[]>();

function layersOf(tile: Uint8Array): Uint8Array[] {
  const hit = layersByTile.get(tile);
  if (hit) return hit;
  const layers: Uint8Array[] = [tile];
  let below = tile;
  for (let n = Math.floor(tile.length / HASH_SIZE / 2); n >= 1; n = Math.floor(n / 2)) {
    const layer = Buffer.allocUnsafe(n * HASH_SIZE);
    for (let i = 0; i < n; i++) {
      const l = 2 * i * HASH_SIZE;
      layer.set(nodeHash(below.subarray(l, l + HASH_SIZE), below.subarray(l + HASH_SIZE, l + 2 * HASH_SIZE)), i * HASH_SIZE);
    }
    layers.push(layer);
    below = layer;
  }
  layersByTile.set(tile, layers);
  return layers;
}

/**
 * Hash of the perfect subtree over hashes [offset, offset + count) of `tile`.
 * Preconditions: count is a power of two <= 256, offset is a multiple of count, and the tile holds
 * at least offset + count hashes (checked by the caller).
 */
export function subtreeInTile(tile: Uint8Array, offset: number, count: number): Buffer {
  if (count === 1) return Buffer.from(tile.subarray(offset * HASH_SIZE, (offset + 1) * HASH_SIZE));
  const layer = layersOf(tile)[Math.log2(count)];
  const node = offset / count;
  return Buffer.from(layer.subarray(node * HASH_SIZE, (node + 1) * HASH_SIZE));
}

/**
 * Computes a full tile's interior hashes now (about 255 node hashes), so that the first proof
 * through it costs no more than the next one. The service's tile store calls it for every full
 * tile it caches, which keeps inclusion-proof latency flat over cold parts of a large log.
 */
export function warmTileHashes(tile: Uint8Array): void {
  layersOf(tile);
}
