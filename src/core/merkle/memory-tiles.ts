import type { TileKey, TileReader } from './tiles';
import type { TileWrite } from './tree-state';

/**
 * A TileReader over a Map, for tests and tools: stores whatever TreeState.append returns and
 * counts getTiles calls so tests can hold proofs to their batching budget.
 */
export class MemoryTiles implements TileReader {
  readonly tiles = new Map<string, Buffer>();
  /** Number of getTiles calls so far. */
  calls = 0;

  put(writes: readonly TileWrite[]): void {
    for (const t of writes) this.tiles.set(`${t.level}/${t.index}`, t.data);
  }

  async getTiles(keys: TileKey[]): Promise<(Buffer | undefined)[]> {
    this.calls++;
    return keys.map((k) => this.tiles.get(`${k.level}/${k.index}`));
  }
}
