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
  /** Same transaction as the entry: the index can never miss an acknowledged claim. */
  async insert(c: PoolClient, items: { entryHash: Buffer; issuer: string; subject?: string; contentType?: string }[]): Promise<void> {
    const rows = items.map((i) => ({ ...i, digest: artifactDigestOf(i.subject) })).filter((i) => i.digest);
    if (rows.length === 0) return;
    await c.query(
      `INSERT INTO claims (entry_hash, artifact_digest, issuer, subject, content_type, registered_at)
       SELECT h, d, i, s, ct, e.registered_at
         FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(h, d, i, s, ct)
         JOIN entries e ON e.entry_hash = t.h
       ON CONFLICT (entry_hash) DO NOTHING`,
      [rows.map((r) => r.entryHash), rows.map((r) => r.digest), rows.map((r) => r.issuer), rows.map((r) => r.subject), rows.map((r) => r.contentType ?? null)],
    );
  },

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
    const { rows } = await q.query(
      `SELECT c.entry_hash, c.artifact_digest, c.issuer, c.subject, c.content_type, c.registered_at, l.idx
         FROM claims c LEFT JOIN log_leaves l ON l.entry_hash = c.entry_hash
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

  /** Rebuilds the index from the entries (which are what the log holds). Returns rows written. */
  async rebuild(c: PoolClient): Promise<number> {
    await c.query('DELETE FROM claims');
    let written = 0;
    let after: Buffer = Buffer.alloc(0);
    for (;;) {
      const { rows } = await c.query<{ entry_hash: Buffer; issuer: string; subject: string | null; content_type: string | null }>(
        `SELECT entry_hash, issuer, subject, content_type FROM entries WHERE kind = 0 AND entry_hash > $1 ORDER BY entry_hash LIMIT 5000`,
        [after],
      );
      if (rows.length === 0) return written;
      const items = rows.map((r) => ({ entryHash: r.entry_hash, issuer: r.issuer, subject: r.subject ?? undefined, contentType: r.content_type ?? undefined }));
      await ClaimsRepository.insert(c, items);
      written += items.filter((i) => artifactDigestOf(i.subject)).length;
      after = rows[rows.length - 1].entry_hash;
    }
  },
};
