import type { PoolClient } from 'pg';
import type { ParsedStatement } from '../core/cose';
import { isLedgerError } from '../core/errors';
import type { Db } from '../db/db';
import { EntriesRepository, type NewEntry } from './entries.repository';
import { TrustRepository } from './trust.repository';

export interface AdmissionItem {
  entry: NewEntry;
  parsed: ParsedStatement;
  size: number;
}

interface Queued {
  item: AdmissionItem;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface AdmissionHooks {
  /** Current trust version the items were evaluated against. */
  trustVersion(): number;
  /** Reload trust (another process changed it) and re-run the decision; throws a coded error to reject. */
  refresh(): Promise<void>;
  reevaluate(item: AdmissionItem): void;
  /** Extra rows written in the same transaction (outbox, claims index). */
  alsoWrite?(c: PoolClient, items: AdmissionItem[]): Promise<void>;
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
    private readonly opts = { maxBatch: 512, maxInFlight: db.embedded ? 1 : 3 },
  ) {}

  submit(item: AdmissionItem): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight) return;
    this.scheduled = true;
    // setImmediate lets every request parsed in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      if (this.queue.length === 0 || this.inFlight >= this.opts.maxInFlight) return;
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.inFlight++;
      this.flush(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  private async flush(batch: Queued[]): Promise<void> {
    for (let attempt = 0; attempt < 5 && batch.length > 0; attempt++) {
      const version = this.hooks.trustVersion();
      try {
        const stale = await this.db.tx(async (c) => {
          await TrustRepository.lockShared(c);
          if ((await TrustRepository.version(c)) !== version) return true;
          await EntriesRepository.admit(c, batch.map((q) => q.item.entry));
          if (this.hooks.alsoWrite) await this.hooks.alsoWrite(c, batch.map((q) => q.item));
          return false;
        });
        if (!stale) {
          batch.forEach((q) => q.resolve());
          return;
        }
        await this.hooks.refresh();
        batch = batch.filter((q) => {
          try {
            this.hooks.reevaluate(q.item);
            return true;
          } catch (e) {
            q.reject(e);
            return false;
          }
        });
      } catch (e) {
        if (isLedgerError(e)) {
          batch.forEach((q) => q.reject(e));
          return;
        }
        batch.forEach((q) => q.reject(e));
        return;
      }
    }
    batch.forEach((q) => q.reject(new Error('trust state kept changing; retry')));
  }
}
