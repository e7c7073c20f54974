import { EventEmitter } from 'node:events';
import type { PoolClient } from 'pg';
import { leafHash, TreeState } from '../core/merkle';
import { Db, LOCKS } from '../db/db';
import type { Checkpoint, CheckpointSigner } from './checkpoint.signer';
import { LogRepository } from './log.repository';
import type { TileStore } from './tile.store';

export interface SequencerOptions {
  batchMs: number;
  batchMax: number;
}

export interface IntegratedBatch {
  checkpoint: Checkpoint;
  /** entry hash (hex) → leaf index, for the entries this batch appended. */
  indices: Map<string, number>;
}

export interface SequencerLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * The only writer of the tree. Any number of processes run one; the one holding the session
 * advisory lock `LOCKS.sequencerLeader` integrates, the others wait to take over. Each batch is
 * one transaction that also takes the `log_state` row FOR UPDATE, so even two leaders (a lock
 * lost to a network split) could not fork the tree: the second would see the new size and reload.
 *
 * Crash analysis, per persistence point (see integrateOnce):
 *  - before COMMIT: nothing of the batch is visible; pending rows are still there; the next
 *    leader re-reads them and integrates them. Acknowledged entries are never lost.
 *  - after COMMIT, before the in-memory state is swapped: memory is simply gone with the process;
 *    the next leader loads the right-edge tiles for the committed size.
 */
export class Sequencer extends EventEmitter {
  private state?: TreeState;
  private running = false;
  private leaderClient?: PoolClient;
  /** Embedded (PGlite) mode: one process owns the data directory, so it leads without a lock. */
  private soleWriter = false;
  private wake?: () => void;
  private loopDone?: Promise<void>;
  latest?: Checkpoint;
  lastTickAt = 0;
  lastError?: unknown;

  constructor(
    private readonly db: Db,
    private readonly tiles: TileStore,
    private readonly signer: CheckpointSigner,
    private readonly opts: SequencerOptions,
    private readonly log?: SequencerLogger,
  ) {
    super();
  }

  get isLeader(): boolean {
    return this.soleWriter || this.leaderClient !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loopDone;
    await this.resign();
  }

  /** Integrate soon rather than after the batch interval (a full batch is waiting). */
  kick(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let n = 0;
      const tickStart = Date.now();
      try {
        if (!this.isLeader) await this.tryLead();
        if (this.isLeader) n = await this.integrateOnce();
        this.lastTickAt = Date.now();
        this.lastError = undefined;
      } catch (e) {
        this.lastError = e;
        this.log?.error({ err: e }, 'sequencer batch failed; will retry');
        if (this.leaderClient && !(await this.leaderAlive())) await this.resign();
      }
      if (!this.running) break;
      if (n >= this.opts.batchMax) continue; // a backlog: keep draining
      await new Promise<void>((resolve) => {
        // The leader batches every batchMs, start to start: a batch's own duration is not added to
        // the wait of the entries that arrive while it runs.
        const t = setTimeout(resolve, this.isLeader ? Math.max(0, this.opts.batchMs - (Date.now() - tickStart)) : Math.max(500, this.opts.batchMs));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async tryLead(): Promise<void> {
    if (this.db.embedded) {
      // PGlite serves one connection at a time (the pool has one); holding a client for a session
      // lock would starve every other query. Its data directory cannot be shared by two processes.
      this.soleWriter = true;
      this.state = undefined;
      await this.ensureGenesis();
      return;
    }
    const c = await this.db.pool.connect();
    let ok = false;
    try {
      const { rows } = await c.query('SELECT pg_try_advisory_lock($1) AS ok', [LOCKS.sequencerLeader]);
      ok = rows[0].ok === true;
    } finally {
      if (!ok) c.release();
    }
    if (!ok) return;
    c.on('error', () => void this.resign());
    this.leaderClient = c;
    this.state = undefined;
    this.log?.info({}, 'sequencer: this process is the log writer');
    await this.ensureGenesis();
  }

  private async leaderAlive(): Promise<boolean> {
    try {
      await this.leaderClient?.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  private async resign(): Promise<void> {
    this.soleWriter = false;
    const c = this.leaderClient;
    this.leaderClient = undefined;
    this.state = undefined;
    if (!c) return;
    try {
      await c.query('SELECT pg_advisory_unlock($1)', [LOCKS.sequencerLeader]);
      c.release();
    } catch {
      c.release(true);
    }
  }

  /** An empty log still publishes a checkpoint (size 0) so auditors and witnesses have a start. */
  private async ensureGenesis(): Promise<void> {
    const cp = await this.db.tx(async (c) => {
      const size = await LogRepository.lockState(c);
      const have = await LogRepository.latestCheckpoint(c);
      if (have || size !== 0) return have;
      const state = TreeState.empty();
      const genesis = this.signer.sign(0, state.root());
      await LogRepository.insertCheckpoint(c, genesis);
      return genesis;
    });
    this.latest = cp;
  }

  /** One batch: returns how many pending rows it consumed (0 when idle). */
  async integrateOnce(): Promise<number> {
    // Four round trips when busy (BEGIN with the row lock, pending, commit, COMMIT): under load
    // every round trip also waits its turn on the event loop, so they set a batch's duration.
    const out = await this.db.tx(
      async (c, locked) => {
        const size = Number(locked[0].tree_size);
        const pending = await LogRepository.takePending(c, this.opts.batchMax);
        const state = this.state && this.state.size === size ? this.state : await TreeState.load(size, this.tiles.reader(c, size));
        if (pending.length === 0) return { consumed: 0, state };
        const seen = new Set<string>();
        const append: Buffer[] = [];
        for (const p of pending) {
          const h = p.entry_hash.toString('hex');
          if (!p.logged && !seen.has(h)) {
            seen.add(h);
            append.push(p.entry_hash);
          }
        }
        const ids = pending.map((p) => p.id);
        if (append.length === 0) {
          await LogRepository.deletePending(c, ids);
          return { consumed: pending.length, state };
        }
        const next = state.clone();
        const res = next.append(append.map((h) => leafHash(h)));
        const checkpoint = this.signer.sign(res.size, res.root);
        await LogRepository.commitBatch(c, { first: size, hashes: append, tiles: res.tiles, checkpoint, pendingIds: ids, notify: !this.db.embedded });
        // COMMIT follows in db.tx: if the process dies before it, none of this happened.
        const indices = new Map<string, number>();
        append.forEach((h, i) => indices.set(h.toString('hex'), size + i));
        return { consumed: pending.length, state: next, batch: { checkpoint, indices }, tiles: res.tiles };
      },
      { first: LogRepository.LOCK_STATE },
    );
    // Committed. Swap the in-memory state only now.
    this.state = out.state;
    if ('batch' in out && out.batch) {
      for (const t of out.tiles) this.tiles.remember(t.level, t.index, t.data);
      this.latest = out.batch.checkpoint;
      this.emit('integrated', out.batch);
    }
    return out.consumed;
  }
}
