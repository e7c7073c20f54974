import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cdeEncodeOptions, decode as cbor2Decode, encode as cbor2Encode } from 'cbor2';
import { bstrHead, decodeCbor, encodeCbor, encodeHead, RawCbor, Simple, Tag } from '../../../src/core/cbor';
import { isLedgerError } from '../../../src/core/errors';
import { cborValue, norm } from './arbitraries';

const hex = (v: unknown) => encodeCbor(v).toString('hex');

describe('encodeCbor: RFC 8949 §4.2.1 core deterministic encoding', () => {
  it('integers in the shortest form', () => {
    const cases: [number | bigint, string][] = [
      [0, '00'], [23, '17'], [24, '1818'], [255, '18ff'], [256, '190100'], [65535, '19ffff'], [65536, '1a00010000'],
      [2 ** 32 - 1, '1affffffff'], [2 ** 32, '1b0000000100000000'], [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
      [-1, '20'], [-24, '37'], [-25, '3818'], [-256, '38ff'], [-257, '390100'], [-(2 ** 32), '3affffffff'],
      [2n ** 64n - 1n, '1bffffffffffffffff'], [-(2n ** 64n), '3bffffffffffffffff'], [5n, '05'], [-5n, '24'],
    ];
    for (const [v, want] of cases) assert.equal(hex(v), want, String(v));
  });

  it('floats in the shortest form that keeps the value', () => {
    const cases: [number, string][] = [
      [1.5, 'f93e00'], [-4.5, 'f9c480'], [65504.5, 'fa477fe080'], [1.1, 'fb3ff199999999999a'], [3.4028234663852886e38, 'fa7f7fffff'],
      [5.960464477539063e-8, 'f90001'], [0.00006103515625, 'f90400'], [1e300, 'fb7e37e43c8800759c'],
      [Infinity, 'f97c00'], [-Infinity, 'f9fc00'], [NaN, 'f97e00'], [0.5, 'f93800'], [100000.5, 'fa47c35040'],
    ];
    for (const [v, want] of cases) assert.equal(hex(v), want, String(v));
  });

  it('integral numbers are integers (JS cannot tell 1.0 from 1), -0 is a float', () => {
    assert.equal(hex(100000), '1a000186a0');
    assert.equal(hex(-0), 'f98000');
  });

  it('strings, bytes (Buffer and Uint8Array alike), simple values', () => {
    assert.equal(hex('IETF'), '6449455446');
    assert.equal(hex('水'), '63e6b0b4');
    assert.equal(hex(Buffer.from([1, 2, 3])), '43010203');
    assert.equal(hex(new Uint8Array([1, 2, 3])), '43010203');
    assert.equal(hex(Buffer.from([9, 1, 2, 3]).subarray(1)), '43010203');
    assert.equal(hex([true, false, null, undefined]), '84f5f4f6f7');
    assert.equal(hex(new Simple(16)), 'f0');
    assert.equal(hex(new Simple(255)), 'f8ff');
    assert.equal(hex(new Tag(18, [])), 'd280');
    assert.equal(hex([new RawCbor(Buffer.from('a0', 'hex'))]), '81a0');
  });

  it('map keys sorted by their encoded bytes', () => {
    const m = new Map<unknown, unknown>([['aa', 5], [-1, 3], [100, 2], ['z', 4], [10, 1], [Buffer.from([0]), 6], [[1], 7]]);
    assert.equal(hex(m), 'a7' + '0a01' + '186402' + '2003' + '4100' + '06' + '617a04' + '62616105' + '810107');
    assert.equal(hex({ b: 1, a: 2 }), 'a2616102616201');
    // COSE header order: 1 (alg), 4 (kid), 15 (cwt), 395 (vds), whatever the insertion order.
    assert.equal(hex(new Map<number, unknown>([[395, 1], [15, 0], [4, 0], [1, -7]])), 'a4' + '0126' + '0400' + '0f00' + '19018b01');
  });

  it('refuses what it cannot encode deterministically', () => {
    const refused: unknown[] = [2n ** 64n, -(2n ** 64n) - 1n, () => 1, Symbol('s'), new Date(0), new Map<unknown, unknown>([[1, 1], [1n, 2]])];
    for (const v of refused) {
      assert.throws(() => encodeCbor(v), (e) => isLedgerError(e) && e.code === 'UNENCODABLE', String(typeof v));
    }
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    assert.throws(() => encodeCbor(cyclic), (e) => isLedgerError(e) && e.code === 'UNENCODABLE');
  });

  it('heads', () => {
    assert.equal(encodeHead(2, 0).toString('hex'), '40');
    assert.equal(bstrHead(32).toString('hex'), '5820');
    assert.equal(bstrHead(70000).toString('hex'), '5a00011170');
    assert.equal(encodeHead(0, 2n ** 40n).toString('hex'), '1b0000010000000000');
  });

  it('round trip: decode(encode(v)) encodes to the same bytes (property)', () => {
    fc.assert(
      fc.property(cborValue, (v) => {
        const once = encodeCbor(v);
        const again = encodeCbor(decodeCbor(once));
        assert.equal(again.toString('hex'), once.toString('hex'));
        assert.deepEqual(norm(decodeCbor(once)), norm(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees byte for byte with cbor2 in its deterministic (CDE) mode (property)', () => {
    // cbor2 encodes Buffer as a JSON object, so hand it plain Uint8Arrays.
    const plain = (v: unknown): unknown =>
      Buffer.isBuffer(v) ? new Uint8Array(v) : Array.isArray(v) ? v.map(plain) : v instanceof Map ? new Map([...v].map(([k, x]) => [k, plain(x)])) : v;
    fc.assert(
      fc.property(cborValue, (v) => {
        if (v instanceof Tag || JSON.stringify(norm(v)).includes('"tag"')) return; // cbor2 has its own Tag class
        const ours = encodeCbor(v).toString('hex');
        const theirs = Buffer.from(cbor2Encode(plain(v), cdeEncodeOptions)).toString('hex');
        assert.equal(ours, theirs);
        assert.deepEqual(norm(cbor2Decode(Buffer.from(ours, 'hex'), { preferMap: true })), norm(v));
      }),
      { numRuns: 2000 },
    );
  });
});
