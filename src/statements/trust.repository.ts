import type { PoolClient } from 'pg';
import type { Queryable } from '../db/db';
import { LOCKS } from '../db/db';

export const TrustRepository = {
  async version(q: Queryable): Promise<number> {
    const { rows } = await q.query<{ version: string }>('SELECT version FROM trust_state WHERE id = 1');
    return Number(rows[0].version);
  },

  async loadAll(q: Queryable): Promise<{ version: number; policy?: unknown; issuers: { iss: string; keys: Record<string, unknown>[] }[] }> {
    const version = await TrustRepository.version(q);
    const { rows: p } = await q.query<{ doc: unknown }>('SELECT doc FROM policy WHERE id = 1');
    const { rows: issuers } = await q.query<{ iss: string; keys: Record<string, unknown>[] }>('SELECT iss, keys FROM issuers ORDER BY iss');
    return { version, policy: p[0]?.doc, issuers };
  },

  /** Exclusive: waits for in-flight registration batches (which hold it shared) to commit. */
  async lockExclusive(c: PoolClient): Promise<void> {
    await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.trust]);
  },

  async bumpVersion(c: PoolClient): Promise<number> {
    const { rows } = await c.query<{ version: string }>('UPDATE trust_state SET version = version + 1 WHERE id = 1 RETURNING version');
    return Number(rows[0].version);
  },

  async upsertIssuer(c: PoolClient, iss: string, keys: unknown[], entryHash: Buffer): Promise<void> {
    await c.query(
      `INSERT INTO issuers (iss, keys, entry_hash) VALUES ($1, $2, $3)
       ON CONFLICT (iss) DO UPDATE SET keys = EXCLUDED.keys, entry_hash = EXCLUDED.entry_hash, updated_at = now()`,
      [iss, JSON.stringify(keys), entryHash],
    );
  },

  async deleteIssuer(c: PoolClient, iss: string): Promise<boolean> {
    const r = await c.query('DELETE FROM issuers WHERE iss = $1', [iss]);
    return (r.rowCount ?? 0) > 0;
  },

  async setPolicy(c: PoolClient, doc: unknown, entryHash: Buffer): Promise<void> {
    await c.query(
      `INSERT INTO policy (id, doc, entry_hash) VALUES (1, $1, $2)
       ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, entry_hash = EXCLUDED.entry_hash, updated_at = now()`,
      [JSON.stringify(doc), entryHash],
    );
  },
};
