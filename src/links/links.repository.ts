import type { Queryable } from '../db/db';

export interface OutboxRow {
  id: string;
  entryHash: Buffer;
  registry: string;
  repository: string;
  subjectDigest: string;
  attempts: number;
  idx: number;
  registeredAt: Date;
}

export interface LinkStatusRow {
  registry: string;
  repository: string;
  subjectDigest: string;
  status: 'pending' | 'linked' | 'failed';
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  manifestDigest: string | null;
  via: string | null;
  updatedAt: Date;
}

export const LinksRepository = {
  /**
   * Leases up to `max` due rows of integrated entries for `leaseSeconds`: the lease (next_attempt_at
   * pushed forward) is what keeps two workers from delivering the same row at once, without holding
   * a transaction across network calls. A worker that dies simply lets its lease expire.
   */
  async lease(q: Queryable, max: number, leaseSeconds: number): Promise<OutboxRow[]> {
    const { rows } = await q.query(
      `UPDATE link_outbox o SET next_attempt_at = now() + make_interval(secs => $2), updated_at = now()
        FROM (SELECT o2.id FROM link_outbox o2 JOIN log_leaves l ON l.entry_hash = o2.entry_hash
               WHERE o2.status <> 'linked' AND o2.next_attempt_at <= now()
               ORDER BY o2.next_attempt_at LIMIT $1 FOR UPDATE OF o2 SKIP LOCKED) due
       WHERE o.id = due.id
       RETURNING o.id, o.entry_hash, o.registry, o.repository, o.subject_digest, o.attempts,
         (SELECT idx FROM log_leaves WHERE entry_hash = o.entry_hash) AS idx,
         (SELECT registered_at FROM entries WHERE entry_hash = o.entry_hash) AS registered_at`,
      [max, leaseSeconds],
    );
    return rows.map((r: any) => ({
      id: r.id,
      entryHash: r.entry_hash,
      registry: r.registry,
      repository: r.repository,
      subjectDigest: r.subject_digest,
      attempts: r.attempts,
      idx: Number(r.idx),
      registeredAt: r.registered_at,
    }));
  },

  async linked(q: Queryable, id: string, manifestDigest: string, via: string): Promise<void> {
    await q.query(
      `UPDATE link_outbox SET status = 'linked', manifest_digest = $2, via = $3, attempts = attempts + 1, last_error = NULL, updated_at = now() WHERE id = $1`,
      [id, manifestDigest, via],
    );
  },

  async failed(q: Queryable, id: string, error: string, retryInSeconds: number, permanent: boolean): Promise<void> {
    await q.query(
      `UPDATE link_outbox SET status = $4, attempts = attempts + 1, last_error = $2,
              next_attempt_at = now() + make_interval(secs => $3), updated_at = now() WHERE id = $1`,
      [id, error.slice(0, 1000), retryInSeconds, permanent ? 'failed' : 'pending'],
    );
  },

  async forEntry(q: Queryable, entryHash: Buffer): Promise<{ links: LinkStatusRow[]; skipped?: string }> {
    const { rows } = await q.query(
      `SELECT registry, repository, subject_digest, status, attempts, next_attempt_at, last_error, manifest_digest, via, updated_at
         FROM link_outbox WHERE entry_hash = $1 ORDER BY registry`,
      [entryHash],
    );
    const { rows: skip } = await q.query<{ reason: string }>('SELECT link_skip AS reason FROM entries WHERE entry_hash = $1 AND link_skip IS NOT NULL', [entryHash]);
    return {
      links: rows.map((r: any) => ({
        registry: r.registry,
        repository: r.repository,
        subjectDigest: r.subject_digest,
        status: r.status,
        attempts: r.attempts,
        nextAttemptAt: r.next_attempt_at,
        lastError: r.last_error,
        manifestDigest: r.manifest_digest,
        via: r.via,
        updatedAt: r.updated_at,
      })),
      skipped: skip[0]?.reason,
    };
  },
};
