import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { buildInclusionReceipt } from '../core/cose';
import { LedgerError } from '../core/errors';
import { consistencyProofFromTiles, inclusionProofFromTiles } from '../core/merkle';
import { APP_CONFIG, EnvConfig } from '../config/env.config';
import { Db } from '../db/db';
import { Checkpoint, CheckpointSigner } from './checkpoint.signer';
import { LogRepository } from './log.repository';
import { IntegratedBatch, Sequencer } from './sequencer';
import { SERVICE_KEYS } from './log.tokens';
import type { ServiceKeys } from './service-keys';
import { TileStore } from './tile.store';

export type LogErrorCode = 'BACK_PRESSURE' | 'NO_CHECKPOINT' | 'UNKNOWN_SIZE' | 'BAD_RANGE';

interface Waiter {
  resolve: (idx: number | undefined) => void;
}

/**
 * The log as the rest of the service sees it: the sequencer (started here), the latest
 * checkpoint, receipts and proofs served from tiles, and "wait until integrated" for requests.
 */
@Injectable()
export class LogService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('log');
  readonly tiles = new TileStore();
  readonly sequencer: Sequencer;
  private readonly waiters = new Map<string, Waiter[]>();
  private latest?: Checkpoint;
  private listenClient?: PoolClient;
  private poller?: NodeJS.Timeout;
  private pendingEstimate = 0;
  private polling = false;

  constructor(
    private readonly db: Db,
    @Inject(APP_CONFIG) private readonly cfg: EnvConfig,
    @Inject(SERVICE_KEYS) readonly keys: ServiceKeys,
  ) {
    const signer = new CheckpointSigner(keys, cfg.LOG_ORIGIN, cfg.SERVICE_ISSUER);
    this.sequencer = new Sequencer(db, this.tiles, signer, { batchMs: cfg.LOG_BATCH_MS, batchMax: cfg.LOG_BATCH_MAX }, {
      info: (o, m) => this.logger.log(m),
      error: (o: any, m) => this.logger.error(`${m}: ${o?.err?.message ?? o?.err}`),
    });
    this.sequencer.on('integrated', (b: IntegratedBatch) => this.onIntegrated(b));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.latest = await LogRepository.latestCheckpoint(this.db);
    this.sequencer.start();
    if (!this.db.embedded) {
      // Other processes' sequencers announce new checkpoints; PGlite cannot NOTIFY across connections, so it polls.
      this.listenClient = await this.db.pool.connect();
      this.listenClient.on('notification', () => void this.poll());
      this.listenClient.on('error', () => undefined);
      await this.listenClient.query('LISTEN scitt_log');
    }
    this.poller = setInterval(() => void this.poll(), Math.max(50, Math.min(250, this.cfg.LOG_BATCH_MS)));
    this.poller.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    await this.sequencer.stop();
    if (this.listenClient) {
      const c = this.listenClient;
      this.listenClient = undefined;
      await c.query('UNLISTEN *').catch(() => undefined);
      try {
        c.release();
      } catch {
        // the pool may already have been shut down with the DataSource
      }
    }
    for (const [, ws] of this.waiters) ws.forEach((w) => w.resolve(undefined));
    this.waiters.clear();
  }

  /** Approximate queue length, refreshed by the poller. */
  get lag(): number {
    return this.pendingEstimate;
  }

  /** Throws the named back-pressure error when integration is too far behind. */
  assertAccepting(): void {
    if (this.pendingEstimate > this.cfg.LOG_MAX_PENDING) {
      throw new LedgerError<LogErrorCode>('BACK_PRESSURE', `integration is ${this.pendingEstimate} entries behind`, { retryAfter: 2 });
    }
  }

  private onIntegrated(b: IntegratedBatch): void {
    this.latest = b.checkpoint;
    for (const [hex, idx] of b.indices) {
      const ws = this.waiters.get(hex);
      if (ws) {
        this.waiters.delete(hex);
        ws.forEach((w) => w.resolve(idx));
      }
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.pendingEstimate = await LogRepository.pendingEstimate(this.db);
      if (!this.sequencer.isLeader || this.waiters.size > 0) {
        const cp = await LogRepository.latestCheckpoint(this.db);
        if (cp && (!this.latest || cp.treeSize > this.latest.treeSize)) this.latest = cp;
      }
      if (this.waiters.size > 0) {
        const hexes = [...this.waiters.keys()];
        const found = await LogRepository.indicesOf(this.db, hexes.map((h) => Buffer.from(h, 'hex')));
        for (const [hex, idx] of found) {
          const ws = this.waiters.get(hex);
          this.waiters.delete(hex);
          ws?.forEach((w) => w.resolve(idx));
        }
      }
    } catch (e: any) {
      this.logger.warn(`log poll failed: ${e?.message ?? e}`);
    } finally {
      this.polling = false;
    }
  }

  /** Resolves with the leaf index once integrated, or undefined after `timeoutMs`. */
  waitForIntegration(entryHash: Buffer, timeoutMs: number): Promise<number | undefined> {
    if (timeoutMs <= 0) return Promise.resolve(undefined);
    const hex = entryHash.toString('hex');
    return new Promise((resolve) => {
      const w: Waiter = {
        resolve: (idx) => {
          clearTimeout(t);
          resolve(idx);
        },
      };
      const t = setTimeout(() => {
        const ws = this.waiters.get(hex);
        if (ws) {
          const rest = ws.filter((x) => x !== w);
          if (rest.length) this.waiters.set(hex, rest);
          else this.waiters.delete(hex);
        }
        resolve(undefined);
      }, timeoutMs);
      const ws = this.waiters.get(hex);
      if (ws) ws.push(w);
      else this.waiters.set(hex, [w]);
    });
  }

  async latestCheckpoint(): Promise<Checkpoint> {
    if (!this.latest) this.latest = await LogRepository.latestCheckpoint(this.db);
    if (!this.latest) throw new LedgerError<LogErrorCode>('NO_CHECKPOINT', 'the log has not published a checkpoint yet', { retryAfter: 1 });
    return this.latest;
  }

  async checkpointAt(size: number): Promise<Checkpoint> {
    const latest = await this.latestCheckpoint();
    if (size === latest.treeSize) return latest;
    const cp = await LogRepository.checkpointAt(this.db, size);
    if (!cp) throw new LedgerError<LogErrorCode>('UNKNOWN_SIZE', `no checkpoint was published at tree size ${size}`);
    return cp;
  }

  indexOf(entryHash: Buffer): Promise<number | undefined> {
    return LogRepository.indexOf(this.db, entryHash);
  }

  /** The RFC 9942 inclusion receipt for leaf `idx` against the newest checkpoint that covers it. */
  async receiptForIndex(idx: number): Promise<{ receipt: Buffer; checkpoint: Checkpoint }> {
    let cp = await this.latestCheckpoint();
    if (idx >= cp.treeSize) {
      const fresh = await LogRepository.latestCheckpoint(this.db);
      if (fresh) this.latest = cp = fresh;
    }
    const path = await inclusionProofFromTiles(idx, cp.treeSize, this.tiles.reader(this.db, cp.treeSize));
    const receipt = buildInclusionReceipt({
      protectedBytes: cp.receiptProtected,
      signature: cp.receiptSignature,
      treeSize: cp.treeSize,
      leafIndex: idx,
      path,
    });
    return { receipt: Buffer.from(receipt), checkpoint: cp };
  }

  /**
   * The receipt for leaf `idx` against the first checkpoint that covered it: stable over time, so
   * anything built from it (an OCI referrer manifest) comes out byte-identical on every retry.
   */
  async firstReceiptForIndex(idx: number): Promise<{ receipt: Buffer; checkpoint: Checkpoint }> {
    const size = await LogRepository.firstCoveringSize(this.db, idx);
    if (size === undefined) return this.receiptForIndex(idx);
    const cp = await this.checkpointAt(size);
    const path = await inclusionProofFromTiles(idx, size, this.tiles.reader(this.db, size));
    const receipt = buildInclusionReceipt({ protectedBytes: cp.receiptProtected, signature: cp.receiptSignature, treeSize: size, leafIndex: idx, path });
    return { receipt: Buffer.from(receipt), checkpoint: cp };
  }

  async inclusionProof(idx: number, size: number): Promise<Buffer[]> {
    return inclusionProofFromTiles(idx, size, this.tiles.reader(this.db, size));
  }

  async consistencyProof(from: number, to: number): Promise<Buffer[]> {
    const latest = await this.latestCheckpoint();
    if (!(from >= 0 && from <= to && to <= latest.treeSize)) {
      throw new LedgerError<LogErrorCode>('BAD_RANGE', `need 0 <= from <= to <= ${latest.treeSize}`);
    }
    return consistencyProofFromTiles(from, to, this.tiles.reader(this.db, to));
  }
}
