import assert from 'node:assert/strict';
import { createHash, createSecretKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeCbor, encodeCbor } from '../../../src/core/cbor';
import {
  coseKeyThumbprint,
  coseKeyThumbprintUri,
  importPrivateKey,
  importPublicKey,
  publicKeyToCoseKey,
  publicKeyToCoseKeyMap,
  publicKeyToJwk,
  signSign1,
  verifySign1,
} from '../../../src/core/cose';
import { fixture, keyPair, rsaPss, throwsCode } from './helpers';

const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' }).toString('hex');
const hex = (s: string) => Buffer.from(s, 'hex');

// RFC 9679 §6: the example EC2 P-256 key, its required-parameter encoding and its thumbprint.
const RFC9679_X = hex('65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d');
const RFC9679_Y = hex('1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c');
const RFC9679_ENCODED = 'a40102200121582065eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d2258201e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c';
const RFC9679_THUMBPRINT = '496bd8afadf307e5b08c64b0421bf9dc01528a344a43bda88fadd1669da253ec';

describe('RFC 9679 COSE Key Thumbprint', () => {
  const coseKey = new Map<number, unknown>([[1, 2], [-1, 1], [-2, RFC9679_X], [-3, RFC9679_Y]]);

  it('matches the RFC example, whatever form the key comes in', () => {
    assert.equal(encodeCbor(coseKey).toString('hex'), RFC9679_ENCODED);
    assert.equal(createHash('sha256').update(hex(RFC9679_ENCODED)).digest('hex'), RFC9679_THUMBPRINT);
    assert.equal(coseKeyThumbprint(coseKey).toString('hex'), RFC9679_THUMBPRINT);
    assert.equal(coseKeyThumbprint(encodeCbor(coseKey)).toString('hex'), RFC9679_THUMBPRINT);
    const jwk = { kty: 'EC', crv: 'P-256', x: RFC9679_X.toString('base64url'), y: RFC9679_Y.toString('base64url'), kid: 'ignored', alg: 'ES256' };
    assert.equal(coseKeyThumbprint(jwk).toString('hex'), RFC9679_THUMBPRINT);
    assert.equal(coseKeyThumbprint(importPublicKey(jwk)).toString('hex'), RFC9679_THUMBPRINT);
    assert.equal(coseKeyThumbprintUri(jwk), `urn:ietf:params:oauth:ckt:sha-256:${hex(RFC9679_THUMBPRINT).toString('base64url')}`);
  });

  it('only the required parameters count: kid, alg and the private part do not change it', () => {
    const withExtras = new Map<number, unknown>([...coseKey, [2, Buffer.from('kid')], [3, -7]]);
    assert.equal(coseKeyThumbprint(withExtras).toString('hex'), RFC9679_THUMBPRINT);
    const { privateKey, publicKey } = keyPair(-7);
    assert.deepEqual(coseKeyThumbprint(privateKey), coseKeyThumbprint(publicKey));
    assert.deepEqual(coseKeyThumbprint(publicKeyToCoseKey(publicKey, { kid: Buffer.from('x'), alg: -7 })), coseKeyThumbprint(publicKey));
  });

  it('differs between keys, and covers OKP and RSA keys', () => {
    const seen = new Set<string>();
    for (const alg of [-7, -7, -35, -36, -8, -37]) seen.add(coseKeyThumbprint(keyPair(alg).publicKey).toString('hex'));
    assert.equal(seen.size, 6);
    const ed = keyPair(-8).publicKey;
    const enc = encodeCbor(new Map<number, unknown>([[1, 1], [-1, 6], [-2, Buffer.from(publicKeyToJwk(ed).x!, 'base64url')]]));
    assert.deepEqual(coseKeyThumbprint(ed), createHash('sha256').update(enc).digest());
    const rsa = keyPair(-37).publicKey;
    const j = publicKeyToJwk(rsa);
    const encR = encodeCbor(new Map<number, unknown>([[1, 3], [-1, Buffer.from(j.n!, 'base64url')], [-2, Buffer.from(j.e!, 'base64url')]]));
    assert.deepEqual(coseKeyThumbprint(rsa), createHash('sha256').update(encR).digest());
  });
});

describe('key import and export', () => {
  const pairs: [string, { privateKey: KeyObject; publicKey: KeyObject }][] = [
    ['P-256', keyPair(-7)],
    ['P-384', keyPair(-35)],
    ['P-521', keyPair(-36)],
    ['Ed25519', keyPair(-8)],
    ['RSA', keyPair(-37)],
    ['RSASSA-PSS', rsaPss('sha256', 32)],
  ];

  for (const [name, { privateKey, publicKey }] of pairs) {
    it(`${name}: JWK, COSE_Key (Map, bytes, JSON), PEM and DER round trips`, () => {
      const want = name === 'RSASSA-PSS' ? undefined : spki(publicKey);
      const jwk = publicKeyToJwk(publicKey, { kid: Buffer.from('k1') });
      assert.equal(jwk.kid, Buffer.from('k1').toString('base64url'));
      const viaJwk = importPublicKey(jwk as Record<string, unknown>);
      const viaMap = importPublicKey(publicKeyToCoseKeyMap(publicKey));
      const bytes = publicKeyToCoseKey(publicKey, { kid: Buffer.from('k1'), alg: -7 });
      const viaBytes = importPublicKey(bytes);
      const json = Object.fromEntries([...publicKeyToCoseKeyMap(publicKey)].map(([k, v]) => [String(k), v instanceof Uint8Array ? Buffer.from(v).toString('base64url') : v]));
      const viaJson = importPublicKey(json);
      const viaPem = importPublicKey(publicKey.export({ type: 'spki', format: 'pem' }) as string);
      const viaDer = importPublicKey(publicKey.export({ type: 'spki', format: 'der' }));
      const viaPrivate = importPublicKey(privateKey);
      // RSASSA-PSS keys come back as plain RSA keys (same modulus and exponent).
      const base = want ?? spki(viaJwk);
      for (const k of [viaJwk, viaMap, viaBytes, viaJson]) assert.equal(spki(k), base);
      if (want) for (const k of [viaPem, viaDer, viaPrivate]) assert.equal(spki(k), want);
      const m = decodeCbor(bytes) as Map<number, unknown>;
      assert.deepEqual(m.get(2), Buffer.from('k1'));
      assert.equal(m.get(3), -7);
      assert.deepEqual(encodeCbor(m), bytes, 'COSE_Key bytes are deterministic');
    });

    it(`${name}: private keys from PEM, JWK and COSE_Key sign what the public key verifies`, () => {
      const alg = name === 'P-256' ? -7 : name === 'P-384' ? -35 : name === 'P-521' ? -36 : name === 'Ed25519' ? -8 : -37;
      const forms: unknown[] = [privateKey, privateKey.export({ type: 'pkcs8', format: 'pem' })];
      if (name !== 'RSASSA-PSS') {
        const jwk = privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
        forms.push(jwk);
        if (name !== 'RSA') {
          const labels: Record<string, number> = { x: -2, y: -3, d: -4 };
          const m = new Map<number, unknown>([[1, jwk.kty === 'EC' ? 2 : 1], [-1, { 'P-256': 1, 'P-384': 2, 'P-521': 3, Ed25519: 6 }[jwk.crv as string]]]);
          for (const [k, l] of Object.entries(labels)) if (jwk[k]) m.set(l, Buffer.from(jwk[k] as string, 'base64url'));
          forms.push(m);
        }
      }
      for (const f of forms) {
        const key = importPrivateKey(f as Record<string, unknown>);
        verifySign1(signSign1({ protectedHeader: new Map([[1, alg]]), payload: Buffer.from('x'), key }), publicKey);
      }
    });
  }

  it('a certificate (PEM or DER) yields its public key', () => {
    const pem = fixture('x509/leaf.pem').toString();
    const cert = new X509Certificate(pem);
    assert.equal(spki(importPublicKey(pem)), spki(cert.publicKey));
    assert.equal(spki(importPublicKey(cert.raw)), spki(cert.publicKey));
    assert.equal(spki(importPublicKey(cert)), spki(cert.publicKey));
  });

  it('imports are cached: the same JWK gives the same KeyObject', () => {
    const jwk = publicKeyToJwk(keyPair(-7).publicKey) as Record<string, unknown>;
    assert.equal(importPublicKey(jwk), importPublicKey({ ...jwk, kid: 'other' }));
  });

  it('refuses keys it cannot use, with BAD_KEY', () => {
    const ec = publicKeyToJwk(keyPair(-7).publicKey) as Record<string, string>;
    const bad: unknown[] = [
      {},
      { kty: 'oct', k: 'AAAA' },
      { ...ec, crv: 'P-192' },
      { ...ec, x: ec.x.slice(0, 20) },
      { ...ec, y: 'not base64url!' },
      { ...ec, y: undefined },
      new Map<number, unknown>([[1, 2], [-1, 1], [-2, RFC9679_X], [-3, true]]),
      new Map<number, unknown>([[1, 2], [-1, 9], [-2, RFC9679_X], [-3, RFC9679_Y]]),
      new Map<number, unknown>([[1, 4], [-1, Buffer.alloc(16)]]),
      new Map<number, unknown>([[1, 2], [-1, 1], [-2, 'text'], [-3, RFC9679_Y]]),
      new Map<number, unknown>([[1, 2], [-1, 1], [-2, Buffer.alloc(32, 1)], [-3, Buffer.alloc(32, 2)]]), // not on the curve
      Buffer.from('a0', 'hex'),
      Buffer.from('ff', 'hex'),
      Buffer.from('3000', 'hex'),
      'not a key',
      '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
      createSecretKey(Buffer.alloc(32)),
      generateKeyPairSync('x25519').publicKey,
      { '1': 'x' },
      42,
    ];
    for (const k of bad) throwsCode(() => importPublicKey(k as Record<string, unknown>), 'BAD_KEY');
    throwsCode(() => importPrivateKey(keyPair(-7).publicKey), 'BAD_KEY');
    throwsCode(() => importPrivateKey(ec), 'BAD_KEY');
  });
});
