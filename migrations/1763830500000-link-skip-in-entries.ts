import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Why a claim was not linked into a registry becomes a column of `entries` instead of a row of
 * `link_skips`. Nearly every claim whose subject is not in a configured registry had its own
 * `link_skips` row: a second heap tuple, a second random-keyed primary key and a speculative
 * (ON CONFLICT) insertion per registration, for a short text read only by GET /entries/{id}/links.
 */
export class LinkSkipInEntries1763830500000 implements MigrationInterface {
  name = 'LinkSkipInEntries1763830500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE entries ADD COLUMN link_skip text`);
    await q.query(`COMMENT ON COLUMN entries.link_skip IS 'why the claim is not linked into a registry (NULL: linked, or not a claim)'`);
    await q.query(`UPDATE entries e SET link_skip = s.reason FROM link_skips s WHERE s.entry_hash = e.entry_hash`);
    await q.query(`DROP TABLE link_skips`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE link_skips (
        entry_hash bytea PRIMARY KEY,
        reason     text NOT NULL
      )`);
    await q.query(`INSERT INTO link_skips (entry_hash, reason) SELECT entry_hash, link_skip FROM entries WHERE link_skip IS NOT NULL`);
    await q.query(`ALTER TABLE entries DROP COLUMN link_skip`);
  }
}
