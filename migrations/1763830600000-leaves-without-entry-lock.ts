import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `log_leaves` loses its foreign key to `entries`, as the pending and link tables did in
 * ClaimsInEntries. The check ran per leaf as a lookup that also locks the statement's row FOR KEY
 * SHARE, which writes a lock record to the WAL and dirties the statement's heap page: measured on
 * 100,000 leaves, 1.5 s and 136 MB of WAL with the key against 0.5 s and 28 MB without (right after
 * a checkpoint, where the dirtied pages also cost full-page images). A leaf is only ever written by
 * the sequencer for a pending row, which the admission statement inserts together with its entry,
 * and entries are never deleted; the registration tests check that every leaf names a stored
 * statement, and the auditor re-checks every leaf against its statement.
 */
export class LeavesWithoutEntryLock1763830600000 implements MigrationInterface {
  name = 'LeavesWithoutEntryLock1763830600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE log_leaves DROP CONSTRAINT log_leaves_entry_hash_fkey`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE log_leaves ADD CONSTRAINT log_leaves_entry_hash_fkey FOREIGN KEY (entry_hash) REFERENCES entries(entry_hash)`);
  }
}
