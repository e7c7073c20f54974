import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeCbor, encodeCbor, Tag } from '../../../src/core/cbor';
import { decodeSign1, encodeSign1, parseSignedStatement, registeredBytes, signSign1, verifyStatementSignature } from '../../../src/core/cose';
import { keyPair, makeStatement, throwsCode } from './helpers';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
const { privateKey, publicKey } = keyPair(-7);

describe('Signed Statement profile (RFC 9943)', () => {
  it('parses a statement: claims, kid, content type; registered = the input itself (no copy)', () => {
    const bytes = makeStatement(privateKey, { iss: 'https://builder.example', sub: 'oci://r.example/app@sha256:00', contentType: 'application/spdx+json' });
    const st = parseSignedStatement(bytes);
    assert.equal(st.alg, -7);
    assert.equal(st.iss, 'https://builder.example');
    assert.equal(st.sub, 'oci://r.example/app@sha256:00');
    assert.equal(st.contentType, 'application/spdx+json');
    assert.deepEqual(st.kid, Buffer.from('issuer-key-1'));
    assert.equal(st.hashEnvelope, undefined);
    assert.equal(st.registered.buffer, bytes.buffer);
    assert.equal(st.registered.byteOffset, bytes.byteOffset);
    assert.ok(st.entryHash.equals(sha256(bytes)));
    assert.equal(st.sign1.payload!.buffer, bytes.buffer, 'the payload is a view, not a copy');
    verifyStatementSignature(st, publicKey);
  });

  it('registered form: unprotected header emptied, everything else untouched; one entry per statement', () => {
    const plain = makeStatement(privateKey);
    const st0 = parseSignedStatement(plain);
    const m = decodeSign1(plain);
    const withUnprotected = encodeSign1({ ...m, unprotectedHeader: new Map<number, unknown>([[394, [Buffer.from('r')]], [-70000, 'x']]) });
    const st1 = parseSignedStatement(withUnprotected);
    assert.ok(st1.registered.equals(plain));
    assert.ok(st1.entryHash.equals(st0.entryHash));
    // Non-shortest heads and an untagged envelope also map to the same registered bytes.
    const arr = decodeCbor(plain) as Tag;
    const [p, , pl, sig] = arr.value as Buffer[];
    const loose = Buffer.concat([Buffer.from('d8129804', 'hex'), Buffer.from([0x58, p.length]), p, Buffer.from('bfff', 'hex'), Buffer.from([0x59, 0, pl.length]), pl, Buffer.from([0x58, 64]), sig]);
    const st2 = parseSignedStatement(loose);
    assert.ok(st2.registered.equals(plain));
    const untagged = plain.subarray(1);
    assert.ok(parseSignedStatement(untagged, { requireTag: false }).registered.equals(plain));
    assert.ok(registeredBytes(withUnprotected).equals(plain));
    verifyStatementSignature(st2, publicKey);
  });

  it('hash envelope: payload-hash-alg, preimage content type and location', () => {
    for (const [alg, len] of [[-16, 32], [-43, 48], [-44, 64]]) {
      const bytes = makeStatement(privateKey, {
        contentType: null,
        payload: Buffer.alloc(len, 1),
        extra: [[258, alg], [259, 'application/vnd.oci.image.manifest.v1+json'], [260, 'https://r.example/blob']],
      });
      const st = parseSignedStatement(bytes);
      assert.deepEqual(st.hashEnvelope, { payloadHashAlg: alg, preimageContentType: 'application/vnd.oci.image.manifest.v1+json', payloadLocation: 'https://r.example/blob' });
      assert.equal(st.contentType, undefined);
    }
    const coap = parseSignedStatement(makeStatement(privateKey, { contentType: null, payload: Buffer.alloc(32), extra: [[258, -16], [259, 50]] }));
    assert.equal(coap.hashEnvelope!.preimageContentType, 50);
  });

  it('foreign statements: no sub and no kid are accepted when the caller relaxes the profile', () => {
    const bytes = makeStatement(privateKey, { sub: null, kid: null });
    throwsCode(() => parseSignedStatement(bytes), 'MISSING_SUBJECT');
    const st = parseSignedStatement(bytes, { requireSubject: false });
    assert.equal(st.sub, undefined);
    assert.equal(st.kid, undefined);
    throwsCode(() => parseSignedStatement(bytes, { requireSubject: false, requireConfirmation: true }), 'CONFIRMATION_MISSING');
  });

  describe('rejections, each with its code', () => {
    const cwt = (entries: [number, unknown][]) => new Map<number, unknown>(entries);
    const cases: [string, () => Uint8Array, string, Parameters<typeof parseSignedStatement>[1]?][] = [
      ['over the size limit', () => makeStatement(privateKey), 'TOO_LARGE', { maxBytes: 100 }],
      ['not CBOR', () => Buffer.from('d284', 'hex'), 'MALFORMED_CBOR'],
      ['not a COSE_Sign1', () => encodeCbor(new Tag(18, [1, 2, 3, 4])), 'NOT_COSE_SIGN1'],
      ['untagged', () => makeStatement(privateKey).subarray(1), 'NOT_COSE_SIGN1'],
      ['COSE_Mac0 tag', () => Buffer.concat([Buffer.from([0xd1]), makeStatement(privateKey).subarray(1)]), 'NOT_COSE_SIGN1'],
      ['unsupported alg', () => encodeSign1({ protectedBytes: encodeCbor(new Map<number, unknown>([[1, -257], [4, Buffer.from('k')]])), payload: Buffer.alloc(1), signature: Buffer.alloc(64) }), 'UNSUPPORTED_ALGORITHM'],
      ['no alg', () => encodeSign1({ protectedBytes: encodeCbor(new Map([[4, Buffer.from('k')]])), payload: Buffer.alloc(1), signature: Buffer.alloc(64) }), 'UNSUPPORTED_ALGORITHM'],
      ['alg only unprotected', () => encodeSign1({ protectedBytes: encodeCbor(new Map([[4, Buffer.from('k')]])), unprotectedHeader: new Map([[1, -7]]), payload: Buffer.alloc(1), signature: Buffer.alloc(64) }), 'UNSUPPORTED_ALGORITHM'],
      ['no CWT claims', () => makeStatement(privateKey, { cwt: null }), 'MISSING_CWT_CLAIMS'],
      ['no iss', () => makeStatement(privateKey, { iss: null }), 'MISSING_ISSUER'],
      ['empty iss', () => makeStatement(privateKey, { iss: '' }), 'MISSING_ISSUER'],
      ['no sub', () => makeStatement(privateKey, { sub: null }), 'MISSING_SUBJECT'],
      ['no kid', () => makeStatement(privateKey, { kid: null }), 'CONFIRMATION_MISSING'],
      ['empty kid', () => makeStatement(privateKey, { kid: Buffer.alloc(0) }), 'CONFIRMATION_MISSING'],
      ['kid only unprotected', () => makeStatement(privateKey, { kid: null, unprotected: new Map([[4, Buffer.from('k')]]) }), 'CONFIRMATION_MISSING'],
      ['detached payload', () => makeStatement(privateKey, { detached: true }), 'PAYLOAD_MISSING'],
      ['kid as text', () => makeStatement(privateKey, { kid: 'k' as unknown as Uint8Array }), 'BAD_HEADER'],
      ['unprotected kid as text', () => makeStatement(privateKey, { unprotected: new Map([[4, 'k']]), kid: null }), 'BAD_HEADER'],
      ['CWT claims not a map', () => makeStatement(privateKey, { cwt: null, extra: [[15, [1, 2]]] }), 'BAD_HEADER'],
      ['iss not text', () => makeStatement(privateKey, { cwt: cwt([[1, 42]]) }), 'BAD_HEADER'],
      ['sub not text', () => makeStatement(privateKey, { cwt: cwt([[2, Buffer.from('s')]]) }), 'BAD_HEADER'],
      ['iat not a number', () => makeStatement(privateKey, { cwt: cwt([[6, 'yesterday']]) }), 'BAD_HEADER'],
      ['content type empty', () => makeStatement(privateKey, { contentType: '' }), 'BAD_HEADER'],
      ['content type negative', () => makeStatement(privateKey, { contentType: -1 }), 'BAD_HEADER'],
      ['unknown critical label', () => makeStatement(privateKey, { extra: [[2, [99]], [99, 1]] }), 'BAD_HEADER'],
      ['critical label absent', () => makeStatement(privateKey, { extra: [[2, [258]]] }), 'BAD_HEADER'],
      ['crit not an array', () => makeStatement(privateKey, { extra: [[2, 4]] }), 'BAD_HEADER'],
      ['hash envelope with content type', () => makeStatement(privateKey, { payload: Buffer.alloc(32), extra: [[258, -16]] }), 'BAD_HEADER'],
      ['unknown payload-hash-alg', () => makeStatement(privateKey, { contentType: null, payload: Buffer.alloc(32), extra: [[258, -17]] }), 'BAD_HEADER'],
      ['payload length is not the digest length', () => makeStatement(privateKey, { contentType: null, payload: Buffer.alloc(33), extra: [[258, -16]] }), 'BAD_HEADER'],
      ['259 without 258', () => makeStatement(privateKey, { contentType: null, extra: [[259, 'text/plain']] }), 'BAD_HEADER'],
      ['260 not text', () => makeStatement(privateKey, { contentType: null, payload: Buffer.alloc(32), extra: [[258, -16], [260, 5]] }), 'BAD_HEADER'],
      ['258 unprotected', () => makeStatement(privateKey, { unprotected: new Map([[258, -16]]) }), 'BAD_HEADER'],
      ['label in both headers', () => makeStatement(privateKey, { unprotected: new Map([[3, 'text/plain']]) }), 'BAD_HEADER'],
    ];
    for (const [name, make, code, opts] of cases) it(name, () => void throwsCode(() => parseSignedStatement(make(), opts), code));
  });
});

describe('verifyStatementSignature', () => {
  it('any of several keys may verify (rotation); keys of another type are skipped', () => {
    const st = parseSignedStatement(makeStatement(privateKey));
    verifyStatementSignature(st, [keyPair(-8).publicKey, keyPair(-7).publicKey, publicKey]);
    throwsCode(() => verifyStatementSignature(st, [keyPair(-7).publicKey, keyPair(-35).publicKey]), 'BAD_STATEMENT_SIGNATURE');
    throwsCode(() => verifyStatementSignature(st, [keyPair(-8).publicKey]), 'BAD_STATEMENT_SIGNATURE');
    throwsCode(() => verifyStatementSignature(st, []), 'BAD_STATEMENT_SIGNATURE');
  });

  it('a flipped signature bit fails', () => {
    const bytes = makeStatement(privateKey);
    bytes[bytes.length - 1] ^= 1;
    throwsCode(() => verifyStatementSignature(parseSignedStatement(bytes), publicKey), 'BAD_STATEMENT_SIGNATURE');
  });

  it('detached payloads are verifiable when supplied', () => {
    const payload = Buffer.from('the artifact');
    const st = parseSignedStatement(makeStatement(privateKey, { detached: true, payload }), { requireAttachedPayload: false });
    throwsCode(() => verifyStatementSignature(st, publicKey), 'PAYLOAD_MISSING');
    verifyStatementSignature(st, publicKey, { detachedPayload: payload });
    throwsCode(() => verifyStatementSignature(st, publicKey, { detachedPayload: Buffer.from('another') }), 'BAD_STATEMENT_SIGNATURE');
  });

  it('every supported algorithm', () => {
    for (const alg of [-7, -35, -36, -8, -37]) {
      const k = keyPair(alg);
      const st = parseSignedStatement(signSign1({
        protectedHeader: new Map<number, unknown>([[1, alg], [4, Buffer.from('k')], [15, new Map([[1, 'i'], [2, 's']])]]),
        payload: Buffer.from('p'),
        key: k.privateKey,
      }));
      verifyStatementSignature(st, k.publicKey);
    }
  });
});
