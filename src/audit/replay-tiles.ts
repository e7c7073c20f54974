import { entriesTilePath, HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, tilePath, tileWidthAt } from '../core/merkle';
import type { LogClient } from './replay-client';
import type { Finding } from './replay-types';

type Report = (f: Finding) => void;

/** uint16 big-endian length, then the 32-byte entry hash (the only entry format this log serves). */
const BUNDLE_ENTRY = 2 + HASH_SIZE;
/** Larger than any well-formed tile or bundle, so a wrong size is a finding rather than an outage. */
const MAX_ANSWER = 4 * TILE_WIDTH * BUNDLE_ENTRY;

/**
 * The entry bundles (tile/entries/N) covering [from, to), fetched a few ahead of the replay so
 * the comparison never waits on one request at a time. A bundle that is not served or malformed
 * is reported once; its entries then have no expected hash.
 */
export class BundleFetcher {
  private readonly bundles = new Map<number, Promise<Buffer[] | undefined>>();
  private lowest = 0;

  constructor(
    private readonly client: LogClient,
    private readonly to: number,
    private readonly ahead: number,
    private readonly report: Report,
  ) {}

  /** The entry hash the log publishes for `index`, or undefined when its bundle is unusable. */
  async entryAt(index: number): Promise<Buffer | undefined> {
    const n = Math.floor(index / TILE_WIDTH);
    if (n > this.lowest) {
      for (let k = this.lowest; k < n; k++) this.bundles.delete(k);
      this.lowest = n;
    }
    const last = Math.floor((this.to - 1) / TILE_WIDTH);
    for (let k = n; k <= Math.min(last, n + this.ahead); k++) {
      if (this.bundles.has(k)) continue;
      const p = this.fetch(k);
      p.catch(() => undefined); // awaited (and rethrown) when its turn comes; never unhandled meanwhile
      this.bundles.set(k, p);
    }
    const b = await this.bundles.get(n)!;
    return b?.[index - n * TILE_WIDTH];
  }

  private async fetch(n: number): Promise<Buffer[] | undefined> {
    const width = Math.min(TILE_WIDTH, this.to - n * TILE_WIDTH);
    const path = entriesTilePath(n, width);
    const res = await this.client.get(`/tlog/${path}`, 'application/octet-stream', MAX_ANSWER);
    const first = n * TILE_WIDTH;
    if (res.status !== 200) {
      this.report({ index: first, check: 'MISSING_TILE', path, message: `${path}: the entry bundle for entries ${first}..${first + width - 1} is not served (HTTP ${res.status})` });
      return undefined;
    }
    const out: Buffer[] = [];
    for (let o = 0; o < res.body.length; ) {
      const len = o + 2 <= res.body.length ? res.body.readUInt16BE(o) : -1;
      if (len !== HASH_SIZE || o + 2 + len > res.body.length) break;
      out.push(res.body.subarray(o + 2, o + 2 + len));
      o += 2 + len;
    }
    if (out.length !== width || res.body.length !== width * BUNDLE_ENTRY) {
      this.report({
        index: first,
        check: 'ENTRY_BUNDLE_MISMATCH',
        path,
        message: `${path}: the entry bundle is malformed (${res.body.length} bytes; want ${width} length-prefixed 32-byte entry hashes)`,
      });
      return undefined;
    }
    return out;
  }
}

interface Job {
  level: number;
  index: number;
  data: Buffer;
}

/**
 * Compares recomputed tiles with the served ones, byte for byte, a handful of requests in flight.
 * add() applies back-pressure: it waits while too many tiles are queued.
 */
export class TileComparer {
  private readonly queue: Job[] = [];
  private running = 0;
  private idle: (() => void)[] = [];
  private room: (() => void)[] = [];
  private error?: unknown;
  compared = 0;

  constructor(
    private readonly client: LogClient,
    private readonly concurrency: number,
    private readonly report: Report,
  ) {}

  async add(level: number, index: number, data: Buffer): Promise<void> {
    if (this.error) throw this.error;
    this.queue.push({ level, index, data });
    this.pump();
    while (this.queue.length > this.concurrency * 4) await new Promise<void>((r) => this.room.push(r));
  }

  /** Resolves when every queued comparison is done; rethrows a transport failure. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running > 0) await new Promise<void>((r) => this.idle.push(r));
    if (this.error) throw this.error;
  }

  /** The leaf hash the log serves for `index` in a tree of `size` (to stand in for an entry it cannot serve). */
  async servedLeaf(index: number, size: number): Promise<Buffer | undefined> {
    const n = Math.floor(index / TILE_WIDTH);
    const width = tileWidthAt(0, n, size);
    const res = await this.client.get(`/tlog/${tilePath(0, n, width)}`, 'application/octet-stream', MAX_ANSWER);
    if (res.status !== 200 || res.body.length !== width * HASH_SIZE) return undefined;
    const k = index - n * TILE_WIDTH;
    return res.body.subarray(k * HASH_SIZE, (k + 1) * HASH_SIZE);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      this.room.splice(0).forEach((r) => r());
      this.compare(job)
        .catch((e) => {
          this.error ??= e;
        })
        .finally(() => {
          this.running--;
          this.compared++;
          this.pump();
          if (this.queue.length === 0 && this.running === 0) this.idle.splice(0).forEach((r) => r());
        });
    }
  }

  private async compare(j: Job): Promise<void> {
    const width = j.data.length / HASH_SIZE;
    const path = tilePath(j.level, j.index, width);
    const span = 2 ** (TILE_HEIGHT * j.level);
    const res = await this.client.get(`/tlog/${path}`, 'application/octet-stream', MAX_ANSWER);
    if (res.status !== 200) {
      this.report({ index: j.index * TILE_WIDTH * span, check: 'MISSING_TILE', path, message: `${path}: the hash tile is not served (HTTP ${res.status})` });
      return;
    }
    if (res.body.equals(j.data)) return;
    let k = 0;
    while (k < width && (k + 1) * HASH_SIZE <= res.body.length && res.body.compare(j.data, k * HASH_SIZE, (k + 1) * HASH_SIZE, k * HASH_SIZE, (k + 1) * HASH_SIZE) === 0) k++;
    const leaf = (j.index * TILE_WIDTH + k) * span;
    const what =
      res.body.length !== j.data.length
        ? `is ${res.body.length} bytes, want ${j.data.length}`
        : `differs from the tile recomputed from the statements at hash ${k} (${j.level === 0 ? `leaf ${leaf}` : `the subtree from leaf ${leaf}`})`;
    this.report({ index: leaf, check: 'TILE_MISMATCH', path, message: `${path}: the served tile ${what}` });
  }
}
