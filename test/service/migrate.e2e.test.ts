import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { REPO_ROOT, baseEnv, tempDir } from '../helpers/service';

const MIGRATE = join(REPO_ROOT, 'dist/src/cli/migrate.js');

function runMigrate(env: Record<string, string | undefined>) {
  return spawnSync(process.execPath, [MIGRATE], { env: env as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 60000 });
}

describe('npm run migrate', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('migrate');
  });
  after(async () => {
    await db?.drop();
  });

  it('applies every migration once to DATABASE_URL, then reports it up to date', async () => {
    const env = baseEnv({ DATABASE_URL: db.url });
    const first = runMigrate(env);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /applied \d+ migration\(s\)/);
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const { rows } = await c.query('SELECT count(*)::int AS n FROM schema_migrations');
      assert.ok(rows[0].n >= 3, `migrations recorded: ${rows[0].n}`);
      const t = await c.query("SELECT to_regclass('public.entries') AS e, to_regclass('public.tiles') AS t");
      assert.equal(t.rows[0].e, 'entries');
      assert.equal(t.rows[0].t, 'tiles');
      const second = runMigrate(env);
      assert.equal(second.status, 0, second.stderr);
      assert.match(second.stdout, /up to date/);
      const again = await c.query('SELECT count(*)::int AS n FROM schema_migrations');
      assert.equal(again.rows[0].n, rows[0].n, 'nothing applied twice');
    } finally {
      await c.end();
    }
  });

  it('migrates the embedded database in DATA_DIR when DATABASE_URL is unset', () => {
    const env = baseEnv({ DATABASE_URL: undefined, DATA_DIR: tempDir() });
    const r = runMigrate(env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /applied \d+ migration\(s\) to embedded database/);
    assert.match(runMigrate(env).stdout, /up to date/);
  });

  it('a bad variable is named and exits 2', () => {
    const r = runMigrate(baseEnv({ DATABASE_URL: db.url, LOG_BATCH_MS: 'soon' }));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /LOG_BATCH_MS/);
  });
});
