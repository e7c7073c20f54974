import type { ParsedStatement } from '../core/cose';
import type { Db } from '../db/db';
import { EntriesRepository, type AdmitRow } from './entries.repository';

export interface AdmissionItem {
  entry: AdmitRow;
  parsed: ParsedStatement;
  size: number;
  /** The trust version the item was decided against. */
  trustVersion: number;
}

interface Queued {
  item: AdmissionItem;
  /** true: newly acknowledged; false: the same statement was already known. */
  resolve: (inserted: boolean) => void;
  reject: (e: unknown) => void;
}

export interface AdmissionHooks {
  /** Current trust version the items were evaluated against. */
  trustVersion(): number;
  /** Reload trust (another process changed it) and re-run the decision; throws a coded error to reject. */
  refresh(): Promise<void>;
  reevaluate(item: AdmissionItem): void;
}

/**
 * Group commit for registrations: requests arriving within a few milliseconds share one
 * transaction (one multi-row INSERT), which is what makes thousands of durable
 * acknowledgements per second possible. A request is answered only after its batch committed.
 *
 * Each batch holds the trust lock shared and checks the trust version, so a registration is never
 * logged after an issuer/policy change that would have rejected it (the auditor replays decisions
 * in log order and must reach the same verdicts).
 */
export class Admission {
  private queue: Queued[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly db: Db,
    private readonly hooks: AdmissionHooks,
    private readonly opts = { maxBatch: 512, maxBatchBytes: 32 * 1024 * 1024, maxInFlight: db.embedded ? 1 : 4, windowMs: 2 },
  ) {}

  submit(item: AdmissionItem): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight) return;
    this.scheduled = true;
    // A short window lets concurrent requests share one commit (one WAL flush); when a batch is
    // already full there is no reason to wait.
    const go = () => {
      this.scheduled = false;
      if (this.queue.length === 0 || this.inFlight >= this.opts.maxInFlight) return;
      // At most maxBatch items and (beyond the first) maxBatchBytes of statements: one statement
      // carries the whole batch, and large statements should not make it hundreds of megabytes.
      let take = 0;
      let bytes = 0;
      while (take < this.queue.length && take < this.opts.maxBatch) {
        bytes += this.queue[take].item.size;
        if (take > 0 && bytes > this.opts.maxBatchBytes) break;
        take++;
      }
      const batch = this.queue.splice(0, take);
      this.inFlight++;
      this.flush(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.schedule();
      });
    };
    if (this.queue.length >= this.opts.maxBatch || this.opts.windowMs === 0) setImmediate(go);
    else setTimeout(go, this.opts.windowMs);
  }

  /** Items decided against an older trust state than `version` are decided again, now. */
  private redecide(batch: Queued[], version: number): Queued[] {
    return batch.filter((q) => {
      if (q.item.trustVersion === version) return true;
      try {
        this.hooks.reevaluate(q.item);
        q.item.trustVersion = version;
        return true;
      } catch (e) {
        q.reject(e);
        return false;
      }
    });
  }

  private async flush(batch: Queued[]): Promise<void> {
    for (let attempt = 0; attempt < 5 && batch.length > 0; attempt++) {
      const version = this.hooks.trustVersion();
      batch = this.redecide(batch, version);
      if (batch.length === 0) return;
      try {
        // One statement, its own transaction: it takes the trust lock shared and checks the version
        // after the lock was granted (see the AdmissionGuard migration), then writes every row.
        const r = await EntriesRepository.admit(this.db.pool, batch.map((q) => q.item.entry), version);
        if (!r.stale) {
          batch.forEach((q) => q.resolve(r.inserted.has(q.item.entry.entryHash.toString('hex'))));
          return;
        }
        // Another process changed trust: load it; the next attempt decides every item again.
        await this.hooks.refresh();
      } catch (e) {
        // A coded rejection or a database failure: either way nothing of this batch was written.
        batch.forEach((q) => q.reject(e));
        return;
      }
    }
    batch.forEach((q) => q.reject(new Error('trust state kept changing; retry')));
  }
}
