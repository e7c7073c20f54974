import type { TileReader } from '../core/merkle';
import { TILE_WIDTH, warmTileHashes } from '../core/merkle';
import type { Queryable } from '../db/db';
import { LogRepository } from './log.repository';

const FULL = TILE_WIDTH * 32;

/**
 * Tiles from PostgreSQL with an in-process cache. Full tiles never change, so they are cached
 * for the life of the process (bounded), with their interior hashes computed as they are cached;
 * partial tiles are cached only as written by this process's sequencer and re-read when a request
 * needs more hashes than the cached copy holds.
 */
export class TileStore {
  private readonly full = new Map<string, Buffer>();
  private readonly partial = new Map<string, Buffer>();

  // A cached full tile holds ~16 KB: its 8 KB of hashes and their ~8 KB of memoised interior nodes.
  constructor(private readonly maxFullTiles = 10000) {}

  /** A reader for proofs at tree size `size` (which tells how wide each partial tile must be). */
  reader(q: Queryable, size?: number): TileReader {
    return {
      getTiles: async (keys) => {
        const out: (Buffer | undefined)[] = new Array(keys.length);
        const missing: number[] = [];
        keys.forEach((k, i) => {
          const id = `${k.level}/${k.index}`;
          const hit = this.full.get(id) ?? this.partial.get(id);
          if (hit && (hit.length === FULL || (size !== undefined && hit.length >= neededBytes(k.level, k.index, size)))) out[i] = hit;
          else missing.push(i);
        });
        if (missing.length > 0) {
          const byId = await LogRepository.readTiles(q, missing.map((i) => keys[i]));
          for (const i of missing) {
            const data = byId.get(`${keys[i].level}/${keys[i].index}`);
            out[i] = data;
            if (data && data.length === FULL) this.remember(keys[i].level, keys[i].index, data);
          }
        }
        return out;
      },
    };
  }

  /** Called by the sequencer after its transaction committed. */
  remember(level: number, index: number, data: Buffer): void {
    const id = `${level}/${index}`;
    if (data.length === FULL) {
      this.partial.delete(id);
      if (this.full.size >= this.maxFullTiles) this.full.delete(this.full.keys().next().value as string);
      this.full.set(id, data);
      warmTileHashes(data);
    } else {
      this.partial.set(id, data);
    }
  }

  clear(): void {
    this.full.clear();
    this.partial.clear();
  }
}

/** Bytes of tile (level, index) that a tree of `size` leaves has complete. */
export function neededBytes(level: number, index: number, size: number): number {
  const nodes = Math.floor(size / 2 ** (8 * level));
  return Math.max(0, Math.min(TILE_WIDTH, nodes - index * TILE_WIDTH)) * 32;
}
