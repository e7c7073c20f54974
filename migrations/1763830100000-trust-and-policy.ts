import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issuer trust and the registration policy. Both are caches of what the log itself records
 * (every change is a service-signed statement in `entries`); `trust_state.version` tells other
 * processes their cached copy is stale.
 */
export class TrustAndPolicy1763830100000 implements MigrationInterface {
  name = 'TrustAndPolicy1763830100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE issuers (
        iss        text PRIMARY KEY,
        keys       jsonb NOT NULL,
        entry_hash bytea NOT NULL REFERENCES entries(entry_hash),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE policy (
        id         smallint PRIMARY KEY CHECK (id = 1),
        doc        jsonb NOT NULL,
        entry_hash bytea NOT NULL REFERENCES entries(entry_hash),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE trust_state (
        id      smallint PRIMARY KEY CHECK (id = 1),
        version bigint NOT NULL
      )`);
    await q.query(`INSERT INTO trust_state (id, version) VALUES (1, 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE trust_state`);
    await q.query(`DROP TABLE policy`);
    await q.query(`DROP TABLE issuers`);
  }
}
