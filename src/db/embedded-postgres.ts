import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * PGlite (PostgreSQL compiled to WASM) persisted in DATA_DIR/pglite, served on a loopback port by
 * pglite-socket so `pg` and TypeORM connect to it unchanged. It runs one transaction at a time
 * across all connections (see SCITT-NOTES), so code must never hold a transaction while awaiting a
 * query on another connection; the pool size is kept small for that reason.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dir = join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
  await server.start();
  // getServerConn() reports the requested port (0); the bound one is on the net.Server.
  const port = (server as unknown as { server?: { address(): { port: number } } }).server?.address().port;
  if (!port) throw new Error('embedded PostgreSQL did not report its port');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
