import type { PoolClient } from 'pg';
import { artifactDigestOf } from '../core/artifact';
import type { Queryable } from '../db/db';

export interface ClaimRow {
  entryHash: Buffer;
  artifactDigest: string;
  issuer: string;
  subject: string;
  contentType: string | null;
  registeredAt: Date;
  idx: number | null;
}

export interface ClaimQuery {
  digest: string;
  issuer?: string;
  contentType?: string;
  since?: Date;
  until?: Date;
  after?: { at: Date; hash: Buffer };
  limit: number;
}

export const ClaimsRepository = {
  async find(q: Queryable, f: ClaimQuery): Promise<ClaimRow[]> {
    const where = ['c.artifact_digest = $1'];
    const params: unknown[] = [f.digest];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.issuer) add('c.issuer = ?', f.issuer);
    if (f.contentType) add('c.content_type = ?', f.contentType);
    if (f.since) add('c.registered_at >= ?', f.since);
    if (f.until) add('c.registered_at < ?', f.until);
    if (f.after) {
      params.push(f.after.at, f.after.hash);
      where.push(`(c.registered_at, c.entry_hash) > ($${params.length - 1}, $${params.length})`);
    }
    params.push(f.limit);
    // The index is entries.artifact_digest (set for claims only) under a partial index.
    const { rows } = await q.query(
      `SELECT c.entry_hash, c.artifact_digest, c.issuer, c.subject, c.content_type, c.registered_at, l.idx
         FROM entries c LEFT JOIN log_leaves l ON l.entry_hash = c.entry_hash
        WHERE ${where.join(' AND ')}
        ORDER BY c.registered_at, c.entry_hash
        LIMIT $${params.length}`,
      params,
    );
    return rows.map((r: any) => ({
      entryHash: r.entry_hash,
      artifactDigest: r.artifact_digest,
      issuer: r.issuer,
      subject: r.subject,
      contentType: r.content_type,
      registeredAt: r.registered_at,
      idx: r.idx === null ? null : Number(r.idx),
    }));
  },

  /**
   * Rebuilds the index from the entries (which are what the log holds): every claim's artifact
   * digest is derived again from its subject. Returns how many claims the index holds.
   */
  async rebuild(c: PoolClient): Promise<number> {
    await c.query('UPDATE entries SET artifact_digest = NULL WHERE artifact_digest IS NOT NULL');
    let written = 0;
    let after: Buffer = Buffer.alloc(0);
    for (;;) {
      const { rows } = await c.query<{ entry_hash: Buffer; subject: string | null }>(
        `SELECT entry_hash, subject FROM entries WHERE kind = 0 AND entry_hash > $1 ORDER BY entry_hash LIMIT 5000`,
        [after],
      );
      if (rows.length === 0) return written;
      const set = rows.map((r) => ({ h: r.entry_hash, d: artifactDigestOf(r.subject ?? undefined) })).filter((r) => r.d);
      if (set.length > 0) {
        await c.query(`UPDATE entries e SET artifact_digest = t.d FROM unnest($1::bytea[], $2::text[]) AS t(h, d) WHERE e.entry_hash = t.h`, [
          set.map((r) => r.h),
          set.map((r) => r.d),
        ]);
      }
      written += set.length;
      after = rows[rows.length - 1].entry_hash;
    }
  },
};
