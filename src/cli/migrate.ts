/**
 * `npm run migrate`: apply pending migrations to DATABASE_URL (or to the embedded database in
 * DATA_DIR when DATABASE_URL is unset) and exit. The service also migrates at start; this is for
 * operators who migrate before rolling out new processes.
 */
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config/env.config';
import { createDataSource, runMigrations } from '../db/data-source';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded-postgres';
import { withMigrationLock } from '../db/migrate';

export async function migrate(env: Record<string, string | undefined>, out: (line: string) => void): Promise<string[]> {
  const config = loadConfig(env);
  let embedded: EmbeddedPostgres | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres(resolve(config.DATA_DIR));
    url = embedded.url;
  }
  const ds = createDataSource({ url, poolSize: 1, embedded: !!embedded });
  try {
    await ds.initialize();
    const applied = embedded ? await runMigrations(ds) : await withMigrationLock(url, () => runMigrations(ds));
    const where = embedded ? `embedded database in ${resolve(config.DATA_DIR)}` : 'DATABASE_URL';
    out(applied.length ? `applied ${applied.length} migration(s) to ${where}: ${applied.join(', ')}` : `${where} is up to date`);
    return applied;
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await embedded?.stop();
  }
}

if (require.main === module) {
  migrate(process.env, (l) => process.stdout.write(l + '\n')).then(
    () => process.exit(0),
    (e) => {
      process.stderr.write((e instanceof ConfigError ? e.message : `migration failed: ${e?.stack ?? e}`) + '\n');
      process.exit(e instanceof ConfigError ? 2 : 1);
    },
  );
}
