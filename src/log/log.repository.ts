import type { PoolClient } from 'pg';
import type { Queryable } from '../db/db';
import type { Checkpoint } from './checkpoint.signer';

const FULL_TILE_BYTES = 8192;

export interface PendingRow {
  id: string;
  entry_hash: Buffer;
  /** The entry is already in the log (registered again after it was integrated). */
  logged: boolean;
}

const CHECKPOINT_COLS = 'tree_size, root, note, receipt_protected, receipt_signature, created_at';

function toCheckpoint(r: any): Checkpoint {
  return {
    treeSize: Number(r.tree_size),
    root: r.root,
    note: r.note,
    receiptProtected: r.receipt_protected,
    receiptSignature: r.receipt_signature,
    createdAt: r.created_at,
  };
}

/** Every SQL statement the log runs, in one place to review. */
export const LogRepository = {
  async lockState(c: PoolClient): Promise<number> {
    const { rows } = await c.query(LogRepository.LOCK_STATE);
    return Number(rows[0].tree_size);
  },

  /** Sent with BEGIN by the sequencer: serialises writers on the `log_state` row. */
  LOCK_STATE: 'SELECT tree_size FROM log_state WHERE id = 1 FOR UPDATE',

  /**
   * The oldest pending rows, each with whether its entry is already in the log. Run after
   * LOCK_STATE was granted, so its snapshot includes whatever a previous writer committed.
   */
  async takePending(c: PoolClient, max: number): Promise<PendingRow[]> {
    // Planned at every call (not a named statement): a generic plan cached while log_leaves was
    // small could keep scanning it after it grew.
    const { rows } = await c.query<PendingRow>(LogRepository.TAKE_PENDING, [max]);
    return rows;
  },

  /**
   * The check for an already logged entry must be one index probe per pending row, whatever the
   * statistics say: a LEFT JOIN can become a hash join over a sequential scan of every leaf, and so
   * can an EXISTS in the select list (PostgreSQL hashes such a subplan when it expects many pending
   * rows: during a run without a fresh ANALYZE it read the whole log_leaves table for every batch,
   * 28 ms at 60,000 leaves and growing with the log). A LATERAL subquery with LIMIT is never hashed.
   */
  TAKE_PENDING: `SELECT p.id, p.entry_hash, l.hit IS NOT NULL AS logged
      FROM (SELECT id, entry_hash FROM pending_entries ORDER BY id LIMIT $1) p
      LEFT JOIN LATERAL (SELECT true AS hit FROM log_leaves l WHERE l.entry_hash = p.entry_hash LIMIT 1) l ON true
     ORDER BY p.id`,

  /**
   * Everything a batch writes, as ONE statement: the new leaves, full tiles (insert-only) and the
   * partial right edge (replaced), the signed checkpoint, the new size, the consumed pending rows,
   * and the notification other processes listen for (sent by PostgreSQL at COMMIT).
   */
  async commitBatch(
    c: PoolClient,
    b: { first: number; hashes: Buffer[]; tiles: { level: number; index: number; data: Buffer }[]; checkpoint: Checkpoint; pendingIds: string[]; notify: boolean },
  ): Promise<void> {
    const full = b.tiles.filter((t) => t.data.length === FULL_TILE_BYTES);
    const partial = b.tiles.filter((t) => t.data.length !== FULL_TILE_BYTES);
    const cp = b.checkpoint;
    await c.query({
      text: `WITH leaves AS (
               INSERT INTO log_leaves (idx, entry_hash) SELECT $1::bigint + o - 1, h FROM unnest($2::bytea[]) WITH ORDINALITY AS t(h, o)),
             full_tiles AS (
               INSERT INTO tiles (level, idx, hashes) SELECT * FROM unnest($3::smallint[], $4::bigint[], $5::bytea[])
               ON CONFLICT (level, idx) DO NOTHING),
             filled_edges AS (
               DELETE FROM tile_edges e USING unnest($3::smallint[], $4::bigint[]) AS k(level, idx)
                WHERE e.level = k.level AND e.idx = k.idx),
             edges AS (
               INSERT INTO tile_edges (level, idx, hashes) SELECT * FROM unnest($6::smallint[], $7::bigint[], $8::bytea[])
               ON CONFLICT (level, idx) DO UPDATE SET hashes = EXCLUDED.hashes),
             cp AS (
               INSERT INTO checkpoints (${CHECKPOINT_COLS}) VALUES ($9, $10, $11, $12, $13, $14)),
             size AS (
               UPDATE log_state SET tree_size = $9, updated_at = now() WHERE id = 1),
             consumed AS (
               DELETE FROM pending_entries WHERE id = ANY($15::bigint[]))
             SELECT pg_notify('scitt_log', $9::text) WHERE $16::boolean`,
      values: [
        b.first,
        b.hashes,
        full.map((t) => t.level),
        full.map((t) => t.index),
        full.map((t) => t.data),
        partial.map((t) => t.level),
        partial.map((t) => t.index),
        partial.map((t) => t.data),
        cp.treeSize,
        cp.root,
        cp.note,
        cp.receiptProtected,
        cp.receiptSignature,
        cp.createdAt,
        b.pendingIds,
        b.notify,
      ],
    });
  },

  /** Tiles by key from both tables (a full tile wins over a stale edge row). */
  async readTiles(q: Queryable, keys: { level: number; index: number }[]): Promise<Map<string, Buffer>> {
    const { rows } = await q.query<{ level: number; idx: string; hashes: Buffer }>(
      `SELECT k.level, k.idx, coalesce(t.hashes, e.hashes) AS hashes
         FROM unnest($1::smallint[], $2::bigint[]) AS k(level, idx)
         LEFT JOIN tiles t ON t.level = k.level AND t.idx = k.idx
         LEFT JOIN tile_edges e ON e.level = k.level AND e.idx = k.idx
        WHERE t.hashes IS NOT NULL OR e.hashes IS NOT NULL`,
      [keys.map((k) => k.level), keys.map((k) => k.index)],
    );
    return new Map(rows.map((r) => [`${r.level}/${r.idx}`, r.hashes]));
  },

  async insertCheckpoint(c: Queryable, cp: Checkpoint): Promise<void> {
    await c.query(
      `INSERT INTO checkpoints (${CHECKPOINT_COLS}) VALUES ($1, $2, $3, $4, $5, $6)`,
      [cp.treeSize, cp.root, cp.note, cp.receiptProtected, cp.receiptSignature, cp.createdAt],
    );
  },

  async deletePending(c: PoolClient, ids: string[]): Promise<void> {
    await c.query('DELETE FROM pending_entries WHERE id = ANY($1::bigint[])', [ids]);
  },

  async latestCheckpoint(q: Queryable): Promise<Checkpoint | undefined> {
    const { rows } = await q.query(`SELECT ${CHECKPOINT_COLS} FROM checkpoints ORDER BY tree_size DESC LIMIT 1`);
    return rows[0] ? toCheckpoint(rows[0]) : undefined;
  },

  async checkpointAt(q: Queryable, size: number): Promise<Checkpoint | undefined> {
    const { rows } = await q.query(`SELECT ${CHECKPOINT_COLS} FROM checkpoints WHERE tree_size = $1`, [size]);
    return rows[0] ? toCheckpoint(rows[0]) : undefined;
  },

  async firstCoveringSize(q: Queryable, idx: number): Promise<number | undefined> {
    const { rows } = await q.query<{ s: string | null }>('SELECT min(tree_size) AS s FROM checkpoints WHERE tree_size > $1', [idx]);
    return rows[0]?.s === null || rows[0]?.s === undefined ? undefined : Number(rows[0].s);
  },

  async indexOf(q: Queryable, entryHash: Buffer): Promise<number | undefined> {
    const { rows } = await q.query<{ idx: string }>('SELECT idx FROM log_leaves WHERE entry_hash = $1', [entryHash]);
    return rows[0] ? Number(rows[0].idx) : undefined;
  },

  async indicesOf(q: Queryable, hashes: Buffer[]): Promise<Map<string, number>> {
    const { rows } = await q.query<{ idx: string; entry_hash: Buffer }>(
      'SELECT idx, entry_hash FROM log_leaves WHERE entry_hash = ANY($1::bytea[])',
      [hashes],
    );
    return new Map(rows.map((r) => [r.entry_hash.toString('hex'), Number(r.idx)]));
  },

  /** Upper bound of the pending queue length from two index probes (count(*) would scan). */
  async pendingEstimate(q: Queryable): Promise<number> {
    const { rows } = await q.query<{ n: string | null }>('SELECT max(id) - min(id) + 1 AS n FROM pending_entries');
    return Number(rows[0]?.n ?? 0);
  },
};
