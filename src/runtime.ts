import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EnvConfig } from './config/env.config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded-postgres';
import { loadServiceKeys, type ServiceKeys } from './log/service-keys';

/** What the process resolves before Nest starts: the database to use, the keys and the admin token. */
export interface Runtime {
  config: EnvConfig;
  databaseUrl: string;
  embedded?: EmbeddedPostgres;
  keys: ServiceKeys;
  adminToken: string;
  /** Set when the admin token was generated/read from DATA_DIR (its path is printed, never the token). */
  adminTokenFile?: string;
}

/** The keys and the admin token (generated into DATA_DIR on first use). */
export function resolveKeysAndToken(config: EnvConfig): Pick<Runtime, 'keys' | 'adminToken' | 'adminTokenFile'> {
  const dataDir = resolve(config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const keys = loadServiceKeys({ dataDir, receiptKeyFile: config.RECEIPT_KEY_FILE, noteKeyFile: config.NOTE_KEY_FILE, origin: config.LOG_ORIGIN });
  let adminToken = config.ADMIN_TOKEN;
  let adminTokenFile: string | undefined;
  if (!adminToken) {
    adminTokenFile = join(dataDir, 'admin-token');
    if (!existsSync(adminTokenFile)) {
      try {
        writeFileSync(adminTokenFile, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
      } catch (e: any) {
        if (e?.code !== 'EEXIST') throw e;
      }
    }
    adminToken = readFileSync(adminTokenFile, 'utf8').trim();
  }
  return { keys, adminToken, adminTokenFile };
}

export async function resolveRuntime(config: EnvConfig): Promise<Runtime> {
  const { keys, adminToken, adminTokenFile } = resolveKeysAndToken(config);
  const dataDir = resolve(config.DATA_DIR);
  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(dataDir);
    databaseUrl = embedded.url;
  }
  return { config, databaseUrl, embedded, keys, adminToken, adminTokenFile };
}
