import { Client } from 'pg';
import { LOCKS } from './db';

const MIGRATION_LOCK = LOCKS.sequencerLeader + 100;

/** Several processes starting at once must not run the same migration twice. */
export async function withMigrationLock<T>(url: string, fn: () => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return await fn();
  } finally {
    await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await c.end();
  }
}
