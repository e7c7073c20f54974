import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { entryHash, inclusionProofFromTiles, leafHash, rootOfLeaves, verifyInclusion } from '../../src/core/merkle';
import { createDataSource, runMigrations } from '../../src/db/data-source';
import { Db } from '../../src/db/db';
import { CheckpointSigner } from '../../src/log/checkpoint.signer';
import { LogRepository } from '../../src/log/log.repository';
import { Sequencer } from '../../src/log/sequencer';
import { loadServiceKeys } from '../../src/log/service-keys';
import { TileStore } from '../../src/log/tile.store';
import { EntriesRepository } from '../../src/statements/entries.repository';
import { tempDir } from '../helpers/service';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { verifyStoredLog } from './log-check';

const CHILD = join(__dirname, 'sequencer-child.js');

async function openDb(url: string) {
  const ds = createDataSource({ url, poolSize: 6 });
  await ds.initialize();
  await runMigrations(ds);
  return { ds, db: Db.fromDataSource(ds, false) };
}

function runChild(env: Record<string, string>, onLine: (l: string) => void) {
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, stderr: () => err };
}

const item = () => {
  const statement = randomBytes(80);
  return { entryHash: entryHash(statement), statement, issuer: 'test', kind: 0 };
};

describe('sequencer on real PostgreSQL', () => {
  let tdb: TestDatabase;
  before(async () => {
    tdb = await createTestDatabase('seq');
  });
  after(async () => {
    await tdb?.drop();
  });

  it('integrates batches: roots match the reference, proofs from tiles verify, duplicates are one entry', async () => {
    const { ds, db } = await openDb(tdb.url);
    try {
      const keys = loadServiceKeys({ dataDir: tempDir('k-'), origin: 'test.example/log' });
      const tiles = new TileStore();
      const seq = new Sequencer(db, tiles, new CheckpointSigner(keys, 'test.example/log', 'https://t'), { batchMs: 5, batchMax: 300 });
      const all: Buffer[] = [];
      for (const n of [1, 2, 255, 1, 300, 700, 3]) {
        const items = Array.from({ length: n }, item);
        await db.tx((c) => EntriesRepository.admit(c, [...items, ...items.slice(0, 1)]));
        all.push(...items.map((i) => i.entryHash));
        while ((await seq.integrateOnce()) > 0);
        const cp = await LogRepository.latestCheckpoint(db);
        assert.equal(cp!.treeSize, all.length);
        assert.deepEqual(cp!.root, rootOfLeaves(all.map((h) => leafHash(h))));
        for (const idx of [0, all.length - 1, Math.floor(all.length / 2)]) {
          const path = await inclusionProofFromTiles(idx, cp!.treeSize, tiles.reader(db, cp!.treeSize));
          verifyInclusion(idx, cp!.treeSize, leafHash(all[idx]), path, cp!.root);
        }
      }
      // The same statement acknowledged again while already logged stays one entry.
      await db.tx((c) => EntriesRepository.admit(c, [{ ...item(), entryHash: all[0], statement: Buffer.alloc(1) }]));
      assert.equal(await seq.integrateOnce(), 0);
      assert.equal(await verifyStoredLog(db), all.length);
    } finally {
      await ds.destroy();
    }
  });

  it('takes pending rows with one index probe each into log_leaves, never a scan of the whole log (no ANALYZE yet)', async () => {
    const planDb = await createTestDatabase('plan');
    const { ds, db } = await openDb(planDb.url);
    try {
      // A log of 60,000 leaves and 1,500 pending rows, 500 of them already logged, and no statistics
      // gathered since: what a busy service's sequencer sees between autovacuum runs. An EXISTS
      // subquery in the select list was hashed here, over a sequential scan of every leaf.
      await db.pool.query(`INSERT INTO log_leaves (idx, entry_hash) SELECT i, sha256(int8send(i)) FROM generate_series(0, 59999) i`);
      await db.pool.query(`INSERT INTO pending_entries (entry_hash) SELECT sha256(int8send(i)) FROM generate_series(59500, 60999) i`);
      const { rows } = await db.pool.query(`EXPLAIN (FORMAT JSON) ${LogRepository.TAKE_PENDING.replace('$1', '4096')}`);
      const plan = JSON.stringify(rows[0]['QUERY PLAN']);
      const scans = [...plan.matchAll(/"Node Type":"([^"]+)"[^{}]*?"Relation Name":"log_leaves"/g)].map((m) => m[1]);
      assert.ok(scans.length > 0, plan);
      assert.ok(scans.every((t) => t === 'Index Only Scan' || t === 'Index Scan'), `log_leaves read by ${scans.join(', ')}`);
      assert.ok(!plan.includes('"Node Type":"Hash Join"') && !plan.includes('"Node Type":"Hash"'), plan);
      const c = await db.pool.connect();
      try {
        const pending = await LogRepository.takePending(c, 4096);
        assert.equal(pending.length, 1500);
        assert.deepEqual(pending.map((p) => Number(p.id)), [...pending.map((p) => Number(p.id))].sort((a, b) => a - b));
        assert.equal(pending.filter((p) => p.logged).length, 500);
        assert.ok(pending.slice(0, 500).every((p) => p.logged) && pending.slice(500).every((p) => !p.logged));
      } finally {
        c.release();
      }
    } finally {
      await ds.destroy();
      await planDb.drop();
    }
  });

  it('two writers forced to integrate concurrently (no leader lock) cannot fork: the log_state row serialises them', async () => {
    const forkDb = await createTestDatabase('fork');
    const { ds, db } = await openDb(forkDb.url);
    try {
      const keys = loadServiceKeys({ dataDir: tempDir('k-'), origin: 'test.example/log' });
      const mk = () => new Sequencer(db, new TileStore(), new CheckpointSigner(keys, 'test.example/log', 'https://t'), { batchMs: 1, batchMax: 97 });
      const [s1, s2] = [mk(), mk()];
      for (let i = 0; i < 20; i++) {
        await Promise.all([
          db.tx((c) => EntriesRepository.admit(c, Array.from({ length: 50 }, item))),
          s1.integrateOnce(),
          s2.integrateOnce(),
        ]);
      }
      while ((await s1.integrateOnce()) + (await s2.integrateOnce()) > 0);
      assert.equal(await verifyStoredLog(db, 100), 1000);
    } finally {
      await ds.destroy();
      await forkDb.drop();
    }
  });

  it('a writer killed with SIGKILL at random moments loses no acknowledged entry and never leaves a mixed tree', async () => {
    const dataDir = tempDir('k-');
    const crashDb = await createTestDatabase('crash');
    const acked = new Set<string>();
    try {
      for (let round = 0; round < 5; round++) {
        const c = runChild({ DATABASE_URL: crashDb.url, DATA_DIR: dataDir, FEED: '4000', FEED_BATCH: '40', BATCH_MS: '2', BATCH_MAX: '257' }, (l) => {
          if (l.startsWith('ack ')) acked.add(l.slice(4));
        });
        await new Promise((r) => setTimeout(r, 700 + Math.random() * 1500));
        c.child.kill('SIGKILL');
        await c.exited;
      }
      // A clean run drains whatever was acknowledged but not yet integrated.
      const last = runChild({ DATABASE_URL: crashDb.url, DATA_DIR: dataDir, FEED: '0', RUN_MS: '1500', BATCH_MS: '2' }, () => undefined);
      assert.equal(await last.exited, 0, last.stderr());
      const { ds, db } = await openDb(crashDb.url);
      try {
        assert.ok(acked.size > 1000, `only ${acked.size} acknowledged`);
        const size = await verifyStoredLog(db, 100);
        const { rows } = await db.query<{ entry_hash: Buffer }>('SELECT entry_hash FROM log_leaves');
        const logged = new Set(rows.map((r) => r.entry_hash.toString('hex')));
        for (const h of acked) assert.ok(logged.has(h), `acknowledged entry ${h} is missing`);
        assert.equal(size, logged.size);
        assert.equal(await LogRepository.pendingEstimate(db), 0);
      } finally {
        await ds.destroy();
      }
    } finally {
      await crashDb.drop();
    }
  });

  it('two writer processes on one database: no fork, no duplicate index', async () => {
    const twoDb = await createTestDatabase('two');
    const dataDir = tempDir('k-');
    try {
      const acked = new Set<string>();
      const env = { DATABASE_URL: twoDb.url, DATA_DIR: dataDir, FEED: '3000', FEED_BATCH: '30', BATCH_MS: '1', RUN_MS: '2500' };
      const a = runChild(env, (l) => l.startsWith('ack ') && acked.add(l.slice(4)));
      const b = runChild(env, (l) => l.startsWith('ack ') && acked.add(l.slice(4)));
      // Kill the first writer midway so the second has to take over the lock.
      setTimeout(() => a.child.kill('SIGKILL'), 800);
      await a.exited;
      assert.equal(await b.exited, 0, b.stderr());
      const { ds, db } = await openDb(twoDb.url);
      try {
        const size = await verifyStoredLog(db, 100);
        const { rows } = await db.query<{ n: string; d: string }>('SELECT count(*) AS n, count(DISTINCT idx) AS d FROM log_leaves');
        assert.equal(Number(rows[0].n), Number(rows[0].d));
        // A writer killed between COMMIT and printing its acks leaves entries nobody was told about: fine.
        assert.ok(size >= acked.size, `${size} < ${acked.size}`);
        const { rows: logged } = await db.query<{ entry_hash: Buffer }>('SELECT entry_hash FROM log_leaves');
        const have = new Set(logged.map((r) => r.entry_hash.toString('hex')));
        for (const h of acked) assert.ok(have.has(h), `acknowledged entry ${h} is missing`);
      } finally {
        await ds.destroy();
      }
    } finally {
      await twoDb.drop();
    }
  });
});
