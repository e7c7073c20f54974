import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Claims by artifact digest (written in the same transaction as the entry, rebuildable from the log)
 * and the registry link outbox (written with the entry; a worker delivers each row to its registry).
 */
export class ClaimsAndLinks1763830200000 implements MigrationInterface {
  name = 'ClaimsAndLinks1763830200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE claims (
        entry_hash      bytea PRIMARY KEY REFERENCES entries(entry_hash),
        artifact_digest text NOT NULL,
        issuer          text NOT NULL,
        subject         text NOT NULL,
        content_type    text,
        registered_at   timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX claims_artifact_time_idx ON claims (artifact_digest, registered_at, entry_hash)`);
    await q.query(`
      CREATE TABLE link_outbox (
        id              bigserial PRIMARY KEY,
        entry_hash      bytea NOT NULL REFERENCES entries(entry_hash),
        registry        text NOT NULL,
        repository      text NOT NULL,
        subject_digest  text NOT NULL,
        status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'linked', 'failed')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error      text,
        manifest_digest text,
        via             text,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT link_outbox_entry_registry_key UNIQUE (entry_hash, registry)
      )`);
    await q.query(`CREATE INDEX link_outbox_due_idx ON link_outbox (next_attempt_at) WHERE status <> 'linked'`);
    // Why a claim was not linked (no OCI subject, registry not configured) is kept for GET /entries/{id}/links.
    await q.query(`
      CREATE TABLE link_skips (
        entry_hash bytea PRIMARY KEY REFERENCES entries(entry_hash),
        reason     text NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE link_skips');
    await q.query('DROP TABLE link_outbox');
    await q.query('DROP TABLE claims');
  }
}
