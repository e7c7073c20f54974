import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

export interface Queryable {
  query<R extends QueryResultRow = any>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/**
 * A thin handle on the pg pool that TypeORM owns, for the hot paths whose SQL we want to read
 * and tune directly (multi-row inserts through unnest, FOR UPDATE, advisory locks). One pool
 * for the whole process; TypeORM repositories use the same connections.
 */
export class Db implements Queryable {
  constructor(readonly pool: Pool, readonly embedded: boolean) {}

  static fromDataSource(ds: DataSource, embedded: boolean): Db {
    const pool = (ds.driver as unknown as { master: Pool }).master;
    if (!pool) throw new Error('DataSource is not initialised');
    return new Db(pool, embedded);
  }

  query<R extends QueryResultRow = any>(sql: string, params?: unknown[]) {
    return this.pool.query<R>(sql, params as any[]);
  }

  /**
   * Runs fn in one transaction; rolls back on any error. Never await another pool query inside fn
   * (PGlite). `first` is a parameterless statement (a row lock, say) sent with BEGIN in one round
   * trip; its rows are handed to fn, and later statements in fn get snapshots taken after any lock
   * it took was granted.
   */
  async tx<T>(fn: (c: PoolClient, firstRows: any[]) => Promise<T>, opts: { first?: string } = {}): Promise<T> {
    const c = await this.pool.connect();
    try {
      // One round trip for BEGIN and `first`: a simple query.
      const sql = ['BEGIN'];
      if (opts.first !== undefined) sql.push(opts.first);
      const begun = (await c.query(sql.join('; '))) as unknown as { rows: any[] } | { rows: any[] }[];
      const out = await fn(c, opts.first === undefined ? [] : Array.isArray(begun) ? begun[begun.length - 1].rows : begun.rows);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }
}

/** Advisory lock keys (pg_advisory_*): one namespace for the whole service. */
export const LOCKS = {
  /** Session lock held by the one sequencer leader. */
  sequencerLeader: 0x5c177001,
  /** Registration batches take it shared (scitt_trust_guard), issuer/policy changes exclusive, so the
   *  log order of a change and of the claims it affects matches the order decisions were made in. */
  trust: 0x5c177002,
} as const;
