import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeCbor, Tag } from '../../../src/core/cbor';
import {
  algorithmForKey,
  decodeProtectedHeader,
  decodeSign1,
  encodeSign1,
  importPublicKey,
  sigStructure,
  signSign1,
  verifySign1,
} from '../../../src/core/cose';
import { ALGS, keyPair, rsaPss, throwsCode } from './helpers';

const h = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

// RFC 9052 Appendix C.2.1: a single ECDSA signature, key "11" of Appendix C.7.1.
const C21 = h('d28443a10126a10442313154546869732069732074686520636f6e74656e742e5840' +
  '8eb33e4ca31d1c465ab05aac34cc6b23d58fef5c083106c4d25a91aef0b0117e2af9a291aa32e14ab834dc56ed2a223444547e01f11d3b0916e5a4c345cacb36');
const KEY_11 = { kty: 'EC', crv: 'P-256', x: 'usWxHK2PmfnHKwXPS54m0kTcGJ90UiglWiGahtagnv8', y: 'IBOL-C3BttVivg-lSreASjpkttcsz-1rb7btKLv8EX4' };

describe('COSE_Sign1 (RFC 9052)', () => {
  it('verifies the RFC 9052 C.2.1 example, and its Sig_structure is byte-exact', () => {
    const m = decodeSign1(C21);
    assert.equal(m.tagged, true);
    assert.deepEqual(m.protectedHeader, new Map([[1, -7]]));
    assert.deepEqual(m.unprotectedHeader.get(4), Buffer.from('11'));
    assert.equal(m.payload!.toString(), 'This is the content.');
    assert.equal(sigStructure(m.protectedBytes, undefined, m.payload!).toString('hex'), '846a5369676e61747572653143a101264054546869732069732074686520636f6e74656e742e');
    verifySign1(m, importPublicKey(KEY_11));
    // Re-serialising the decoded message gives back the same bytes.
    assert.ok(encodeSign1(m).equals(C21));
  });

  for (const alg of ALGS) {
    it(`signs and verifies with alg ${alg} (attached and detached payloads)`, () => {
      const { privateKey, publicKey } = keyPair(alg);
      assert.equal(algorithmForKey(privateKey), alg);
      const ph = new Map<number, unknown>([[1, alg], [4, Buffer.from('k1')]]);
      const payload = Buffer.from('hello COSE');
      const bytes = signSign1({ protectedHeader: ph, payload, key: privateKey });
      assert.equal(bytes[0], 0xd2);
      const m = verifySign1(bytes, publicKey);
      assert.ok(m.protectedBytes.equals(encodeCbor(ph)));
      assert.ok(m.payload!.equals(payload));

      const detached = signSign1({ protectedHeader: ph, payload, key: privateKey, detached: true });
      const d = decodeSign1(detached);
      assert.equal(d.payload, null);
      throwsCode(() => verifySign1(d, publicKey), 'PAYLOAD_MISSING');
      verifySign1(d, publicKey, { detachedPayload: payload });
      throwsCode(() => verifySign1(d, publicKey, { detachedPayload: Buffer.from('hello COSF') }), 'BAD_SIGNATURE');

      const other = keyPair(alg).publicKey;
      throwsCode(() => verifySign1(bytes, other), 'BAD_SIGNATURE');
      const tampered = Buffer.from(bytes);
      tampered[tampered.length - 1] ^= 1;
      throwsCode(() => verifySign1(tampered, publicKey), 'BAD_SIGNATURE');
    });
  }

  it('external AAD is bound into the signature', () => {
    const { privateKey, publicKey } = keyPair(-7);
    const aad = Buffer.from('context');
    const bytes = signSign1({ protectedHeader: new Map([[1, -7]]), payload: Buffer.from('x'), key: privateKey, externalAad: aad });
    verifySign1(bytes, publicKey, { externalAad: aad });
    throwsCode(() => verifySign1(bytes, publicKey), 'BAD_SIGNATURE');
  });

  it('verifies over the protected bytes as received, never a re-encoding', () => {
    const { privateKey, publicKey } = keyPair(-7);
    // {3: "text/plain", 1: -7}: not in deterministic order, so a re-encoding would differ.
    const prot = h('a2 03 6a746578742f706c61696e 01 26');
    assert.notEqual(encodeCbor(decodeProtectedHeader(prot)).toString('hex'), prot.toString('hex'));
    const payload = Buffer.from('payload');
    const signature = sign('sha256', sigStructure(prot, undefined, payload), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const msg = encodeSign1({ protectedBytes: prot, payload, signature });
    const m = verifySign1(msg, publicKey);
    assert.ok(m.protectedBytes.equals(prot));
  });

  it('checks that the key fits the algorithm', () => {
    const ec = keyPair(-7);
    const ed = keyPair(-8);
    const p384 = keyPair(-35);
    throwsCode(() => signSign1({ protectedHeader: new Map([[1, -7]]), payload: Buffer.alloc(1), key: ed.privateKey }), 'KEY_ALG_MISMATCH');
    throwsCode(() => signSign1({ protectedHeader: new Map([[1, -7]]), payload: Buffer.alloc(1), key: p384.privateKey }), 'KEY_ALG_MISMATCH');
    throwsCode(() => signSign1({ protectedHeader: new Map([[1, -7]]), payload: Buffer.alloc(1), key: ec.publicKey }), 'KEY_ALG_MISMATCH');
    const msg = signSign1({ protectedHeader: new Map([[1, -7]]), payload: Buffer.alloc(1), key: ec.privateKey });
    throwsCode(() => verifySign1(msg, ed.publicKey), 'KEY_ALG_MISMATCH');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    throwsCode(() => signSign1({ protectedHeader: new Map([[1, -37]]), payload: Buffer.alloc(1), key: weak.privateKey }), 'KEY_ALG_MISMATCH');
  });

  it('PS256 works with RSASSA-PSS keys too, and refuses PSS keys restricted to another hash', () => {
    const pss = rsaPss('sha256', 32);
    verifySign1(signSign1({ protectedHeader: new Map([[1, -37]]), payload: Buffer.from('x'), key: pss.privateKey }), pss.publicKey);
    const sha512 = rsaPss('sha512', 64);
    throwsCode(() => signSign1({ protectedHeader: new Map([[1, -37]]), payload: Buffer.from('x'), key: sha512.privateKey }), 'KEY_ALG_MISMATCH');
  });

  it('large payloads are streamed into the digest (and EdDSA still verifies)', () => {
    for (const alg of [-7, -8, -37]) {
      const { privateKey, publicKey } = keyPair(alg);
      const payload = Buffer.alloc(600_000, 3);
      const msg = signSign1({ protectedHeader: new Map([[1, alg]]), payload, key: privateKey });
      verifySign1(msg, publicKey);
      const bad = Buffer.from(msg);
      bad[1000] ^= 1;
      throwsCode(() => verifySign1(bad, publicKey), 'BAD_SIGNATURE');
    }
  });

  it('only supported algorithms, and only from the protected header', () => {
    const { privateKey, publicKey } = keyPair(-7);
    throwsCode(() => signSign1({ protectedHeader: new Map([[1, -257]]), payload: Buffer.alloc(1), key: privateKey }), 'UNSUPPORTED_ALGORITHM');
    throwsCode(() => signSign1({ protectedHeader: new Map<number, unknown>([[1, 'ES256']]), payload: Buffer.alloc(1), key: privateKey }), 'UNSUPPORTED_ALGORITHM');
    const sig = sign('sha256', sigStructure(Buffer.alloc(0), undefined, Buffer.from('x')), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const algInUnprotected = encodeSign1({ protectedBytes: Buffer.alloc(0), unprotectedHeader: new Map([[1, -7]]), payload: Buffer.from('x'), signature: sig });
    throwsCode(() => verifySign1(algInUnprotected, publicKey), 'UNSUPPORTED_ALGORITHM');
  });
});

describe('decodeSign1 on malformed input', () => {
  const { privateKey } = keyPair(-7);
  const good = signSign1({ protectedHeader: new Map([[1, -7]]), payload: Buffer.from('x'), key: privateKey });
  const untagged = good.subarray(1);

  it('tags: 18 required by default, optional on request, others refused', () => {
    throwsCode(() => decodeSign1(untagged), 'NOT_COSE_SIGN1');
    assert.equal(decodeSign1(untagged, { requireTag: false }).tagged, false);
    const t17 = Buffer.from(good);
    t17[0] = 0xd1;
    throwsCode(() => decodeSign1(t17), 'NOT_COSE_SIGN1');
    throwsCode(() => decodeSign1(t17, { requireTag: false }), 'NOT_COSE_SIGN1');
  });

  it('structure errors are NOT_COSE_SIGN1, bytes that are not CBOR are MALFORMED_CBOR', () => {
    throwsCode(() => decodeSign1(h('d2 84 43a10126 a0')), 'MALFORMED_CBOR');
    throwsCode(() => decodeSign1(h('d2 83 43a10126 a0 40')), 'NOT_COSE_SIGN1');
    throwsCode(() => decodeSign1(h('d2 84 a0 a0 40 40')), 'NOT_COSE_SIGN1');
    throwsCode(() => decodeSign1(h('d2 84 40 80 40 40')), 'NOT_COSE_SIGN1');
    throwsCode(() => decodeSign1(h('d2 84 40 a0 01 40')), 'NOT_COSE_SIGN1');
    throwsCode(() => decodeSign1(h('d2 84 40 a0 40 f6')), 'NOT_COSE_SIGN1');
    throwsCode(() => decodeSign1(encodeCbor(new Tag(18, 'x'))), 'NOT_COSE_SIGN1');
    throwsCode(() => decodeSign1(Buffer.alloc(100, 0), { maxBytes: 99 }), 'TOO_LARGE');
  });

  it('header errors are BAD_HEADER', () => {
    throwsCode(() => decodeSign1(h('d2 84 4101 a0 40 40')), 'BAD_HEADER'); // protected is not a map
    throwsCode(() => decodeSign1(h('d2 84 41ff a0 40 40')), 'BAD_HEADER'); // protected is not CBOR
    throwsCode(() => decodeSign1(h('d2 84 43a10126 a10126 40 40')), 'BAD_HEADER'); // alg in both buckets
    throwsCode(() => decodeSign1(h('d2 84 45a1f93e0026 a0 40 40')), 'BAD_HEADER'); // float label
    throwsCode(() => decodeSign1(h('d2 84 40 a14100 01 40 40')), 'BAD_HEADER'); // bstr label
    throwsCode(() => decodeSign1(h('d2 84 45a2012601 26 a0 40 40')), 'BAD_HEADER'); // duplicate label
    assert.deepEqual(decodeSign1(h('d2 84 40 a0 40 40')).protectedHeader, new Map());
    assert.deepEqual(decodeSign1(h('d2 84 41a0 a0 40 40')).protectedHeader, new Map());
  });
});
