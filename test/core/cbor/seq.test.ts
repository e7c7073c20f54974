import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bstrHead, CborSeqDecoder, encodeBstrItem, encodeCbor, readBstrSeq, readCborSeq } from '../../../src/core/cbor';
import { isLedgerError } from '../../../src/core/errors';

/** Splits `b` at the given cut points (any order, any repetition). */
function chunks(b: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, b.length]) {
    out.push(b.subarray(prev, c));
    prev = c;
  }
  return out;
}

async function* stream(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

async function collect<T>(g: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of g) out.push(x);
  return out;
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e) => isLedgerError(e) && e.code === code);
}

describe('CBOR sequences (RFC 8742) of byte strings', () => {
  it('encodeBstrItem is the head followed by the bytes', () => {
    assert.equal(encodeBstrItem(Buffer.from('abc')).toString('hex'), '43616263');
    assert.equal(encodeBstrItem(Buffer.alloc(300)).subarray(0, 3).toString('hex'), '59012c');
    assert.equal(Buffer.concat([bstrHead(3), Buffer.from('abc')]).toString('hex'), '43616263');
  });

  it('any chunking of a sequence yields the same items (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), async (items, cuts) => {
        const wire = Buffer.concat(items.map(encodeBstrItem));
        const got = await collect(readBstrSeq(stream(chunks(wire, cuts))));
        assert.deepEqual(got.map((g) => g.toString('hex')), items.map((i) => Buffer.from(i).toString('hex')));
      }),
      { numRuns: 500 },
    );
  });

  it('a large item split into many chunks is decoded once it is complete', () => {
    const big = Buffer.alloc(1 << 20, 7);
    const wire = Buffer.concat([encodeBstrItem(big), encodeBstrItem(Buffer.from('x'))]);
    const d = new CborSeqDecoder();
    let items: unknown[] = [];
    for (let i = 0; i < wire.length; i += 4096) items = items.concat(d.push(wire.subarray(i, i + 4096)));
    d.end();
    assert.equal(items.length, 2);
    assert.equal((items[0] as Buffer).length, 1 << 20);
  });

  it('other item types decode too, with readCborSeq', async () => {
    const wire = Buffer.concat([encodeCbor(1), encodeCbor(new Map([[1, 'a']])), encodeCbor([1, 2])]);
    assert.deepEqual(await collect(readCborSeq(stream(chunks(wire, [1, 2, 3, 5])))), [1, new Map([[1, 'a']]), [1, 2]]);
  });

  it('refuses a stream that ends inside an item', async () => {
    await rejectsWith(collect(readBstrSeq(stream([Buffer.from('4461', 'hex')]))), 'MALFORMED_CBOR');
  });

  it('refuses an oversized item as soon as its head arrives', () => {
    const d = new CborSeqDecoder({ maxItemBytes: 1000 });
    assert.throws(() => d.push(Buffer.from('5a40000000', 'hex')), (e) => isLedgerError(e) && e.code === 'TOO_LARGE');
    const d2 = new CborSeqDecoder({ maxItemBytes: 1000 });
    assert.throws(() => d2.push(encodeBstrItem(Buffer.alloc(2000))), (e) => isLedgerError(e) && e.code === 'TOO_LARGE');
  });

  it('refuses non-bstr items where byte strings are expected, and malformed bytes', async () => {
    await rejectsWith(collect(readBstrSeq(stream([encodeCbor(5)]))), 'MALFORMED_CBOR');
    await rejectsWith(collect(readBstrSeq(stream([Buffer.from('ff', 'hex')]))), 'MALFORMED_CBOR');
  });
});
