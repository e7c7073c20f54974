import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TrustChange } from '../core/policy';
import { checkBatch, type Batch, type BatchResult } from './replay-check';
import { applyTrustChange, restoreTrust, type SerialTrust } from './replay-trust';

/**
 * Where batches are checked. Callers submit batches and trust changes in log order; results
 * come back per batch (await them in submission order to apply them in log order).
 */
export interface Checker {
  readonly workers: number;
  submit(b: Batch): Promise<BatchResult>;
  /** A trust change between the batches submitted so far and the next. */
  apply(change: TrustChange): void;
  close(): Promise<void>;
}

/** Checks on the calling thread: small logs, or machines with one core. */
class InlineChecker implements Checker {
  readonly workers = 0;
  private readonly trust;

  constructor(initial: SerialTrust) {
    this.trust = restoreTrust(initial);
  }

  submit(b: Batch): Promise<BatchResult> {
    // Synchronous, so a later apply() can never overtake it.
    try {
      return Promise.resolve(checkBatch(b, this.trust));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  apply(change: TrustChange): void {
    applyTrustChange(this.trust, change);
  }

  async close(): Promise<void> {}
}

interface Pending {
  resolve: (r: BatchResult) => void;
  reject: (e: unknown) => void;
  worker: number;
}

/**
 * Worker threads, each with its own replica of the trust state. Every trust change is posted to
 * every worker after the batches before it and before the batches after it; a worker handles its
 * messages in order, so each batch is checked against the trust state of its place in the log.
 */
class WorkerChecker implements Checker {
  private readonly pool: Worker[];
  private readonly load: number[];
  private readonly pending = new Map<number, Pending>();
  private failed?: Error;

  constructor(
    readonly workers: number,
    initial: SerialTrust,
  ) {
    const file = join(__dirname, 'replay-worker.js');
    this.pool = Array.from({ length: workers }, () => {
      const worker = new Worker(file, { workerData: { trust: initial } });
      worker.on('message', (m: { ok: true; result: BatchResult } | { ok: false; seq: number; error: string }) => {
        const seq = m.ok ? m.result.seq : m.seq;
        const p = this.pending.get(seq);
        if (!p) return;
        this.pending.delete(seq);
        this.load[p.worker]--;
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(`audit worker failed: ${m.error}`));
      });
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`audit worker exited with code ${code}`));
      });
      return worker;
    });
    this.load = this.pool.map(() => 0);
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  submit(b: Batch): Promise<BatchResult> {
    if (this.failed) return Promise.reject(this.failed);
    // The least loaded worker: batches differ in cost (trust changes, malformed entries).
    let w = 0;
    for (let i = 1; i < this.pool.length; i++) if (this.load[i] < this.load[w]) w = i;
    this.load[w]++;
    return new Promise((resolve, reject) => {
      this.pending.set(b.seq, { resolve, reject, worker: w });
      this.pool[w].postMessage({ type: 'batch', batch: b }, [b.data.buffer as ArrayBuffer, b.offsets.buffer as ArrayBuffer, b.flags.buffer as ArrayBuffer]);
    });
  }

  apply(change: TrustChange): void {
    for (const w of this.pool) w.postMessage({ type: 'trust', change });
  }

  async close(): Promise<void> {
    this.failed ??= new Error('audit checker closed');
    await Promise.all(this.pool.map((w) => w.terminate()));
  }
}

/** `workers` 0 checks on this thread. */
export function createChecker(workers: number, initial: SerialTrust): Checker {
  return workers > 0 ? new WorkerChecker(workers, initial) : new InlineChecker(initial);
}
