import assert from 'node:assert/strict';
import { randomBytes, sign, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeSign1, encodeSign1, parseSignedStatement, sigStructure, signSign1, verifySign1, verifyStatementSignature } from '../../../src/core/cose';
import { keyPair, makeStatement, throwsCode } from './helpers';

// cose-js ships no types; its API is promise-based: sign.create(headers, payload, signer[, options]), sign.verify(bytes, verifier).
const cose = require('cose-js') as {
  sign: {
    create(h: { p?: Record<string, unknown>; u?: Record<string, unknown> }, payload: Buffer, signer: { key: { d: Buffer } }, o?: { excludetag?: boolean }): Promise<Buffer>;
    verify(msg: Buffer, verifier: { key: { x: Buffer; y: Buffer } }): Promise<Buffer>;
  };
};

function coseJsKeys(k: { privateKey: KeyObject }): { signer: { key: { d: Buffer } }; verifier: { key: { x: Buffer; y: Buffer } } } {
  const j = k.privateKey.export({ format: 'jwk' }) as Record<string, string>;
  const b = (s: string) => Buffer.from(s, 'base64url');
  return { signer: { key: { d: b(j.d) } }, verifier: { key: { x: b(j.x), y: b(j.y) } } };
}

describe('interop with cose-js (ES256)', () => {
  const k = keyPair(-7);
  const { signer, verifier } = coseJsKeys(k);

  it('a message signed by cose-js verifies with ours (its header order is not ours: we verify the bytes it sent)', async () => {
    for (let i = 0; i < 5; i++) {
      const payload = randomBytes(100 + i);
      const msg = await cose.sign.create({ p: { kid: 'issuer-1', alg: 'ES256', content_type: 'application/json' }, u: {} }, payload, signer);
      const m = verifySign1(msg, k.publicKey);
      assert.deepEqual([...m.protectedHeader.keys()], [4, 1, 3]);
      assert.ok(m.payload!.equals(payload));
    }
  });

  it('cose-js cannot express a Signed Statement (no label 15): our profile says so precisely', async () => {
    const msg = await cose.sign.create({ p: { alg: 'ES256', kid: 'issuer-1' } }, Buffer.from('x'), signer);
    throwsCode(() => parseSignedStatement(msg), 'MISSING_CWT_CLAIMS');
    const untagged = await cose.sign.create({ p: { alg: 'ES256' } }, Buffer.from('x'), signer, { excludetag: true });
    throwsCode(() => verifySign1(untagged, k.publicKey), 'NOT_COSE_SIGN1');
    verifySign1(untagged, k.publicKey, { requireTag: false });
  });

  it('statements signed by ours verify with cose-js: plain, with CWT claims, as a hash envelope', async () => {
    const msgs = [
      signSign1({ protectedHeader: new Map<number, unknown>([[1, -7], [3, 'application/json'], [4, Buffer.from('k')]]), payload: Buffer.from('hi'), key: k.privateKey }),
      makeStatement(k.privateKey),
      makeStatement(k.privateKey, { contentType: null, payload: randomBytes(32), extra: [[258, -16], [259, 'application/json'], [260, 'https://x.example/a']] }),
    ];
    for (const m of msgs) {
      const payload = await cose.sign.verify(m, verifier);
      assert.ok(payload.equals(decodeSign1(m).payload!));
    }
    const st = parseSignedStatement(msgs[2]);
    verifyStatementSignature(st, k.publicKey);
  });

  it('where cose-js falls short: detached payloads, and headers it would re-encode differently', async () => {
    const detached = signSign1({ protectedHeader: new Map([[1, -7]]), payload: Buffer.from('hi'), key: k.privateKey, detached: true });
    await assert.rejects(cose.sign.verify(detached, verifier));
    verifySign1(detached, k.publicKey, { detachedPayload: Buffer.from('hi') });

    // An indefinite-length protected map is valid CBOR that cose-js re-encodes as definite before
    // checking the signature; the signature covers the bytes as sent, which is what we verify.
    const prot = Buffer.from('bf0126ff', 'hex');
    const payload = Buffer.from('bytes as received');
    const signature = sign('sha256', sigStructure(prot, undefined, payload), { key: k.privateKey, dsaEncoding: 'ieee-p1363' });
    const msg = encodeSign1({ protectedBytes: prot, payload, signature });
    verifySign1(msg, k.publicKey);
    await assert.rejects(cose.sign.verify(msg, verifier));
  });
});
