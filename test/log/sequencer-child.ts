/**
 * A log writer in its own process, for the crash and two-writer tests. Env: DATABASE_URL, DATA_DIR,
 * FEED (entries to acknowledge, 0 = none), FEED_BATCH, SEED (distinguishes feeders).
 * Prints `ack <hex>` for each entry only after the transaction that admitted it committed, which
 * is exactly the service's acknowledgement point.
 */
import { randomBytes } from 'node:crypto';
import { entryHash } from '../../src/core/merkle';
import { createDataSource, runMigrations } from '../../src/db/data-source';
import { Db } from '../../src/db/db';
import { withMigrationLock } from '../../src/db/migrate';
import { CheckpointSigner } from '../../src/log/checkpoint.signer';
import { Sequencer } from '../../src/log/sequencer';
import { loadServiceKeys } from '../../src/log/service-keys';
import { TileStore } from '../../src/log/tile.store';
import { EntriesRepository } from '../../src/statements/entries.repository';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL!;
  const ds = createDataSource({ url, poolSize: 6 });
  await ds.initialize();
  await withMigrationLock(url, () => runMigrations(ds));
  const db = Db.fromDataSource(ds, false);
  const keys = loadServiceKeys({ dataDir: process.env.DATA_DIR!, origin: 'test.example/log' });
  const seq = new Sequencer(db, new TileStore(), new CheckpointSigner(keys, 'test.example/log', 'https://test.example'), {
    batchMs: Number(process.env.BATCH_MS ?? 5),
    batchMax: Number(process.env.BATCH_MAX ?? 500),
  });
  seq.start();
  const feed = Number(process.env.FEED ?? 0);
  const per = Number(process.env.FEED_BATCH ?? 50);
  for (let done = 0; done < feed; done += per) {
    const items = Array.from({ length: Math.min(per, feed - done) }, () => {
      const statement = randomBytes(100);
      return { entryHash: entryHash(statement), statement, issuer: 'crash-test', kind: 0 };
    });
    // Re-submit one earlier statement sometimes: duplicates must stay one entry.
    await db.tx((c) => EntriesRepository.admit(c, items));
    process.stdout.write(items.map((i) => `ack ${i.entryHash.toString('hex')}\n`).join(''));
  }
  process.stdout.write('fed\n');
  const until = Number(process.env.RUN_MS ?? 0);
  if (until > 0) {
    await new Promise((r) => setTimeout(r, until));
    await seq.stop();
    await ds.destroy();
    process.stdout.write('stopped\n');
  }
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
