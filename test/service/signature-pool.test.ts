import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseSignedStatement, statementSignatureJob } from '../../src/core/cose';
import { SignaturePool } from '../../src/statements/signature-pool';
import { makeIssuer, makeStatement } from '../helpers/statements';

function tamper(b: Buffer): Buffer {
  const c = Buffer.from(b);
  c[c.length - 5] ^= 0x01; // inside the signature
  return c;
}

describe('SignaturePool: statement signatures off the event loop', () => {
  for (const threads of [0, 1, 2]) {
    it(`${threads} thread(s): the same verdicts as verifying inline, for many checks at once and several keys`, async () => {
      const pool = new SignaturePool(threads);
      try {
        const a = makeIssuer(undefined, -7);
        const b = makeIssuer(undefined, -8);
        const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
        const cases: { bytes: Buffer; keys: any[]; expect: boolean }[] = [];
        for (let i = 0; i < 60; i++) {
          const issuer = i % 2 ? a : b;
          const good = makeStatement(issuer);
          cases.push({ bytes: good, keys: [issuer.publicKey], expect: true });
          cases.push({ bytes: tamper(good), keys: [issuer.publicKey], expect: false });
          if (issuer === a) cases.push({ bytes: good, keys: [other, a.publicKey], expect: true }); // rotation: any key
          if (issuer === a) cases.push({ bytes: good, keys: [other], expect: false });
        }
        const verdicts = await Promise.all(cases.map((c) => pool.verify(statementSignatureJob(parseSignedStatement(c.bytes), c.keys))));
        assert.deepEqual(verdicts, cases.map((c) => c.expect));
      } finally {
        await pool.close();
      }
    });
  }

  it('keeps verifying correctly while a bounded key table is reset (x5chain leaf keys are new every time)', async () => {
    const pool = new SignaturePool(1, 3);
    try {
      const issuers = Array.from({ length: 10 }, () => makeIssuer());
      for (let round = 0; round < 3; round++) {
        const verdicts = await Promise.all(
          issuers.flatMap((i, n) => {
            const good = makeStatement(i);
            const wrongKey = issuers[(n + 1) % issuers.length].publicKey;
            return [
              pool.verify(statementSignatureJob(parseSignedStatement(good), [i.publicKey])),
              pool.verify(statementSignatureJob(parseSignedStatement(good), [wrongKey])),
            ];
          }),
        );
        assert.deepEqual(verdicts, issuers.flatMap(() => [true, false]));
        await new Promise((r) => setImmediate(r)); // the next round is another batch
      }
    } finally {
      await pool.close();
    }
  });

  it('a thread that dies does not turn its checks into rejections', async () => {
    const pool = new SignaturePool(1);
    try {
      const a = makeIssuer();
      const job = statementSignatureJob(parseSignedStatement(makeStatement(a)), [a.publicKey]);
      const pending = Array.from({ length: 20 }, () => pool.verify(job));
      // Kill the thread while the batch is in flight (after the flush has posted it).
      await new Promise((r) => setImmediate(r));
      await (pool as any).threads[0].worker.terminate();
      assert.deepEqual(await Promise.all(pending), Array(20).fill(true));
      assert.equal(await pool.verify(job), true, 'a replacement thread serves later checks');
      assert.equal(pool.size, 1);
    } finally {
      await pool.close();
    }
  });
});
