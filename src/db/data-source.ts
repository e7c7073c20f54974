import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ENTITIES } from './entities';

export interface DataSourceOptions {
  url: string;
  poolSize?: number;
  embedded?: boolean;
}

/** The one TypeORM DataSource factory: explicit migrations, `synchronize` off. */
export function createDataSource(o: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: o.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    // PGlite's socket multiplexer interleaves the extended-protocol messages of concurrent
    // connections ("unnamed prepared statement does not exist"), so embedded mode uses one connection.
    extra: { max: o.embedded ? 1 : (o.poolSize ?? 16) },
  });
}

export async function runMigrations(ds: DataSource): Promise<string[]> {
  const done = await ds.runMigrations({ transaction: 'each' });
  return done.map((m) => m.name);
}
