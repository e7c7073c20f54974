import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The trust guard of a registration batch, callable from inside the batch's one INSERT statement.
 *
 * A batch must not be logged after an issuer/policy change that would have rejected it. The batch
 * takes the trust advisory lock shared (changes take it exclusive) and then compares
 * trust_state.version with the version its items were decided against. Inside one statement that
 * comparison cannot use the statement's own snapshot: it was taken before the lock was granted and
 * may predate a change that committed while the batch waited. A VOLATILE PL/pgSQL function takes a
 * fresh snapshot for each query it runs (READ COMMITTED), so its SELECT, run after the lock, sees
 * every committed change. This lets a batch be one statement in its own implicit transaction: one
 * round trip instead of BEGIN + lock, INSERT, COMMIT.
 */
export class AdmissionGuard1763830300000 implements MigrationInterface {
  name = 'AdmissionGuard1763830300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION scitt_trust_guard(lock_key bigint, expected bigint) RETURNS boolean
        LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(lock_key);
        RETURN EXISTS (SELECT 1 FROM trust_state WHERE id = 1 AND version = expected);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION scitt_trust_guard(bigint, bigint)`);
  }
}
