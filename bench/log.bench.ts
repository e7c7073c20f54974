/**
 * Issue 2 targets: append throughput through the sequencer into real PostgreSQL (1,000,000 entries),
 * inclusion-proof latency at that size inside the process, and storage per entry of tiles + checkpoints.
 * Needs PostgreSQL (TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres); creates and drops its own database.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { entryHash, inclusionProofFromTiles } from '../src/core/merkle';
import { createDataSource, runMigrations } from '../src/db/data-source';
import { Db } from '../src/db/db';
import { CheckpointSigner } from '../src/log/checkpoint.signer';
import { LogRepository } from '../src/log/log.repository';
import { Sequencer } from '../src/log/sequencer';
import { loadServiceKeys } from '../src/log/service-keys';
import { TileStore } from '../src/log/tile.store';
import { createTestDatabase } from '../test/helpers/pg';
import type { BenchRow } from './report';

export async function run(opts: { entries?: number; batchMax?: number } = {}): Promise<BenchRow[]> {
  const N = opts.entries ?? Number(process.env.BENCH_LOG_ENTRIES ?? 1_000_000);
  const batchMax = opts.batchMax ?? Number(process.env.BENCH_LOG_BATCH ?? 8192);
  const tdb = await createTestDatabase('bench_log');
  const ds = createDataSource({ url: tdb.url, poolSize: 4 });
  const rows: BenchRow[] = [];
  try {
    await ds.initialize();
    await runMigrations(ds);
    const db = Db.fromDataSource(ds, false);
    // Acknowledge N entries up front (100-byte statements), as registrations would, in big multi-row inserts.
    const t0 = performance.now();
    const CHUNK = 20000;
    for (let done = 0; done < N; done += CHUNK) {
      const n = Math.min(CHUNK, N - done);
      const stmts = Array.from({ length: n }, () => randomBytes(100));
      const hashes = stmts.map((s) => entryHash(s));
      await db.query(
        `WITH ins AS (INSERT INTO entries (entry_hash, statement, issuer, kind) SELECT h, s, 'bench', 0 FROM unnest($1::bytea[], $2::bytea[]) AS t(h, s) RETURNING entry_hash)
         INSERT INTO pending_entries (entry_hash) SELECT entry_hash FROM ins`,
        [hashes, stmts],
      );
    }
    const admitS = (performance.now() - t0) / 1000;
    rows.push({ bench: 'log', metric: 'bulk admission (setup)', value: N / admitS, unit: 'entries/s', note: `${N} entries, 100 B each` });

    const keys = loadServiceKeys({ dataDir: mkdtempSync(join(tmpdir(), 'bench-k-')), origin: 'bench.example/log' });
    const tiles = new TileStore();
    const seq = new Sequencer(db, tiles, new CheckpointSigner(keys, 'bench.example/log', 'https://bench.example'), { batchMs: 1, batchMax });
    const t1 = performance.now();
    let batches = 0;
    while ((await seq.integrateOnce()) > 0) batches++;
    const seqS = (performance.now() - t1) / 1000;
    const cp = (await LogRepository.latestCheckpoint(db))!;
    if (cp.treeSize !== N) throw new Error(`tree size ${cp.treeSize} != ${N}`);
    rows.push({ bench: 'log', metric: 'sequencer append throughput', value: N / seqS, unit: 'entries/s', target: '>= 20,000', pass: N / seqS >= 20000, note: `${N} entries in ${batches} batches of ${batchMax}, ${seqS.toFixed(1)} s` });

    // Inclusion proofs at the full size, in process, warm tile cache (as in the service).
    const lat: number[] = [];
    // Warm the JIT; the tile cache is already warm (the sequencer caches what it writes, as in the service).
    for (let i = 0; i < 500; i++) await inclusionProofFromTiles(Math.floor(Math.random() * N), N, tiles.reader(db, N));
    for (let i = 0; i < 5000; i++) {
      const idx = Math.floor(Math.random() * N);
      const s = performance.now();
      await inclusionProofFromTiles(idx, N, tiles.reader(db, N));
      lat.push(performance.now() - s);
    }
    lat.sort((a, b) => a - b);
    const p99 = lat[Math.floor(lat.length * 0.99)];
    rows.push({ bench: 'log', metric: `inclusion proof p50 @${N}`, value: lat[Math.floor(lat.length / 2)], unit: 'ms' });
    rows.push({ bench: 'log', metric: `inclusion proof p99 @${N}`, value: p99, unit: 'ms', target: '<= 2', pass: p99 <= 2, note: '5,000 random leaves after 500 warm-up' });

    // No VACUUM FULL: full tiles are insert-only, the edge table holds at most one row per level.
    await db.query('VACUUM tile_edges');
    const { rows: sz } = await db.query<{ t: string; c: string; n: string }>(
      `SELECT pg_total_relation_size('tiles') + pg_total_relation_size('tile_edges') AS t, pg_total_relation_size('checkpoints') AS c, (SELECT count(*) FROM checkpoints) AS n`,
    );
    const perEntry = (Number(sz[0].t) + Number(sz[0].c)) / N;
    rows.push({ bench: 'log', metric: 'tiles + checkpoints per entry', value: perEntry, unit: 'bytes', target: '<= 40', pass: perEntry <= 40, note: `tiles ${sz[0].t} B, ${sz[0].n} checkpoints ${sz[0].c} B` });
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await tdb.drop();
  }
  return rows;
}
