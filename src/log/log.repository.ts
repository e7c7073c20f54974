import type { PoolClient } from 'pg';
import type { Queryable } from '../db/db';
import type { Checkpoint } from './checkpoint.signer';

const FULL_TILE_BYTES = 8192;

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

  /** Full tiles are inserted once; partial ones replace the edge row, which goes when the tile fills. */
  async writeTiles(c: PoolClient, tiles: { level: number; index: number; data: Buffer }[]): Promise<void> {
    const full = tiles.filter((t) => t.data.length === FULL_TILE_BYTES);
    const partial = tiles.filter((t) => t.data.length !== FULL_TILE_BYTES);
    if (full.length > 0) {
      const levels = full.map((t) => t.level);
      const idxs = full.map((t) => t.index);
      await c.query(
        `INSERT INTO tiles (level, idx, hashes) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[]) ON CONFLICT (level, idx) DO NOTHING`,
        [levels, idxs, full.map((t) => t.data)],
      );
      await c.query(`DELETE FROM tile_edges e USING unnest($1::smallint[], $2::bigint[]) AS k(level, idx) WHERE e.level = k.level AND e.idx = k.idx`, [levels, idxs]);
    }
    if (partial.length > 0) {
      await c.query(
        `INSERT INTO tile_edges (level, idx, hashes) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])
         ON CONFLICT (level, idx) DO UPDATE SET hashes = EXCLUDED.hashes`,
        [partial.map((t) => t.level), partial.map((t) => t.index), partial.map((t) => t.data)],
      );
    }
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
