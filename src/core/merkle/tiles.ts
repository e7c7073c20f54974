/**
 * Proofs and roots over C2SP tlog-tiles storage (tile height 8).
 *
 * Storage model: tile (L, N) holds the hashes of the tree nodes at height 8·L with node indices
 * 256·N .. 256·N + width - 1, 32 bytes each; level-0 tiles hold leaf hashes. Only complete nodes
 * are stored, and tiles only grow by appending, so a tile written for a larger tree is valid for
 * a smaller one: every function here reads just the prefix it needs.
 *
 * Each proof element is the hash of a range of leaves [begin, end). A range that is a complete
 * subtree is one node; a range on the right edge of the tree (the "ephemeral" node RFC 9162
 * promotes without pairing) is split into perfect subtrees and folded right to left. Every node
 * with a height that is not a multiple of 8 is recomputed from the tile below it (at most 128
 * hashes). All tiles a proof needs are fetched with a single getTiles call.
 */
import { bit, bitLen, shr, trailingZeros } from './bits';
import { merkleError } from './errors';
import { emptyRoot, HASH_SIZE, nodeHash } from './hash';
import { subtreeInTile } from './tile-hashes';
import { checkTreeSize, decompInclProof } from './verify';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** Bytes in a full tile. */
export const TILE_BYTES = TILE_WIDTH * HASH_SIZE;

export interface TileKey {
  level: number;
  index: number;
}

/**
 * Batched tile reads. Answers one entry per key, in order: the tile's bytes (any width at least
 * as wide as the caller's tree size implies; wider is fine) or undefined when absent.
 * A full tile's buffer must never be mutated once returned: its interior hashes are memoised by
 * buffer identity (see tile-hashes.ts).
 */
export interface TileReader {
  getTiles(keys: TileKey[]): Promise<(Uint8Array | undefined)[]>;
}

/** A perfect subtree: 2^height leaves starting at leaf index·2^height. */
export interface NodeId {
  height: number;
  index: number;
}

/** Leaves [begin, end). */
export type LeafRange = readonly [begin: number, end: number];

/**
 * Splits [begin, end) into maximal perfect subtrees, left to right. For the ranges used here
 * (begin aligned to a power of two at least end - begin, or begin = 0) folding their hashes
 * right to left gives RFC 9162's MTH of the range.
 */
export function rangeNodes(begin: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  while (begin < end) {
    // Largest power of two that both divides begin (alignment) and fits in what is left.
    let height = bitLen(end - begin) - 1;
    if (begin > 0) height = Math.min(height, trailingZeros(begin));
    const size = 2 ** height;
    out.push({ height, index: begin / size });
    begin += size;
  }
  return out;
}

/**
 * The leaf ranges whose hashes form the inclusion path of node `index` at height `fromHeight`
 * (a leaf when 0) in a tree of `size` leaves, bottom-up: first the siblings below the point
 * where the path meets the right border (the last of them may be an incomplete right subtree),
 * then the left siblings along the border. Preconditions: the node is complete in the tree.
 */
function pathRanges(leafIndex: number, size: number, fromHeight: number): LeafRange[] {
  const { inner } = decompInclProof(leafIndex, size);
  const out: LeafRange[] = [];
  for (let h = fromHeight; h < inner; h++) {
    const begin = (shr(leafIndex, h) + (bit(leafIndex, h) === 0 ? 1 : -1)) * 2 ** h;
    out.push([begin, Math.min(begin + 2 ** h, size)]);
  }
  for (let h = inner; shr(leafIndex, h) > 0; h++) {
    if (bit(leafIndex, h) === 1) {
      const begin = (shr(leafIndex, h) - 1) * 2 ** h;
      out.push([begin, begin + 2 ** h]);
    }
  }
  return out;
}

/** Where a complete node's hash lives: the tile below it and the span of hashes to combine. */
function locate(n: NodeId): { key: TileKey; offset: number; count: number } {
  const level = Math.floor(n.height / TILE_HEIGHT);
  const count = 2 ** (n.height % TILE_HEIGHT);
  const first = n.index * count; // index of the first covered node at height 8·level
  const tile = Math.floor(first / TILE_WIDTH);
  return { key: { level, index: tile }, offset: first - tile * TILE_WIDTH, count };
}

/**
 * Reads every tile the given ranges need in one getTiles call and returns each range's hash.
 * Tile bytes may come from the network (an auditor reading a remote log), so every answer is
 * checked for shape and width before use.
 */
export async function hashRanges(ranges: readonly LeafRange[], r: TileReader): Promise<Buffer[]> {
  const perRange = ranges.map(([b, e]) => rangeNodes(b, e).map(locate));
  const keys: TileKey[] = [];
  const slot = new Map<string, number>();
  const need: number[] = [];
  for (const locs of perRange) {
    for (const l of locs) {
      const id = `${l.key.level}/${l.key.index}`;
      let i = slot.get(id);
      if (i === undefined) {
        i = keys.length;
        slot.set(id, i);
        keys.push(l.key);
        need.push(0);
      }
      need[i] = Math.max(need[i], (l.offset + l.count) * HASH_SIZE);
    }
  }
  const tiles = keys.length === 0 ? [] : await r.getTiles(keys);
  if (!Array.isArray(tiles) || tiles.length !== keys.length) {
    throw merkleError('BAD_TILE', `tile reader answered ${Array.isArray(tiles) ? tiles.length : typeof tiles} tiles for ${keys.length} keys`);
  }
  tiles.forEach((t, i) => checkTile(keys[i], t, need[i]));
  return perRange.map((locs) => {
    const hashes = locs.map((l) => subtreeInTile(tiles[slot.get(`${l.key.level}/${l.key.index}`)!]!, l.offset, l.count));
    let acc = hashes[hashes.length - 1];
    for (let k = hashes.length - 2; k >= 0; k--) acc = nodeHash(hashes[k], acc);
    return acc;
  });
}

/** Throws unless `t` is a well-formed tile at least `needBytes` long. */
export function checkTile(key: TileKey, t: unknown, needBytes: number): asserts t is Uint8Array {
  if (t === undefined || t === null) {
    throw merkleError('MISSING_TILE', `tile ${key.level}/${key.index} is missing`, { ...key });
  }
  if (!(t instanceof Uint8Array) || t.length % HASH_SIZE !== 0 || t.length > TILE_BYTES || t.length === 0) {
    throw merkleError('BAD_TILE', `tile ${key.level}/${key.index} is malformed`, { ...key, bytes: t instanceof Uint8Array ? t.length : typeof t });
  }
  if (t.length < needBytes) {
    throw merkleError('MISSING_TILE', `tile ${key.level}/${key.index} holds ${t.length / HASH_SIZE} hashes, need ${needBytes / HASH_SIZE}`, {
      ...key,
      have: t.length / HASH_SIZE,
      need: needBytes / HASH_SIZE,
    });
  }
}

/** RFC 9162 inclusion proof for leaf `index` in the tree of `size`. Precondition: index < size. */
export async function inclusionProofFromTiles(index: number, size: number, r: TileReader): Promise<Buffer[]> {
  checkTreeSize('index', index);
  checkTreeSize('size', size);
  if (index >= size) throw merkleError('INDEX_OUT_OF_RANGE', `index ${index} is beyond tree size ${size}`, { index, size });
  return hashRanges(pathRanges(index, size, 0), r);
}

/**
 * RFC 9162 consistency proof from the tree of size1 to the tree of size2. Empty when size1 is 0
 * or equal to size2 (nothing to prove). Precondition: size1 <= size2.
 */
export async function consistencyProofFromTiles(size1: number, size2: number, r: TileReader): Promise<Buffer[]> {
  checkTreeSize('size1', size1);
  checkTreeSize('size2', size2);
  if (size1 > size2) throw merkleError('INVALID_SIZE', `size1 (${size1}) > size2 (${size2})`, { size1, size2 });
  if (size1 === 0 || size1 === size2) return [];
  // The proof is the path of the largest perfect subtree ending at size1, preceded by that
  // subtree's own hash unless it is the whole old tree (size1 a power of two: the verifier has it).
  const shift = trailingZeros(size1);
  const ranges = pathRanges(size1 - 1, size2, shift);
  if (size1 !== 2 ** shift) ranges.unshift([size1 - 2 ** shift, size1]);
  return hashRanges(ranges, r);
}

/** MTH of the first `size` leaves, from the right-edge tiles. */
export async function rootFromTiles(size: number, r: TileReader): Promise<Buffer> {
  checkTreeSize('size', size);
  if (size === 0) return emptyRoot();
  const [root] = await hashRanges([[0, size]], r);
  return root;
}

/**
 * The tile width a tree of `size` leaves implies for tile (level, index): 0 when the tile does
 * not exist yet, TILE_WIDTH when it is full.
 */
export function tileWidthAt(level: number, index: number, size: number): number {
  const nodes = Math.floor(size / 2 ** (TILE_HEIGHT * level));
  return Math.max(0, Math.min(TILE_WIDTH, nodes - index * TILE_WIDTH));
}
