/**
 * The sequencer's in-memory view of the tree: its size and, per tile level, the right-edge
 * partial tile (at most 255 hashes, under 8 KiB) plus that tile's compact range. That is all it
 * takes to append leaves and to compute the root, because the root only depends on the tree's
 * right edge. Each appended hash costs one node hash amortised: interior nodes of a tile are
 * merged into the compact range as the tile fills, never recomputed from the whole tile.
 */
import { merkleError } from './errors';
import { emptyRoot, HASH_SIZE, nodeHash } from './hash';
import { checkTile, TILE_HEIGHT, TILE_WIDTH, type TileReader } from './tiles';
import { checkTreeSize } from './verify';

/** A tile whose content changed, ready to be stored under (level, index). */
export interface TileWrite {
  level: number;
  index: number;
  data: Buffer;
}

export interface AppendResult {
  size: number;
  root: Buffer;
  /** Tiles that became full, then the new right-edge partial tiles, at most one per (level, index). */
  tiles: TileWrite[];
}

class Level {
  constructor(
    /** Index of this level's right-edge (partial) tile. */
    public tileIndex: number,
    /** Hashes in that tile so far (fewer than TILE_WIDTH). */
    public hashes: Buffer[],
    /** Perfect subtrees of those hashes, largest first: the tile's compact range. */
    public stack: Buffer[],
  ) {}

  clone(): Level {
    return new Level(this.tileIndex, this.hashes.slice(), this.stack.slice());
  }

  /** Appends one hash; returns the tile root when this completes the tile. */
  push(h: Buffer): Buffer | undefined {
    // Hash number c closes one perfect subtree per trailing 1 bit of c.
    let node = h;
    for (let c = this.hashes.length; c % 2 === 1; c = (c - 1) / 2) node = nodeHash(this.stack.pop()!, node);
    this.stack.push(node);
    this.hashes.push(h);
    return this.hashes.length === TILE_WIDTH ? this.stack[0] : undefined;
  }
}

export class TreeState {
  private cachedRoot?: Buffer;

  private constructor(
    private treeSize: number,
    private readonly levels: Level[],
  ) {}

  /** The state of the empty tree. */
  static empty(): TreeState {
    return new TreeState(0, []);
  }

  /**
   * Rebuilds the state of the tree of `size` leaves from its right-edge partial tiles, read in
   * one getTiles call. Stored tiles may be wider than `size` implies (written for a later size);
   * only the prefix is used. Throws MISSING_TILE / BAD_TILE when storage cannot back `size`.
   */
  static async load(size: number, r: TileReader): Promise<TreeState> {
    checkTreeSize('size', size);
    const levels: Level[] = [];
    const keys: { level: number; index: number }[] = [];
    const widths: number[] = [];
    for (let level = 0; Math.floor(size / 2 ** (TILE_HEIGHT * level)) >= 1; level++) {
      const nodes = Math.floor(size / 2 ** (TILE_HEIGHT * level));
      const index = Math.floor(nodes / TILE_WIDTH);
      levels.push(new Level(index, [], []));
      const width = nodes % TILE_WIDTH;
      if (width > 0) {
        keys.push({ level, index });
        widths.push(width);
      }
    }
    const tiles = keys.length === 0 ? [] : await r.getTiles(keys);
    if (!Array.isArray(tiles) || tiles.length !== keys.length) {
      throw merkleError('BAD_TILE', `tile reader answered ${Array.isArray(tiles) ? tiles.length : typeof tiles} tiles for ${keys.length} keys`);
    }
    keys.forEach((k, i) => {
      const data = tiles[i];
      checkTile(k, data, widths[i] * HASH_SIZE);
      for (let j = 0; j < widths[i]; j++) {
        // Copy: the reader's buffer may be reused or mutated after we return.
        levels[k.level].push(Buffer.from(data.subarray(j * HASH_SIZE, (j + 1) * HASH_SIZE)));
      }
    });
    return new TreeState(size, levels);
  }

  get size(): number {
    return this.treeSize;
  }

  /** An independent copy: append to it, and drop it if the transaction that stores it fails. */
  clone(): TreeState {
    const c = new TreeState(this.treeSize, this.levels.map((l) => l.clone()));
    c.cachedRoot = this.cachedRoot;
    return c;
  }

  /** MTH of the current tree: the compact ranges of all levels, folded right to left. */
  root(): Buffer {
    if (this.cachedRoot) return this.cachedRoot;
    let acc: Buffer | undefined;
    for (const level of this.levels) {
      for (let k = level.stack.length - 1; k >= 0; k--) acc = acc ? nodeHash(level.stack[k], acc) : level.stack[k];
    }
    this.cachedRoot = acc ?? emptyRoot();
    return this.cachedRoot;
  }

  /**
   * Appends leaf hashes (32 bytes each) in order and returns the new size, root and every tile
   * whose content changed. Mutates this state, but only after all input has been validated, so
   * a throw leaves it untouched; use clone() to keep the previous state until the tiles are stored.
   */
  append(leafHashes: readonly Uint8Array[]): AppendResult {
    if (!Array.isArray(leafHashes)) throw merkleError('INVALID_HASH_SIZE', 'leafHashes must be an array');
    leafHashes.forEach((h, i) => {
      if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
        throw merkleError('INVALID_HASH_SIZE', `leaf hash ${i} must be ${HASH_SIZE} bytes`, { index: i });
      }
    });
    const newSize = this.treeSize + leafHashes.length;
    if (!Number.isSafeInteger(newSize)) throw merkleError('INVALID_SIZE', 'tree size would exceed 2^53 - 1', { size: this.treeSize });

    const tiles: TileWrite[] = [];
    const touched = new Set<number>();
    for (const h of leafHashes) {
      // Copy so later mutation of the caller's buffers cannot corrupt the tree.
      let carry: Buffer | undefined = Buffer.from(h);
      for (let level = 0; carry; level++) {
        if (level === this.levels.length) this.levels.push(new Level(0, [], []));
        const l = this.levels[level];
        touched.add(level);
        const full = l.push(carry);
        carry = undefined;
        if (full) {
          tiles.push({ level, index: l.tileIndex, data: Buffer.concat(l.hashes) });
          l.tileIndex++;
          l.hashes = [];
          l.stack = [];
          carry = full; // the full tile's root is the next hash one level up
        }
      }
    }
    for (const level of [...touched].sort((a, b) => a - b)) {
      const l = this.levels[level];
      if (l.hashes.length > 0) tiles.push({ level, index: l.tileIndex, data: Buffer.concat(l.hashes) });
    }
    this.treeSize = newSize;
    this.cachedRoot = undefined;
    return { size: newSize, root: this.root(), tiles };
  }
}
