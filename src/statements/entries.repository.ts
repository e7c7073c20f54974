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

/** Where a claim's transparent statement will be linked, or why it will not be. */
export type LinkPlan = { registry: string; repository: string; digest: string } | { skip: string };

export interface AdmitRow extends NewEntry {
  /** Artifact digest for the claims index (from `sub`), when the subject names one. */
  artifactDigest?: string;
  link?: LinkPlan;
}

const COLS = 11;

export const EntriesRepository = {
  /**
   * Acknowledges entries durably in ONE statement: the statement rows, a pending row for each entry
   * not already known (content addressing makes resubmission a no-op), its claims-index row and its
   * registry-link outbox row (or the reason it will not be linked). With `expectTrustVersion`, nothing
   * is written unless trust_state still has that version; `stale` says so. Parameters are bound one
   * per value (not as array literals) so pg sends the statement bytes in binary.
   */
  async admit(c: PoolClient, items: AdmitRow[], expectTrustVersion?: number): Promise<{ stale: boolean; inserted: Set<string> }> {
    if (items.length === 0) return { stale: false, inserted: new Set() };
    const params: unknown[] = [];
    const tuples = items.map((i) => {
      const b = params.length;
      const link = i.link && 'registry' in i.link ? i.link : undefined;
      const skip = i.link && 'skip' in i.link ? i.link.skip : null;
      params.push(
        i.entryHash,
        Buffer.from(i.statement.buffer, i.statement.byteOffset, i.statement.byteLength),
        i.issuer,
        i.subject ?? null,
        i.contentType ?? null,
        i.kind,
        i.artifactDigest ?? null,
        link?.registry ?? null,
        link?.repository ?? null,
        link?.digest ?? null,
        skip,
      );
      return `(${Array.from({ length: COLS }, (_, k) => `$${b + k + 1}${k === 5 ? '::smallint' : k < 2 ? '::bytea' : '::text'}`).join(', ')})`;
    });
    const versionGuard = expectTrustVersion === undefined ? 'true' : `EXISTS (SELECT 1 FROM trust_state WHERE id = 1 AND version = $${params.push(expectTrustVersion)})`;
    const { rows } = await c.query<{ entry_hash: Buffer | null; ok: boolean }>(
      `WITH src (h, st, iss, sub, ct, kind, digest, lreg, lrepo, ldig, skip) AS (VALUES ${tuples.join(', ')}),
       ok AS (SELECT ${versionGuard} AS ok),
       ins AS (
         INSERT INTO entries (entry_hash, statement, issuer, subject, content_type, kind)
         SELECT h, st, iss, sub, ct, kind FROM src WHERE (SELECT ok FROM ok)
         ON CONFLICT (entry_hash) DO NOTHING
         RETURNING entry_hash, registered_at),
       pend AS (INSERT INTO pending_entries (entry_hash) SELECT entry_hash FROM ins),
       cl AS (
         INSERT INTO claims (entry_hash, artifact_digest, issuer, subject, content_type, registered_at)
         SELECT s.h, s.digest, s.iss, s.sub, s.ct, i.registered_at FROM src s JOIN ins i ON i.entry_hash = s.h
          WHERE s.digest IS NOT NULL AND s.kind = 0
         ON CONFLICT (entry_hash) DO NOTHING),
       lo AS (
         INSERT INTO link_outbox (entry_hash, registry, repository, subject_digest)
         SELECT s.h, s.lreg, s.lrepo, s.ldig FROM src s JOIN ins i ON i.entry_hash = s.h WHERE s.lreg IS NOT NULL
         ON CONFLICT (entry_hash, registry) DO NOTHING),
       ls AS (
         INSERT INTO link_skips (entry_hash, reason)
         SELECT s.h, s.skip FROM src s JOIN ins i ON i.entry_hash = s.h WHERE s.skip IS NOT NULL
         ON CONFLICT (entry_hash) DO NOTHING)
       SELECT NULL::bytea AS entry_hash, (SELECT ok FROM ok) AS ok
       UNION ALL SELECT entry_hash, true FROM ins`,
      params,
    );
    const stale = rows.some((r) => r.entry_hash === null && !r.ok);
    return { stale, inserted: new Set(rows.filter((r) => r.entry_hash).map((r) => r.entry_hash!.toString('hex'))) };
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
