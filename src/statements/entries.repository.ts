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

/** One row of the admission's JSON parameter (short keys: it is built for every registration). */
interface AdmitJsonRow {
  k: number;
  o: number;
  n: number;
  i: string;
  s?: string;
  c?: string;
  t: number;
  d?: string;
  lr?: string;
  lp?: string;
  ld?: string;
  x?: string;
}

function admitSql(versionGuard: string): string {
  // Entry hashes ($1) and statements ($2) travel as two binary byte strings, cut apart here by
  // position, offset and length: pg sends a Buffer parameter as binary, but a bytea[] as hex text.
  // The other columns travel as one JSON array of rows ($3; an absent key is NULL): one
  // JSON.stringify instead of eleven arrays each escaped into PostgreSQL's array text by pg, which
  // made ~2 KB of garbage a registration.
  return `WITH src (h, st, iss, sub, ct, kind, digest, lreg, lrepo, ldig, skip) AS (
         SELECT substring($1::bytea FROM r.k * 32 + 1 FOR 32), substring($2::bytea FROM r.o + 1 FOR r.n),
                r.i, r.s, r.c, r.t, r.d, r.lr, r.lp, r.ld, r.x
           FROM json_to_recordset($3::json)
                AS r(k int, o int, n int, i text, s text, c text, t smallint, d text, lr text, lp text, ld text, x text)),
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
       SELECT NULL AS entry_hash, (SELECT ok FROM ok) AS ok
       UNION ALL SELECT encode(entry_hash, 'hex'), true FROM ins`;
}
const ADMIT = admitSql('true');
// The guard (migration AdmissionGuard) takes the trust lock shared and reads the version after it.
const ADMIT_GUARDED = admitSql(`scitt_trust_guard(${LOCKS.trust}, $4)`);

export const EntriesRepository = {
  /**
   * Acknowledges entries durably in ONE statement: the statement rows (with the claims-index
   * digest, and why the claim will not be linked when it will not), a pending row for each entry
   * not already known (content addressing makes resubmission a no-op) and its registry-link outbox
   * row. With `expectTrustVersion`, nothing is written unless trust_state still has that version
   * once the trust lock is held shared; `stale` says so. Guarded, it runs on the pool itself
   * (autocommit): the statement is its own transaction and holds the lock until it commits. The
   * batch travels as two binary byte strings and one JSON text into one fixed, named statement, so
   * PostgreSQL parses and plans it once per connection (a VALUES list with a parameter per value
   * was re-planned for every batch size).
   */
  async admit(c: Pool | PoolClient, items: AdmitRow[], expectTrustVersion?: number): Promise<{ stale: boolean; inserted: Set<string> }> {
    if (items.length === 0) return { stale: false, inserted: new Set() };
    const n = items.length;
    const hashes = Buffer.allocUnsafe(32 * n);
    const statements: Uint8Array[] = new Array(n);
    const rows: AdmitJsonRow[] = new Array(n);
    let offset = 0;
    items.forEach((i, k) => {
      if (i.entryHash.length !== 32) throw new Error('an entry hash is 32 bytes');
      const link = i.link && 'registry' in i.link ? i.link : undefined;
      hashes.set(i.entryHash, 32 * k);
      statements[k] = i.statement;
      rows[k] = {
        k,
        o: offset,
        n: i.statement.byteLength,
        i: i.issuer,
        s: i.subject,
        c: i.contentType,
        t: i.kind,
        d: i.artifactDigest,
        lr: link?.registry,
        lp: link?.repository,
        ld: link?.digest,
        x: i.link && 'skip' in i.link ? i.link.skip : undefined,
      };
      offset += i.statement.byteLength;
    });
    const values = [hashes, Buffer.concat(statements, offset), JSON.stringify(rows)];
    const guarded = expectTrustVersion !== undefined;
    const { rows: out } = await c.query<{ entry_hash: string | null; ok: boolean }>({
      // One fixed text per variant, prepared once per connection: PostgreSQL parses and plans it once.
      name: guarded ? 'admit-guarded' : 'admit',
      text: guarded ? ADMIT_GUARDED : ADMIT,
      values: guarded ? [...values, expectTrustVersion] : values,
    });
    const stale = out.some((r) => r.entry_hash === null && !r.ok);
    return { stale, inserted: new Set(out.filter((r) => r.entry_hash !== null).map((r) => r.entry_hash!)) };
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
