import type { PoolClient } from 'pg';
import type { Queryable } from '../db/db';
import type { Checkpoint } from './checkpoint.signer';

export interface PendingRow {
  id: string;
  entry_hash: Buffer;
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
    const { rows } = await c.query('SELECT tree_size FROM log_state WHERE id = 1 FOR UPDATE');
    return Number(rows[0].tree_size);
  },

  async takePending(c: PoolClient, max: number): Promise<PendingRow[]> {
    const { rows } = await c.query<PendingRow>('SELECT id, entry_hash FROM pending_entries ORDER BY id LIMIT $1', [max]);
    return rows;
  },

  async alreadyLogged(c: Queryable, hashes: Buffer[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const { rows } = await c.query<{ entry_hash: Buffer }>('SELECT entry_hash FROM log_leaves WHERE entry_hash = ANY($1::bytea[])', [hashes]);
    return new Set(rows.map((r) => r.entry_hash.toString('hex')));
  },

  async insertLeaves(c: PoolClient, first: number, hashes: Buffer[]): Promise<void> {
    if (hashes.length === 0) return;
    await c.query(
      `INSERT INTO log_leaves (idx, entry_hash) SELECT $1::bigint + o - 1, h FROM unnest($2::bytea[]) WITH ORDINALITY AS t(h, o)`,
      [first, hashes],
    );
  },

  async upsertTiles(c: PoolClient, tiles: { level: number; index: number; data: Buffer }[]): Promise<void> {
    if (tiles.length === 0) return;
    await c.query(
      `INSERT INTO tiles (level, idx, hashes) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])
       ON CONFLICT (level, idx) DO UPDATE SET hashes = EXCLUDED.hashes`,
      [tiles.map((t) => t.level), tiles.map((t) => t.index), tiles.map((t) => t.data)],
    );
  },

  async insertCheckpoint(c: Queryable, cp: Checkpoint): Promise<void> {
    await c.query(
      `INSERT INTO checkpoints (${CHECKPOINT_COLS}) VALUES ($1, $2, $3, $4, $5, $6)`,
      [cp.treeSize, cp.root, cp.note, cp.receiptProtected, cp.receiptSignature, cp.createdAt],
    );
  },

  async setSize(c: PoolClient, size: number): Promise<void> {
    await c.query('UPDATE log_state SET tree_size = $1, updated_at = now() WHERE id = 1', [size]);
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
