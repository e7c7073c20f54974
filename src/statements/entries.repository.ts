import type { PoolClient } from 'pg';
import type { Queryable } from '../db/db';

export interface NewEntry {
  entryHash: Buffer;
  statement: Uint8Array;
  issuer: string;
  subject?: string;
  contentType?: string;
  kind: number;
}

export interface StoredEntry {
  entryHash: Buffer;
  statement: Buffer;
  issuer: string;
  subject: string | null;
  contentType: string | null;
  kind: number;
  registeredAt: Date;
  idx: number | null;
}

export const EntriesRepository = {
  /**
   * Acknowledges entries durably: the statement rows plus a pending row for each entry that was
   * not already known (content addressing makes resubmission a no-op). Returns the hashes inserted.
   */
  async admit(c: PoolClient, items: NewEntry[]): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const { rows } = await c.query<{ entry_hash: Buffer }>(
      `WITH ins AS (
         INSERT INTO entries (entry_hash, statement, issuer, subject, content_type, kind)
         SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::smallint[])
         ON CONFLICT (entry_hash) DO NOTHING
         RETURNING entry_hash)
       INSERT INTO pending_entries (entry_hash) SELECT entry_hash FROM ins RETURNING entry_hash`,
      [
        items.map((i) => i.entryHash),
        items.map((i) => Buffer.from(i.statement.buffer, i.statement.byteOffset, i.statement.byteLength)),
        items.map((i) => i.issuer),
        items.map((i) => i.subject ?? null),
        items.map((i) => i.contentType ?? null),
        items.map((i) => i.kind),
      ],
    );
    return new Set(rows.map((r) => r.entry_hash.toString('hex')));
  },

  async get(q: Queryable, entryHash: Buffer): Promise<StoredEntry | undefined> {
    const { rows } = await q.query(
      `SELECT e.entry_hash, e.statement, e.issuer, e.subject, e.content_type, e.kind, e.registered_at, l.idx
         FROM entries e LEFT JOIN log_leaves l ON l.entry_hash = e.entry_hash WHERE e.entry_hash = $1`,
      [entryHash],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      entryHash: r.entry_hash,
      statement: r.statement,
      issuer: r.issuer,
      subject: r.subject,
      contentType: r.content_type,
      kind: r.kind,
      registeredAt: r.registered_at,
      idx: r.idx === null ? null : Number(r.idx),
    };
  },
};
