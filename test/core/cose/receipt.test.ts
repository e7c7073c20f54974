import assert from 'node:assert/strict';
import { createHash, randomBytes, verify, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { MerkleTree } from 'merkletreejs';
import { decode as cbor2Decode, Tag as Cbor2Tag } from 'cbor2';
import { decodeCbor, encodeCbor, Tag } from '../../../src/core/cbor';
import {
  buildConsistencyReceipt,
  buildInclusionReceipt,
  decodeSign1,
  embedReceipts,
  encodeReceiptProtected,
  encodeSign1,
  signReceiptRoot,
  verifyConsistencyReceipt,
  verifyReceipt,
  type ConsistencyVerdict,
  type HeaderMap,
  type ReceiptVerdict,
} from '../../../src/core/cose';
import { consistencyProofRef, leafHash } from '../../../src/core/merkle';
import { keyPair, makeStatement } from './helpers';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
const KID = Buffer.alloc(32, 0xab);

/** merkletreejs as the independent RFC 9162 tree (pre-hashed leaves, 0x01 concatenator). */
function oracle(entries: Buffer[]): MerkleTree {
  return new MerkleTree(entries.map((e) => leafHash(e)), sha256, { concatenator: (bufs: Buffer[]) => Buffer.concat([Buffer.from([1]), ...bufs]) });
}

/** ["Signature1", protected, h'', root] written out by hand (not with our encoder). */
function handSigStructure(prot: Buffer, root: Buffer): Buffer {
  const bstr = (b: Buffer) => Buffer.concat([b.length < 24 ? Buffer.from([0x40 | b.length]) : b.length < 256 ? Buffer.from([0x58, b.length]) : Buffer.from([0x59, b.length >> 8, b.length & 0xff]), b]);
  return Buffer.concat([Buffer.from([0x84, 0x6a]), Buffer.from('Signature1'), bstr(prot), Buffer.from([0x40]), bstr(root)]);
}

function expectFail(v: ReceiptVerdict | ConsistencyVerdict, code: string, step?: string): void {
  assert.equal(v.ok, false, JSON.stringify(v));
  if (!v.ok) {
    assert.equal(v.code, code, v.message);
    if (step) assert.equal(v.step, step);
  }
}

interface Log {
  entries: Buffer[];
  tree: MerkleTree;
  prot: Buffer;
  sig: Buffer;
  key: KeyObject;
  receipt(i: number): Buffer;
}

function makeLog(n: number, alg = -7): Log {
  const { privateKey, publicKey } = keyPair(alg);
  const entries = Array.from({ length: n }, () => sha256(randomBytes(40)));
  const tree = oracle(entries);
  const prot = encodeReceiptProtected({ alg, kid: KID, iss: 'https://ledger.example', sub: 'ledger.example/log', iat: 1_790_000_000 });
  const sig = signReceiptRoot(prot, tree.getRoot(), privateKey);
  const receipt = (i: number) =>
    buildInclusionReceipt({ protectedBytes: prot, signature: sig, treeSize: n, leafIndex: i, path: tree.getProof(leafHash(entries[i]), i).map((p) => p.data) });
  return { entries, tree, prot, sig, key: publicKey, receipt };
}

describe('receipts (RFC 9942, vds 1)', () => {
  it('the shared protected header is deterministic and complete', () => {
    const prot = encodeReceiptProtected({ alg: -7, kid: KID, iss: 'i', sub: 's', iat: 5 });
    assert.equal(prot.subarray(0, 5).toString('hex'), 'a4012604' + '58');
    assert.deepEqual(decodeCbor(prot), new Map<number, unknown>([[1, -7], [4, KID], [15, new Map<number, unknown>([[1, 'i'], [2, 's'], [6, 5]])], [395, 1]]));
    assert.ok(encodeCbor(decodeCbor(prot)).equals(prot));
  });

  for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100]) {
    it(`tree of ${n}: every receipt verifies, and independently (cbor2 + merkletreejs + raw crypto.verify)`, () => {
      const log = makeLog(n);
      const root = log.tree.getRoot();
      for (const i of new Set([0, 1, n >> 1, n - 2, n - 1].filter((x) => x >= 0 && x < n))) {
        const r = log.receipt(i);
        const v = verifyReceipt(r, { entry: log.entries[i] }, (kid, ph) => {
          assert.deepEqual(kid, KID);
          assert.equal(ph.get(395), 1);
          return log.key;
        });
        assert.ok(v.ok, JSON.stringify(v));
        assert.equal(v.treeSize, n);
        assert.equal(v.leafIndex, i);
        assert.ok(v.root.equals(root));
        assert.equal(v.iss, 'https://ledger.example');
        assert.equal(v.sub, 'ledger.example/log');

        // Second opinion: decode with cbor2, recompute nothing with our code.
        const t = cbor2Decode(r, { preferMap: true }) as Cbor2Tag;
        assert.equal(t.tag, 18);
        const [p, u, payload, sig] = t.contents as [Uint8Array, Map<number, Map<number, Uint8Array[]>>, null, Uint8Array];
        assert.equal(payload, null);
        assert.deepEqual([...u.keys()], [396]);
        const proofs = u.get(396)!.get(-1)!;
        assert.equal(proofs.length, 1);
        const [size, idx, path] = cbor2Decode(proofs[0]) as [number, number, Uint8Array[]];
        assert.equal(size, n);
        assert.equal(idx, i);
        assert.deepEqual(path.map((x) => Buffer.from(x).toString('hex')), log.tree.getProof(leafHash(log.entries[i]), i).map((x) => x.data.toString('hex')));
        assert.ok(verify('sha256', handSigStructure(Buffer.from(p), root), { key: log.key, dsaEncoding: 'ieee-p1363' }, sig));

        // Bound to the entry: any other entry fails.
        expectFail(verifyReceipt(r, { entry: sha256(Buffer.from('other')) }, () => log.key), n === 1 ? 'BAD_RECEIPT_SIGNATURE' : 'TAMPERED_INCLUSION_PATH', 'signature');
      }
    });
  }

  it('all receipts of one tree size share the protected header and the signature', () => {
    const log = makeLog(9);
    const a = decodeSign1(log.receipt(0));
    const b = decodeSign1(log.receipt(8));
    assert.ok(a.protectedBytes.equals(b.protectedBytes));
    assert.ok(a.signature.equals(b.signature));
  });

  it('an EdDSA log key works the same way', () => {
    const log = makeLog(6, -8);
    const v = verifyReceipt(log.receipt(3), { entry: log.entries[3] }, () => log.key);
    assert.ok(v.ok);
  });

  it('the entry can be given as the statement (registered or transparent)', () => {
    const { privateKey } = keyPair(-7);
    const st = makeStatement(privateKey);
    const log = makeLog(4);
    log.entries[2] = sha256(st);
    const tree = oracle(log.entries);
    const { privateKey: lk, publicKey: lp } = keyPair(-7);
    const s2 = signReceiptRoot(log.prot, tree.getRoot(), lk);
    const r = buildInclusionReceipt({ protectedBytes: log.prot, signature: s2, treeSize: 4, leafIndex: 2, path: tree.getProof(leafHash(log.entries[2]), 2).map((p) => p.data) });
    assert.ok(verifyReceipt(r, { statement: st }, () => lp).ok);
    assert.ok(verifyReceipt(r, { statement: embedReceipts(st, [r]) }, () => lp).ok);
    expectFail(verifyReceipt(r, {}, () => lp), 'MISSING_ENTRY', 'entry');
    expectFail(verifyReceipt(r, { entry: Buffer.alloc(31) }, () => lp), 'MISSING_ENTRY', 'entry');
    expectFail(verifyReceipt(r, { statement: Buffer.from('nope') }, () => lp), 'MALFORMED_CBOR', 'entry');
  });

  describe('tampering and malformed receipts: a coded verdict at the right step', () => {
    const log = makeLog(8);
    const good = log.receipt(2);
    const entry = log.entries[2];
    const resolve = () => log.key;
    const m = decodeSign1(good);
    const withUnprotected = (u: HeaderMap, o: { payload?: Buffer | null; prot?: Buffer; sig?: Buffer } = {}) =>
      encodeSign1({ protectedBytes: o.prot ?? m.protectedBytes, unprotectedHeader: u, payload: o.payload === undefined ? null : o.payload, signature: o.sig ?? m.signature });
    const proofBytes = (v: unknown) => new Map<number, unknown>([[396, new Map([[-1, [encodeCbor(v)]]])]]);
    const path = log.tree.getProof(leafHash(entry), 2).map((p) => p.data);

    it('a flipped byte in the path: TAMPERED_INCLUSION_PATH', () => {
      const bad = path.map((p, i) => (i === 0 ? Buffer.from(p.map((x, j) => (j === 0 ? x ^ 1 : x))) : p));
      expectFail(verifyReceipt(buildInclusionReceipt({ protectedBytes: log.prot, signature: log.sig, treeSize: 8, leafIndex: 2, path: bad }), { entry }, resolve), 'TAMPERED_INCLUSION_PATH', 'signature');
    });
    it('a flipped signature bit: the root no longer matches what was signed', () => {
      const sig = Buffer.from(log.sig);
      sig[5] ^= 1;
      expectFail(verifyReceipt(withUnprotected(m.unprotectedHeader, { sig }), { entry }, resolve), 'TAMPERED_INCLUSION_PATH', 'signature');
    });
    it('a signature of the wrong length: BAD_RECEIPT_SIGNATURE', () => {
      expectFail(verifyReceipt(withUnprotected(m.unprotectedHeader, { sig: log.sig.subarray(1) }), { entry }, resolve), 'BAD_RECEIPT_SIGNATURE', 'signature');
    });
    it('the wrong leaf index or tree size: the root differs (or the proof is malformed)', () => {
      expectFail(verifyReceipt(withUnprotected(proofBytes([8, 3, path])), { entry }, resolve), 'TAMPERED_INCLUSION_PATH');
      expectFail(verifyReceipt(withUnprotected(proofBytes([8, 8, path])), { entry }, resolve), 'BAD_INCLUSION_PROOF', 'root');
      expectFail(verifyReceipt(withUnprotected(proofBytes([9, 2, path])), { entry }, resolve), 'BAD_INCLUSION_PROOF', 'root');
      expectFail(verifyReceipt(withUnprotected(proofBytes([8, 2, path.slice(1)])), { entry }, resolve), 'BAD_INCLUSION_PROOF', 'root');
      expectFail(verifyReceipt(withUnprotected(proofBytes([8, 2, [...path.slice(1), Buffer.alloc(31)]])), { entry }, resolve), 'BAD_INCLUSION_PROOF', 'root');
    });
    it('malformed proofs: BAD_INCLUSION_PROOF / MISSING_INCLUSION_PROOF at the proof step', () => {
      const cases: [HeaderMap, string][] = [
        [new Map(), 'MISSING_INCLUSION_PROOF'],
        [new Map([[396, new Map([[-2, [encodeCbor([1, 2, []])]]])]]), 'MISSING_INCLUSION_PROOF'],
        [new Map<number, unknown>([[396, [1]]]), 'BAD_INCLUSION_PROOF'],
        [new Map([[396, new Map([[-1, []]])]]), 'BAD_INCLUSION_PROOF'],
        [new Map([[396, new Map([[-1, encodeCbor([8, 2, path])]])]]), 'BAD_INCLUSION_PROOF'],
        [new Map([[396, new Map([[-1, [[8, 2, path]]]])]]), 'BAD_INCLUSION_PROOF'],
        [new Map([[396, new Map([[-1, [Buffer.from('ff', 'hex')]]])]]), 'BAD_INCLUSION_PROOF'],
        [proofBytes([8, 2]), 'BAD_INCLUSION_PROOF'],
        [proofBytes([-8, 2, path]), 'BAD_INCLUSION_PROOF'],
        [proofBytes([8, 2, ['not bytes']]), 'BAD_INCLUSION_PROOF'],
        [proofBytes([8, 2, Array(65).fill(path[0])]), 'BAD_INCLUSION_PROOF'],
        [proofBytes([2n ** 60n, 2, path]), 'BAD_INCLUSION_PROOF'],
      ];
      for (const [u, code] of cases) expectFail(verifyReceipt(withUnprotected(u), { entry }, resolve), code, 'proof');
    });
    it('vds: read from the protected header only', () => {
      const vds2 = encodeReceiptProtected({ alg: -7, kid: KID });
      const ph2 = decodeCbor(vds2) as Map<number, unknown>;
      ph2.set(395, 2);
      expectFail(verifyReceipt(withUnprotected(m.unprotectedHeader, { prot: encodeCbor(ph2) }), { entry }, resolve), 'UNSUPPORTED_VDS', 'vds');
      ph2.delete(395);
      const onlyUnprotected = new Map(m.unprotectedHeader).set(395, 1);
      const v = verifyReceipt(withUnprotected(onlyUnprotected, { prot: encodeCbor(ph2) }), { entry }, resolve);
      expectFail(v, 'UNSUPPORTED_VDS', 'vds');
      assert.match((v as { message: string }).message, /unprotected/);
      ph2.set(395, 'RFC9162_SHA256');
      expectFail(verifyReceipt(withUnprotected(m.unprotectedHeader, { prot: encodeCbor(ph2) }), { entry }, resolve), 'UNSUPPORTED_VDS', 'vds');
    });
    it('header, payload and key problems', () => {
      const ph = decodeCbor(log.prot) as Map<number, unknown>;
      expectFail(verifyReceipt(withUnprotected(m.unprotectedHeader, { prot: encodeCbor(new Map(ph).set(1, -65535)) }), { entry }, resolve), 'UNSUPPORTED_ALGORITHM', 'header');
      expectFail(verifyReceipt(withUnprotected(m.unprotectedHeader, { prot: encodeCbor(new Map(ph).set(4, 'kid')) }), { entry }, resolve), 'BAD_HEADER', 'header');
      expectFail(verifyReceipt(withUnprotected(m.unprotectedHeader, { prot: encodeCbor(new Map(ph).set(15, 'claims')) }), { entry }, resolve), 'BAD_HEADER', 'header');
      expectFail(verifyReceipt(withUnprotected(m.unprotectedHeader, { payload: log.tree.getRoot() }), { entry }, resolve), 'BAD_RECEIPT', 'header');
      expectFail(verifyReceipt(good, { entry }, () => undefined), 'UNKNOWN_RECEIPT_KEY', 'key');
      expectFail(verifyReceipt(good, { entry }, () => keyPair(-8).publicKey), 'KEY_ALG_MISMATCH', 'key');
      expectFail(verifyReceipt(good, { entry }, () => keyPair(-7).publicKey), 'TAMPERED_INCLUSION_PATH', 'signature');
    });
    it('not a receipt at all', () => {
      expectFail(verifyReceipt(Buffer.from('hello'), { entry }, resolve), 'MALFORMED_CBOR', 'decode');
      expectFail(verifyReceipt(encodeCbor(new Tag(98, [])), { entry }, resolve), 'NOT_COSE_SIGN1', 'decode');
      assert.ok(verifyReceipt(good.subarray(1), { entry }, resolve).ok, 'untagged receipts are accepted');
    });
    it('several proofs: the one for this entry is used', () => {
      const other = encodeCbor([8, 5, log.tree.getProof(leafHash(log.entries[5]), 5).map((p) => p.data)]);
      const mine = encodeCbor([8, 2, path]);
      const r = withUnprotected(new Map([[396, new Map([[-1, [other, mine]]])]]));
      const v = verifyReceipt(r, { entry }, resolve);
      assert.ok(v.ok && v.leafIndex === 2, JSON.stringify(v));
    });
    it('builders refuse impossible input', () => {
      assert.throws(() => buildInclusionReceipt({ protectedBytes: log.prot, signature: log.sig, treeSize: 8, leafIndex: 8, path }));
      assert.throws(() => buildConsistencyReceipt({ protectedBytes: log.prot, signature: log.sig, size1: 9, size2: 8, proof: [] }));
      assert.throws(() => signReceiptRoot(log.prot, Buffer.alloc(31), keyPair(-7).privateKey));
    });
  });
});

describe('consistency receipts', () => {
  const { privateKey, publicKey } = keyPair(-7);
  const entries = Array.from({ length: 40 }, () => sha256(randomBytes(16)));
  const leaves = entries.map((e) => leafHash(e));
  const prot = encodeReceiptProtected({ alg: -7, kid: KID, iss: 'https://ledger.example' });
  const rootAt = (n: number) => oracle(entries.slice(0, n)).getRoot();

  for (const [m, n] of [[1, 1], [1, 2], [3, 7], [4, 8], [7, 40], [16, 17], [39, 40], [40, 40]]) {
    it(`${m} -> ${n}`, () => {
      const sig = signReceiptRoot(prot, rootAt(n), privateKey);
      const r = buildConsistencyReceipt({ protectedBytes: prot, signature: sig, size1: m, size2: n, proof: consistencyProofRef(m, leaves.slice(0, n)) });
      const v = verifyConsistencyReceipt(r, { root1: rootAt(m), size1: m }, () => publicKey);
      assert.ok(v.ok, JSON.stringify(v));
      assert.equal(v.size1, m);
      assert.equal(v.size2, n);
      assert.ok(v.root2.equals(rootAt(n)));
      // A wrong trusted root: caught at the root step, or (when size1 is a power of two and root1
      // is itself the seed of the proof) at the signature over the root2 it leads to.
      if (m !== n) expectFail(verifyConsistencyReceipt(r, { root1: sha256(Buffer.from('x')) }, () => publicKey), 'TAMPERED_CONSISTENCY_PROOF');
      expectFail(verifyConsistencyReceipt(r, { root1: rootAt(m), size1: m + 1 }, () => publicKey), 'BAD_CONSISTENCY_PROOF', 'proof');
      expectFail(verifyReceipt(r, { entry: entries[0] }, () => publicKey), 'MISSING_INCLUSION_PROOF', 'proof');
    });
  }

  it('a receipt signed over another root, or an inclusion receipt, is refused', () => {
    const proof = consistencyProofRef(5, leaves.slice(0, 9));
    const wrongSig = signReceiptRoot(prot, rootAt(8), privateKey);
    const r = buildConsistencyReceipt({ protectedBytes: prot, signature: wrongSig, size1: 5, size2: 9, proof });
    expectFail(verifyConsistencyReceipt(r, { root1: rootAt(5) }, () => publicKey), 'TAMPERED_CONSISTENCY_PROOF', 'signature');
    const inclusion = buildInclusionReceipt({ protectedBytes: prot, signature: wrongSig, treeSize: 9, leafIndex: 0, path: [] });
    expectFail(verifyConsistencyReceipt(inclusion, { root1: rootAt(5) }, () => publicKey), 'MISSING_CONSISTENCY_PROOF', 'proof');
  });
});
