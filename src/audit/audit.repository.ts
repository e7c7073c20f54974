import type { Queryable } from '../db/db';
import { LogRepository } from '../log/log.repository';

export const AuditRepository = {
  async tile(q: Queryable, level: number, index: number): Promise<Buffer | undefined> {
    return (await LogRepository.readTiles(q, [{ level, index }])).get(`${level}/${index}`);
  },

  /** Entry hashes of leaves [start, end) in index order. */
  async entryHashes(q: Queryable, start: number, end: number): Promise<Buffer[]> {
    const { rows } = await q.query<{ entry_hash: Buffer }>('SELECT entry_hash FROM log_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx', [start, end]);
    return rows.map((r) => r.entry_hash);
  },

  /** Registered statements of leaves [start, end) in index order, with their index. */
  async statements(q: Queryable, start: number, end: number): Promise<{ idx: number; statement: Buffer }[]> {
    const { rows } = await q.query<{ idx: string; statement: Buffer }>(
      `SELECT l.idx, e.statement FROM log_leaves l JOIN entries e ON e.entry_hash = l.entry_hash
        WHERE l.idx >= $1 AND l.idx < $2 ORDER BY l.idx`,
      [start, end],
    );
    return rows.map((r) => ({ idx: Number(r.idx), statement: r.statement }));
  },
};
