import { HASH_SIZE, leafHash, TILE_BYTES, type TreeState } from '../core/merkle';
import { FLAG, packBatch, RESULT_STRIDE } from './replay-check';
import { StreamBroken, type LogClient } from './replay-client';
import type { Checker } from './replay-pool';
import { edgeKeys } from './replay-state';
import { BundleFetcher, TileComparer } from './replay-tiles';
import type { TrustReplayer } from './replay-trust';
import { auditError, type AuditTimings, type Finding } from './replay-types';

export interface RangeReplayOptions {
  client: LogClient;
  from: number;
  to: number;
  tree: TreeState;
  /** Latest contents of the tree's partial tiles ("level/index"), updated as the tree grows. */
  edge: Map<string, Buffer>;
  trust: TrustReplayer;
  checker: Checker;
  batchSize: number;
  concurrency: number;
  timings: AuditTimings;
  report: (f: Finding) => void;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

interface InFlight {
  start: number;
  flags: Uint8Array;
  result: ReturnType<Checker['submit']>;
}

/** Missing entries after which a replay gives up: the log is not worth auditing further. */
const MAX_MISSING = 100;

/** The replay cannot go on (the tree cannot be recomputed past a gap); the finding says where. */
export class ReplayStopped extends Error {
  constructor(readonly finding: Finding) {
    super(finding.message);
  }
}

/**
 * Replays the entries [from, to) onto `tree`: streams the statements, classifies each (claim,
 * trust change, missing), lets the checker hash and judge them in batches ahead of the main
 * thread, and applies the results strictly in log order: compare each entry hash with the entry
 * bundle, append the leaves, and hand every tile that fills up (and the final edge) to the
 * comparer. Resolves when everything in the range has been checked.
 */
export class RangeReplay {
  private next: number;
  private seq = 0;
  private items: Buffer[] = [];
  private flags: number[] = [];
  private batchStart: number;
  private readonly inflight: InFlight[] = [];
  private readonly maxInFlight: number;
  private readonly bundles: BundleFetcher;
  private readonly tiles: TileComparer;
  /** Entries fully checked so far (hashed, judged, compared, appended). */
  checked = 0;
  private missing = 0;

  constructor(private readonly o: RangeReplayOptions) {
    this.next = o.from;
    this.batchStart = o.from;
    this.maxInFlight = Math.max(2, o.checker.workers * 3);
    this.bundles = new BundleFetcher(o.client, o.to, o.concurrency * 2, o.report);
    this.tiles = new TileComparer(o.client, o.concurrency, o.report);
  }

  async run(): Promise<void> {
    const o = this.o;
    let transient = 0;
    const sink = async (items: Buffer[]) => {
      for (const it of items) await this.onEntry(it);
    };
    const wait = (ms: number) => (o.timings.downloadMs += ms);
    while (this.next < o.to) {
      try {
        await o.client.streamStatements(this.next, o.to, sink, wait);
      } catch (e) {
        if (!(e instanceof StreamBroken)) throw e;
        const j = await this.locateMissing(this.next);
        if (j === undefined) {
          // Everything is servable now: the stream failed in transit. Retry a few times.
          if (++transient > 3) throw auditError('UNREACHABLE', e.message);
          continue;
        }
        if (j > this.next) {
          try {
            await o.client.streamStatements(this.next, j, sink, wait);
          } catch (e2) {
            throw e2 instanceof StreamBroken ? auditError('UNREACHABLE', e2.message) : e2;
          }
        }
        o.report({ index: j, check: 'MISSING_ENTRY', message: `entry ${j}: the log does not serve the statement for this index, which its checkpoint covers` });
        if (++this.missing > MAX_MISSING) {
          throw new ReplayStopped({ index: j, check: 'MISSING_ENTRY', message: `more than ${MAX_MISSING} entries are missing; the replay stops at entry ${j}` });
        }
        await this.onEntry(undefined);
      }
    }
    await this.flush();
    while (this.inflight.length > 0) await this.consume(this.inflight.shift()!);
    // The partial tiles at the new size: the served `.p/<W>` tiles must hold exactly the edge.
    for (const k of edgeKeys(o.to)) {
      const data = o.edge.get(`${k.level}/${k.index}`);
      if (data) await this.tiles.add(k.level, k.index, data.subarray(0, k.width * HASH_SIZE));
    }
    const t = performance.now();
    await this.tiles.drain();
    o.timings.tilesMs += performance.now() - t;
  }

  /** The first index at or after `pos` that the log cannot serve, or undefined when all are servable. */
  private async locateMissing(pos: number): Promise<number | undefined> {
    const c = this.o.client;
    // Exponential probe, then bisection: smallest m such that [pos, m) fails to stream.
    let good = pos;
    let bad: number | undefined;
    for (let step = 1; ; step *= 2) {
      const m = Math.min(this.o.to, pos + step);
      if (!(await c.statementsServable(pos, m))) {
        bad = m;
        break;
      }
      good = m;
      if (m === this.o.to) return undefined;
    }
    while (bad - good > 1) {
      const mid = Math.floor((good + bad) / 2);
      if (await c.statementsServable(pos, mid)) good = mid;
      else bad = mid;
    }
    return bad - 1;
  }

  private async onEntry(bytes: Buffer | undefined): Promise<void> {
    const index = this.next++;
    let flag: number = FLAG.missing;
    if (bytes !== undefined) {
      const v = this.o.trust.examine(index, bytes);
      if (v.kind === 'claim') flag = FLAG.claim;
      else {
        flag = FLAG.trust;
        if (v.kind === 'rejected') this.o.report(v.finding);
        else {
          // Entries before the change are checked under the old state, this one and later under the new.
          await this.flush(index);
          this.o.checker.apply(v.change);
        }
      }
    }
    this.items.push(bytes ?? Buffer.alloc(0));
    this.flags.push(flag);
    if (this.items.length >= this.o.batchSize) await this.flush();
  }

  /** Submits the open batch (ending before `until`, default: everything collected). */
  private async flush(until = this.next): Promise<void> {
    const n = until - this.batchStart;
    if (n <= 0) return;
    if (this.o.signal?.aborted) throw auditError('ABORTED', 'the audit was interrupted');
    const items = this.items.splice(0, n);
    const flags = Uint8Array.from(this.flags.splice(0, n));
    const start = this.batchStart;
    this.batchStart += n;
    const result = this.o.checker.submit(packBatch(this.seq++, start, items, flags.slice()));
    // Handled in consume(), in order; keep an early rejection from counting as unhandled.
    result.catch(() => undefined);
    this.inflight.push({ start, flags, result });
    while (this.inflight.length >= this.maxInFlight) await this.consume(this.inflight.shift()!);
  }

  private async consume(f: InFlight): Promise<void> {
    const o = this.o;
    const tw = performance.now();
    const r = await f.result;
    const tc = performance.now();
    o.timings.waitWorkersMs += tc - tw;
    o.timings.parseMs += r.parseMs;
    o.timings.hashMs += r.hashMs;
    o.timings.verifyMs += r.verifyMs;
    r.findings.forEach(o.report);
    const hashes = Buffer.from(r.hashes.buffer, r.hashes.byteOffset, r.hashes.byteLength);
    const leaves: Buffer[] = new Array(f.flags.length);
    for (let k = 0; k < f.flags.length; k++) {
      const index = f.start + k;
      const expected = await this.bundles.entryAt(index);
      const entry = hashes.subarray(k * RESULT_STRIDE, k * RESULT_STRIDE + HASH_SIZE);
      let leaf = hashes.subarray(k * RESULT_STRIDE + HASH_SIZE, (k + 1) * RESULT_STRIDE);
      if (f.flags[k] === FLAG.missing) {
        // Carry on with what the log committed to, so the rest of the log can still be checked.
        const stand = expected ? leafHash(expected) : await this.tiles.servedLeaf(index, o.to);
        if (!stand) {
          throw new ReplayStopped({ index, check: 'MISSING_ENTRY', message: `entry ${index}: neither its entry bundle nor its tile is served, so the tree cannot be recomputed past it; the replay stops here` });
        }
        leaf = stand;
      } else if (expected && !expected.equals(entry)) {
        o.report({
          index,
          check: 'ENTRY_BUNDLE_MISMATCH',
          message: `entry ${index}: the statement served hashes to ${entry.toString('hex')}, but the log's entry bundle commits to ${expected.toString('hex')}`,
        });
        // The tree commits to the bundle's entry: continue with it so this divergence is reported once, here.
        leaf = leafHash(expected);
      }
      leaves[k] = leaf;
    }
    const tt = performance.now();
    o.timings.tilesMs += tt - tc;
    const out = o.tree.append(leaves);
    o.timings.treeMs += performance.now() - tt;
    for (const t of out.tiles) {
      const key = `${t.level}/${t.index}`;
      if (t.data.length === TILE_BYTES) {
        o.edge.delete(key);
        const ta = performance.now();
        await this.tiles.add(t.level, t.index, t.data);
        o.timings.tilesMs += performance.now() - ta;
      } else {
        o.edge.set(key, t.data);
      }
    }
    this.checked += f.flags.length;
    o.onProgress?.(this.checked, o.to - o.from);
  }
}
