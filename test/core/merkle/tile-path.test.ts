import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { entriesTilePath, parseTilePath, tilePath } from '../../../src/core/merkle';

describe('tile paths', () => {
  it('encode as C2SP tlog-tiles and Go’s sumdb/tlog do', () => {
    assert.equal(tilePath(0, 1234067, 5), 'tile/0/x001/x234/067.p/5');
    assert.equal(tilePath(0, 1234067), 'tile/0/x001/x234/067');
    assert.equal(tilePath(0, 1234067, 256), 'tile/0/x001/x234/067');
    assert.equal(tilePath(1, 0), 'tile/1/000');
    assert.equal(tilePath(2, 999, 255), 'tile/2/999.p/255');
    assert.equal(tilePath(3, 1000), 'tile/3/x001/000');
    assert.equal(tilePath(63, 1_000_000), 'tile/63/x001/x000/000');
    assert.equal(entriesTilePath(5), 'tile/entries/005');
    assert.equal(entriesTilePath(1234067, 1), 'tile/entries/x001/x234/067.p/1');
    assert.equal(tilePath(0, Number.MAX_SAFE_INTEGER), 'tile/0/x009/x007/x199/x254/x740/991');
  });

  it('refuse what cannot be encoded', () => {
    for (const [l, i, w] of [[-1, 0, 1], [64, 0, 1], [0, -1, 1], [0, 0.5, 1], [0, 2 ** 53, 1], [0, 0, 0], [0, 0, 257], [0, 0, 1.5], [0.5, 0, 1]]) {
      assert.throws(() => tilePath(l, i, w), { code: 'BAD_TILE_PATH' }, `${l} ${i} ${w}`);
    }
    assert.throws(() => entriesTilePath(0, 0), { code: 'BAD_TILE_PATH' });
  });

  it('parse is the inverse of encode', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 63 }), fc.constant('entries' as const)),
        fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
        fc.integer({ min: 1, max: 256 }),
        (level, index, width) => {
          const p = level === 'entries' ? entriesTilePath(index, width) : tilePath(level, index, width);
          assert.deepEqual(parseTilePath(p), { level, index, width });
        },
      ),
    );
  });

  it('parse rejects every non-canonical spelling', () => {
    const bad = [
      '', 'tile', 'tile/0', 'tile/0/', '/tile/0/000', 'tile/0/000/', 'tiles/0/000', 'Tile/0/000',
      'tile/00/000', 'tile/01/000', 'tile/+1/000', 'tile/-1/000', 'tile/64/000', 'tile/100/000', 'tile/data/000', 'tile/ENTRIES/000',
      'tile/0/0', 'tile/0/00', 'tile/0/0000', 'tile/0/1', 'tile/0/x000/001', 'tile/0/x001', 'tile/0/x1/000', 'tile/0/001/000',
      'tile/0/x001/x234/067/', 'tile/0/X001/000', 'tile/0/x001/x000', 'tile/0/abc',
      'tile/0/000.p', 'tile/0/000.p/', 'tile/0/000.p/0', 'tile/0/000.p/05', 'tile/0/000.p/256', 'tile/0/000.p/1000', 'tile/0/000.p/+5',
      'tile/0/000.p/5/', 'tile/0/000.P/5', 'tile/0/000.q/5', 'tile/0/.p/5', 'tile/0/x001.p/5', 'tile/0/x001.p/x5',
      'tile/entries/000.p/256', 'tile/entries/x000/001',
      'tile/0/x009/x007/x199/x254/x740/992', 'tile/0/x999/x999/x999/x999/x999/x999/999',
      'tile/0/000 ', ' tile/0/000', 'tile/0/000\n', 'tile//000', `tile/0/${'x001/'.repeat(20)}000`,
    ];
    for (const p of bad) assert.throws(() => parseTilePath(p), { code: 'BAD_TILE_PATH' }, JSON.stringify(p));
    assert.throws(() => parseTilePath(undefined as unknown as string), { code: 'BAD_TILE_PATH' });
  });
});
