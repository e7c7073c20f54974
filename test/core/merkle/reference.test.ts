import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  consistencyProofRef,
  emptyRoot,
  entryHash,
  inclusionProofRef,
  leafHash,
  nodeHash,
  rootOfLeaves,
  rootOfLeavesRecursive,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/core/merkle';
import { hex, makeLeaves } from './helpers';

const h = (s: string) => Buffer.from(s, 'hex');

// Published RFC 6962 test data (transparency-dev/merkle proof/verify_test.go, also in
// certificate-transparency-go): eight leaves and the root of every prefix of them.
const GO_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(h);
const GO_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
// [leaf index (0-based), tree size, proof]
const GO_INCLUSION: [number, number, string[]][] = [
  [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];
// [size1, size2, proof]
const GO_CONSISTENCY: [number, number, string[]][] = [
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  [6, 7, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
];

describe('hashing', () => {
  it('uses the RFC 9162 domain separation', () => {
    assert.equal(emptyRoot().toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(leafHash(Buffer.alloc(0)).toString('hex'), GO_ROOTS[0]);
    assert.deepEqual(entryHash(Buffer.from('abc')), h('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'));
    const a = leafHash(Buffer.from('a'));
    const b = leafHash(Buffer.from('b'));
    const { createHash } = require('node:crypto') as typeof import('node:crypto');
    assert.deepEqual(nodeHash(a, b), createHash('sha256').update(Buffer.from([1])).update(a).update(b).digest());
    // Odd-sized children take the slow path but hash the same bytes.
    assert.deepEqual(nodeHash(Buffer.from('x'), Buffer.from('yz')), createHash('sha256').update(Buffer.from([1, 0x78, 0x79, 0x7a])).digest());
  });

  it('returns fresh buffers (the scratch buffer never leaks)', () => {
    const a = nodeHash(GO_LEAVES[1], GO_LEAVES[2].length === 1 ? leafHash(GO_LEAVES[2]) : GO_LEAVES[2]);
    const copy = Buffer.from(a);
    nodeHash(leafHash(Buffer.from('q')), leafHash(Buffer.from('r')));
    assert.deepEqual(a, copy);
  });
});

describe('reference implementation', () => {
  const goLeafHashes = GO_LEAVES.map((l) => leafHash(l));

  it('matches the published roots for every prefix of the Go test leaves', () => {
    for (let n = 1; n <= 8; n++) {
      assert.equal(rootOfLeaves(goLeafHashes.slice(0, n)).toString('hex'), GO_ROOTS[n - 1], `size ${n}`);
      assert.equal(rootOfLeavesRecursive(goLeafHashes.slice(0, n)).toString('hex'), GO_ROOTS[n - 1], `size ${n}`);
    }
    assert.deepEqual(rootOfLeaves([]), emptyRoot());
  });

  it('produces the published inclusion and consistency proofs', () => {
    for (const [index, size, proof] of GO_INCLUSION) {
      assert.deepEqual(hex(inclusionProofRef(index, goLeafHashes.slice(0, size))), proof, `inclusion ${index}/${size}`);
    }
    for (const [m, n, proof] of GO_CONSISTENCY) {
      assert.deepEqual(hex(consistencyProofRef(m, goLeafHashes.slice(0, n))), proof, `consistency ${m}→${n}`);
    }
  });

  it('iterative root equals the recursive MTH for every size up to 300', () => {
    const leaves = makeLeaves(300);
    for (let n = 0; n <= 300; n++) assert.deepEqual(rootOfLeaves(leaves.slice(0, n)), rootOfLeavesRecursive(leaves.slice(0, n)), `size ${n}`);
  });

  it('every inclusion and consistency proof up to size 64 verifies', () => {
    const leaves = makeLeaves(64);
    for (let n = 1; n <= 64; n++) {
      const d = leaves.slice(0, n);
      const root = rootOfLeaves(d);
      for (let i = 0; i < n; i++) verifyInclusion(i, n, d[i], inclusionProofRef(i, d), root);
      for (let m = 1; m <= n; m++) verifyConsistency(m, n, consistencyProofRef(m, d), rootOfLeaves(d.slice(0, m)), root);
    }
  });

  it('edge cases: one leaf has an empty path; trivial consistency proofs are empty', () => {
    const [l] = makeLeaves(1);
    assert.deepEqual(inclusionProofRef(0, [l]), []);
    assert.deepEqual(rootOfLeaves([l]), l);
    assert.deepEqual(consistencyProofRef(0, makeLeaves(5)), []);
    assert.deepEqual(consistencyProofRef(5, makeLeaves(5)), []);
    assert.throws(() => inclusionProofRef(1, [l]), { code: 'INDEX_OUT_OF_RANGE' });
    assert.throws(() => consistencyProofRef(2, [l]), { code: 'INVALID_SIZE' });
  });
});
