import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Admission, type AdmissionItem } from '../../src/statements/admission';
import type { Db } from '../../src/db/db';

/** A Db whose pool records the batches admit() sends and reports every entry as new. */
function fakeDb(batches: number[][]): Db {
  const client = {
    query: async (q: { values: unknown[] }) => {
      const hashes = q.values[0] as Buffer;
      const sizes = (JSON.parse(q.values[2] as string) as { n: number }[]).map((r) => r.n);
      batches.push(sizes);
      const rows: { entry_hash: string | null; ok: boolean }[] = [{ entry_hash: null, ok: true }];
      for (let i = 0; i < hashes.length / 32; i++) rows.push({ entry_hash: hashes.subarray(32 * i, 32 * i + 32).toString('hex'), ok: true });
      return { rows };
    },
  };
  return { embedded: false, pool: client } as unknown as Db;
}

function item(n: number, size: number): AdmissionItem {
  const statement = Buffer.alloc(size, n);
  return {
    parsed: {} as AdmissionItem['parsed'],
    size,
    trustVersion: 1,
    entry: { entryHash: createHash('sha256').update(statement).digest(), statement, issuer: 'https://i.example', kind: 0 },
  };
}

describe('Admission (group commit), against a fake database', () => {
  const hooks = { trustVersion: () => 1, refresh: async () => undefined, reevaluate: () => undefined };

  it('cuts batches by count and by statement bytes, never leaving an item behind', async () => {
    const batches: number[][] = [];
    const a = new Admission(fakeDb(batches), hooks, { maxBatch: 3, maxBatchBytes: 100, maxInFlight: 1, windowMs: 1 });
    const sizes = [60, 60, 10, 10, 10, 10, 150, 5];
    const results = await Promise.all(sizes.map((s, i) => a.submit(item(i, s))));
    assert.deepEqual(results, sizes.map(() => true));
    assert.deepEqual(batches, [[60], [60, 10, 10], [10, 10], [150], [5]]);
  });

  it('an item decided against an older trust version is decided again; a rejection leaves the rest', async () => {
    const batches: number[][] = [];
    const seen: number[] = [];
    const a = new Admission(
      fakeDb(batches),
      {
        trustVersion: () => 2,
        refresh: async () => undefined,
        reevaluate: (i) => {
          seen.push(i.size);
          if (i.size === 11) throw new Error('rejected under the new trust state');
        },
      },
      { maxBatch: 10, maxBatchBytes: 1000, maxInFlight: 1, windowMs: 1 },
    );
    const old = item(1, 11);
    const fresh = { ...item(2, 12), trustVersion: 2 };
    const results = await Promise.allSettled([a.submit(old), a.submit(fresh)]);
    assert.equal(results[0].status, 'rejected');
    assert.deepEqual(results[1], { status: 'fulfilled', value: true });
    assert.deepEqual(seen, [11], 'only the item decided under version 1 is decided again');
    assert.deepEqual(batches, [[12]]);
  });
});
