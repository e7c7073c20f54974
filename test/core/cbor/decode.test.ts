import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCbor, decodeCborAt, decodeCborSequence, Simple, Tag } from '../../../src/core/cbor';
import { isLedgerError } from '../../../src/core/errors';

const h = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const dec = (hex: string) => decodeCbor(h(hex));

function rejects(hex: string | Buffer, code = 'MALFORMED_CBOR', opts?: Parameters<typeof decodeCbor>[1]): string {
  try {
    decodeCbor(typeof hex === 'string' ? h(hex) : hex, opts);
  } catch (e) {
    assert.ok(isLedgerError(e), `not a LedgerError: ${e}`);
    assert.equal(e.code, code, e.message);
    return e.message;
  }
  assert.fail(`decoded ${typeof hex === 'string' ? hex : 'input'} without error`);
}

describe('decodeCbor: RFC 8949 Appendix A examples', () => {
  const cases: [string, unknown][] = [
    ['00', 0], ['01', 1], ['0a', 10], ['17', 23], ['1818', 24], ['1819', 25], ['1864', 100], ['1903e8', 1000],
    ['1a000f4240', 1000000], ['1b000000e8d4a51000', 1000000000000], ['1bffffffffffffffff', 18446744073709551615n],
    ['20', -1], ['29', -10], ['3863', -100], ['3903e7', -1000], ['3bffffffffffffffff', -18446744073709551616n],
    ['f90000', 0], ['f93c00', 1], ['fb3ff199999999999a', 1.1], ['f93e00', 1.5], ['f97bff', 65504], ['fa47c35000', 100000],
    ['fa7f7fffff', 3.4028234663852886e38], ['fb7e37e43c8800759c', 1e300], ['f90001', 5.960464477539063e-8], ['f90400', 0.00006103515625],
    ['f9c400', -4], ['fbc010666666666666', -4.1], ['f97c00', Infinity], ['f9fc00', -Infinity], ['fa7f800000', Infinity],
    ['f4', false], ['f5', true], ['f6', null], ['f7', undefined],
    ['60', ''], ['6161', 'a'], ['6449455446', 'IETF'], ['62225c', '"\\'], ['62c3bc', 'ü'], ['63e6b0b4', '水'], ['64f0908591', '𐅑'],
    ['80', []], ['83010203', [1, 2, 3]], ['8301820203820405', [1, [2, 3], [4, 5]]],
    ['7f657374726561646d696e67ff', 'streaming'], ['9fff', []], ['9f018202039f0405ffff', [1, [2, 3], [4, 5]]],
    ['83018202039f0405ff', [1, [2, 3], [4, 5]]], ['9f01820203820405ff', [1, [2, 3], [4, 5]]],
  ];
  for (const [hex, want] of cases) {
    it(hex, () => {
      const got = dec(hex);
      if (typeof want === 'number' && Number.isNaN(want)) assert.ok(Number.isNaN(got));
      else assert.deepEqual(got, want);
    });
  }

  it('NaN and negative zero', () => {
    assert.ok(Number.isNaN(dec('f97e00')));
    assert.ok(Object.is(dec('f98000'), -0));
  });

  it('byte strings, definite and indefinite', () => {
    assert.deepEqual([...(dec('40') as Buffer)], []);
    assert.deepEqual([...(dec('4401020304') as Buffer)], [1, 2, 3, 4]);
    assert.deepEqual([...(dec('5f42010243030405ff') as Buffer)], [1, 2, 3, 4, 5]);
  });

  it('maps are Maps, with integer and text keys kept apart', () => {
    assert.deepEqual(dec('a0'), new Map());
    assert.deepEqual(dec('a201020304'), new Map([[1, 2], [3, 4]]));
    assert.deepEqual(dec('a26161016162820203'), new Map<unknown, unknown>([['a', 1], ['b', [2, 3]]]));
    assert.deepEqual(dec('bf61610161629f0203ffff'), new Map<unknown, unknown>([['a', 1], ['b', [2, 3]]]));
    const m = dec('a2016161616101') as Map<unknown, unknown>;
    assert.equal(m.get(1), 'a');
    assert.equal(m.get('a'), 1);
    // __proto__ is an ordinary key in a Map: no prototype pollution through decoded maps.
    const p = dec('a1695f5f70726f746f5f5fa0') as Map<unknown, unknown>;
    assert.ok(p.get('__proto__') instanceof Map);
    assert.equal(({} as any).polluted, undefined);
  });

  it('tags and simple values are returned uninterpreted', () => {
    const t = dec('c074323031332d30332d32315432303a30343a30305a') as Tag;
    assert.ok(t instanceof Tag);
    assert.equal(t.tag, 0);
    assert.equal(t.value, '2013-03-21T20:04:00Z');
    const big = dec('c249010000000000000000') as Tag; // tag 2 bignum stays a tag
    assert.equal(big.tag, 2);
    assert.deepEqual(dec('d818456449455446'), new Tag(24, Buffer.from('6449455446', 'hex')));
    assert.deepEqual(dec('f0'), new Simple(16));
    assert.deepEqual(dec('f8ff'), new Simple(255));
    assert.equal((dec('db ffffffffffffffff 00') as Tag).tag, 0xffffffffffffffffn);
  });

  it('integers at the edge of exactness become bigints', () => {
    assert.equal(dec('1b001fffffffffffff'), Number.MAX_SAFE_INTEGER);
    assert.equal(dec('1b0020000000000000'), 2n ** 53n);
    assert.equal(dec('3b001ffffffffffffd'), -9007199254740990);
    assert.equal(dec('3b001ffffffffffffe'), -Number.MAX_SAFE_INTEGER);
    assert.equal(dec('3b001fffffffffffff'), -(2n ** 53n));
  });

  it('non-shortest heads are accepted (signatures cover bytes, not values)', () => {
    assert.equal(dec('1800'), 0);
    assert.equal(dec('1b0000000000000001'), 1);
    assert.deepEqual([...(dec('5900020102') as Buffer)], [1, 2]);
  });

  it('byte strings are views of the input, not copies', () => {
    const input = h('83 43010203 40 42 0405');
    const v = decodeCbor(input) as Buffer[];
    assert.equal(v[0].buffer, input.buffer);
    assert.equal(v[0].byteOffset, input.byteOffset + 2);
    const plain = new Uint8Array(input);
    assert.ok(Buffer.isBuffer((decodeCbor(plain) as Buffer[])[0]));
  });
});

describe('decodeCbor: rejects what is not well-formed or breaks a limit', () => {
  const bad: [string, string][] = [
    ['', 'empty input'],
    ['18', 'truncated head'],
    ['1b000000', 'truncated 8-byte head'],
    ['1c', 'reserved additional information 28'],
    ['5d', 'reserved additional information 29 on a bstr'],
    ['fe', 'reserved simple additional information 30'],
    ['1f', 'indefinite integer'],
    ['3f', 'indefinite negative integer'],
    ['df00', 'indefinite tag'],
    ['ff', 'a lone break'],
    ['8001ff', 'break after a complete array'],
    ['f818', 'two-byte simple value below 32'],
    ['5f01ff', 'integer chunk in an indefinite bstr'],
    ['5f6161ff', 'text chunk in an indefinite bstr'],
    ['7f4161ff', 'bstr chunk in an indefinite tstr'],
    ['5f5f4001ffff', 'nested indefinite bstr'],
    ['62c328', 'invalid UTF-8'],
    ['7f62c3ff', 'an indefinite text chunk that is not UTF-8 by itself'],
    ['0001', 'trailing bytes'],
    ['a2 0102 0103', 'duplicate integer keys'],
    ['a2 6161 01 6161 02', 'duplicate text keys'],
    ['a2 4100 01 4100 02', 'duplicate byte string keys'],
    ['a2 820102 01 820102 02', 'duplicate array keys'],
    ['bf 01 ff', 'break instead of a map value'],
    ['bf 01 02', 'unterminated indefinite map'],
    ['c1', 'tag without content'],
    ['81', 'truncated array'],
    ['9b ffffffffffffffff', 'array length near 2^64'],
    ['9a ffffffff 00', 'array length beyond the input'],
    ['bb ffffffffffffffff', 'map length near 2^64'],
    ['5b ffffffffffffffff', 'byte string length near 2^64'],
    ['7a 7fffffff 41', 'text string length beyond the input'],
  ];
  for (const [hex, why] of bad) it(why, () => void rejects(hex));

  it('nesting is limited (arrays, maps and tags alike)', () => {
    const nest = (open: string, n: number) => Buffer.concat([Buffer.from(open.repeat(n), 'hex'), h('00')]);
    assert.equal(decodeCbor(nest('81', 64)) !== undefined, true);
    assert.match(rejects(nest('81', 65)), /deeper than 64/);
    assert.match(rejects(nest('a100', 65)), /deeper than 64/);
    assert.match(rejects(nest('c1', 65)), /deeper than 64/);
    assert.match(rejects(nest('9f', 65)), /deeper than 64/);
    rejects(nest('81', 6), 'MALFORMED_CBOR', { maxDepth: 5 });
    decodeCbor(nest('81', 5), { maxDepth: 5 });
  });

  it('a million nested arrays fail fast, without a stack overflow', () => {
    const t = performance.now();
    rejects(Buffer.alloc(1_000_000, 0x81));
    rejects(Buffer.alloc(1_000_000, 0x9f));
    assert.ok(performance.now() - t < 1000);
  });

  it('size is checked before decoding', () => {
    rejects(Buffer.alloc(101, 0), 'TOO_LARGE', { maxBytes: 100 });
  });

  it('indefinite lengths can be refused', () => {
    for (const hex of ['9fff', 'bfff', '5fff', '7fff']) rejects(hex, 'MALFORMED_CBOR', { allowIndefinite: false });
    decodeCbor(h('83010203'), { allowIndefinite: false });
  });

  it('truncation reports how many bytes are needed at least', () => {
    try {
      decodeCbor(h('5a 00010000 00'));
      assert.fail('decoded');
    } catch (e: any) {
      assert.equal(e.details.truncated, true);
      assert.equal(e.details.needed, 5 + 0x10000);
    }
  });

  it('input must be bytes', () => {
    assert.throws(() => decodeCbor('00' as unknown as Uint8Array), (e) => isLedgerError(e) && e.code === 'MALFORMED_CBOR');
  });
});

describe('decodeCborAt and decodeCborSequence', () => {
  it('decodes items back to back', () => {
    const b = h('01 6161 8102');
    assert.deepEqual(decodeCborAt(b, 1), { value: 'a', end: 3 });
    assert.deepEqual(decodeCborSequence(b), [1, 'a', [2]]);
    assert.deepEqual(decodeCborSequence(Buffer.alloc(0)), []);
    assert.throws(() => decodeCborSequence(h('01 81')), (e) => isLedgerError(e) && e.code === 'MALFORMED_CBOR');
  });
});
