import type { Pool, PoolClient } from 'pg';
import { LOCKS, type Queryable } from '../db/db';

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

function admitSql(versionGuard: string): string {
  // Entry hashes ($1) and statements ($2) travel as two binary byte strings, cut apart here by
  // position, offset and length: pg sends a Buffer parameter as binary, but a bytea[] as hex text.
  return `WITH src (h, st, iss, sub, ct, kind, digest, lreg, lrepo, ldig, skip) AS (
         SELECT substring($1::bytea FROM (o::int - 1) * 32 + 1 FOR 32), substring($2::bytea FROM off + 1 FOR len),
                iss, sub, ct, kind, digest, lreg, lrepo, ldig, skip
           FROM unnest($3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::smallint[],
                       $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
                WITH ORDINALITY AS t(off, len, iss, sub, ct, kind, digest, lreg, lrepo, ldig, skip, o)),
       ok AS (SELECT ${versionGuard} AS ok),
       ins AS (
         INSERT INTO entries (entry_hash, statement, issuer, subject, content_type, kind, artifact_digest, link_skip)
         SELECT h, st, iss, sub, ct, kind, CASE WHEN kind = 0 THEN digest END, skip FROM src WHERE (SELECT ok FROM ok)
         ON CONFLICT (entry_hash) DO NOTHING
         RETURNING entry_hash),
       pend AS (INSERT INTO pending_entries (entry_hash) SELECT entry_hash FROM ins),
       lo AS (
         INSERT INTO link_outbox (entry_hash, registry, repository, subject_digest)
         SELECT s.h, s.lreg, s.lrepo, s.ldig FROM src s JOIN ins i ON i.entry_hash = s.h WHERE s.lreg IS NOT NULL
         ON CONFLICT (entry_hash, registry) DO NOTHING)
       SELECT NULL::bytea AS entry_hash, (SELECT ok FROM ok) AS ok
       UNION ALL SELECT entry_hash, true FROM ins`;
}
const ADMIT = admitSql('true');
// The guard (migration AdmissionGuard) takes the trust lock shared and reads the version after it.
const ADMIT_GUARDED = admitSql(`scitt_trust_guard(${LOCKS.trust}, $14)`);

export const EntriesRepository = {
  /**
   * Acknowledges entries durably in ONE statement: the statement rows (with the claims-index
   * digest, and why the claim will not be linked when it will not), a pending row for each entry
   * not already known (content addressing makes resubmission a no-op) and its registry-link outbox
   * row. With
   * `expectTrustVersion`, nothing is written unless trust_state still has that version once the
   * trust lock is held shared; `stale` says so. Guarded, it runs on the pool itself (autocommit):
   * the statement is its own transaction and holds the lock until it commits. The batch travels as
   * a few binary byte strings and arrays into one fixed, named statement, so PostgreSQL parses and
   * plans it once per connection (a VALUES list with a parameter per value was re-planned for every
   * batch size).
   */
  async admit(c: Pool | PoolClient, items: AdmitRow[], expectTrustVersion?: number): Promise<{ stale: boolean; inserted: Set<string> }> {
    if (items.length === 0) return { stale: false, inserted: new Set() };
    const n = items.length;
    const hashes = Buffer.allocUnsafe(32 * n);
    const statements: Uint8Array[] = new Array(n);
    const cols: unknown[][] = Array.from({ length: 11 }, () => new Array(n));
    let offset = 0;
    items.forEach((i, k) => {
      if (i.entryHash.length !== 32) throw new Error('an entry hash is 32 bytes');
      const link = i.link && 'registry' in i.link ? i.link : undefined;
      hashes.set(i.entryHash, 32 * k);
      statements[k] = i.statement;
      cols[0][k] = offset;
      cols[1][k] = i.statement.byteLength;
      offset += i.statement.byteLength;
      cols[2][k] = i.issuer;
      cols[3][k] = i.subject ?? null;
      cols[4][k] = i.contentType ?? null;
      cols[5][k] = i.kind;
      cols[6][k] = i.artifactDigest ?? null;
      cols[7][k] = link?.registry ?? null;
      cols[8][k] = link?.repository ?? null;
      cols[9][k] = link?.digest ?? null;
      cols[10][k] = i.link && 'skip' in i.link ? i.link.skip : null;
    });
    const values = [hashes, Buffer.concat(statements, offset), ...cols];
    const guarded = expectTrustVersion !== undefined;
    const { rows } = await c.query<{ entry_hash: Buffer | null; ok: boolean }>({
      // One fixed text per variant, prepared once per connection: PostgreSQL parses and plans it once.
      name: guarded ? 'admit-guarded' : 'admit',
      text: guarded ? ADMIT_GUARDED : ADMIT,
      values: guarded ? [...values, expectTrustVersion] : values,
    });
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
