import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  makeX5t,
  parseSignedStatement,
  parseX5chain,
  parseX5t,
  validateX5Chain,
  verifyStatementSignature,
  x5tMatches,
} from '../../../src/core/cose';
import { fixture, makeStatement, throwsCode } from './helpers';

const cert = (n: string) => new X509Certificate(fixture(`x509/${n}.pem`));
const root = cert('root');
const inter = cert('inter');
const leaf = cert('leaf');
const otherRoot = cert('other-root');
const signedByLeaf = cert('signed-by-leaf');
const leafKey = createPrivateKey(fixture('x509/leaf-key.pem'));
const DAY = 86_400_000;
// The fixtures are valid for ~100 years from their creation; time is moved, not waited for.
const AT = new Date(new Date(leaf.validFrom).getTime() + DAY);
const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' }).toString('hex');

describe('x5chain validation (RFC 9360)', () => {
  it('a chain leaf -> intermediate that ends at an anchor yields the leaf key', () => {
    assert.equal(spki(validateX5Chain([leaf.raw, inter.raw], [root], AT)), spki(leaf.publicKey));
    // The anchor itself may be sent too.
    assert.equal(spki(validateX5Chain([leaf.raw, inter.raw, root.raw], [root], AT)), spki(leaf.publicKey));
    // An anchor may be the leaf itself (pinned certificate).
    assert.equal(spki(validateX5Chain([leaf.raw], [leaf], AT)), spki(leaf.publicKey));
  });

  it('the wrong anchor, or a missing intermediate: X5CHAIN_UNTRUSTED', () => {
    throwsCode(() => validateX5Chain([leaf.raw, inter.raw], [otherRoot], AT), 'X5CHAIN_UNTRUSTED');
    throwsCode(() => validateX5Chain([leaf.raw], [root], AT), 'X5CHAIN_UNTRUSTED');
    throwsCode(() => validateX5Chain([leaf.raw, inter.raw], [], AT), 'X5CHAIN_UNTRUSTED');
  });

  it('outside a validity period: X5CHAIN_EXPIRED', () => {
    throwsCode(() => validateX5Chain([leaf.raw, inter.raw], [root], new Date(new Date(leaf.validTo).getTime() + DAY)), 'X5CHAIN_EXPIRED');
    throwsCode(() => validateX5Chain([leaf.raw, inter.raw], [root], new Date(new Date(leaf.validFrom).getTime() - DAY)), 'X5CHAIN_EXPIRED');
  });

  it('broken chains: X5CHAIN_INVALID', () => {
    throwsCode(() => validateX5Chain([inter.raw, leaf.raw], [root], AT), 'X5CHAIN_INVALID');
    throwsCode(() => validateX5Chain([leaf.raw, root.raw], [root], AT), 'X5CHAIN_INVALID');
    throwsCode(() => validateX5Chain([signedByLeaf.raw, leaf.raw, inter.raw], [root], AT), 'X5CHAIN_INVALID'); // issuer is not a CA
    throwsCode(() => validateX5Chain([Buffer.from('not a certificate')], [root], AT), 'X5CHAIN_INVALID');
    throwsCode(() => validateX5Chain([], [root], AT), 'X5CHAIN_INVALID');
    throwsCode(() => validateX5Chain(Array(9).fill(leaf.raw), [root], AT), 'X5CHAIN_INVALID');
  });

  it('x5chain and x5t header values are type-checked', () => {
    assert.deepEqual(parseX5chain(leaf.raw), [leaf.raw]);
    assert.deepEqual(parseX5chain([leaf.raw, inter.raw]), [leaf.raw, inter.raw]);
    for (const v of [[], [1], 'pem', null, Array(9).fill(leaf.raw)]) throwsCode(() => parseX5chain(v), 'BAD_HEADER');
    for (const v of [[-16], [-16, Buffer.alloc(31)], [-999, Buffer.alloc(32)], ['sha-256', Buffer.alloc(32)], Buffer.alloc(32)]) throwsCode(() => parseX5t(v), 'BAD_HEADER');
  });

  it('x5t designates exactly one certificate (SHA-256, SHA-256/64, SHA-512)', () => {
    for (const alg of [-16, -15, -44]) {
      const t = makeX5t(leaf.raw, alg);
      assert.deepEqual(parseX5t([t.alg, t.hash]), t);
      assert.equal(x5tMatches(t, leaf.raw), true);
      assert.equal(x5tMatches(t, inter.raw), false);
    }
  });
});

describe('statements signed by X.509 issuers', () => {
  it('x5chain confirms the key: parse, validate the chain, verify', () => {
    const bytes = makeStatement(leafKey, { kid: null, extra: [[33, [leaf.raw, inter.raw]]] });
    const st = parseSignedStatement(bytes);
    assert.equal(st.kid, undefined);
    assert.equal(st.x5chain!.length, 2);
    verifyStatementSignature(st, validateX5Chain(st.x5chain!, [root], AT));
  });

  it('x5t alone confirms the key; an x5t that contradicts x5chain is BAD_HEADER', () => {
    const t = makeX5t(leaf.raw);
    const st = parseSignedStatement(makeStatement(leafKey, { kid: null, extra: [[34, [t.alg, t.hash]]] }));
    assert.deepEqual(st.x5t, t);
    const wrong = makeX5t(inter.raw);
    throwsCode(() => parseSignedStatement(makeStatement(leafKey, { kid: null, extra: [[33, [leaf.raw]], [34, [wrong.alg, wrong.hash]]] })), 'BAD_HEADER');
    parseSignedStatement(makeStatement(leafKey, { kid: null, extra: [[33, [leaf.raw]], [34, [t.alg, t.hash]]] }));
  });

  it('x5chain may be unprotected (RFC 9943); x5t may not', () => {
    const st = parseSignedStatement(makeStatement(leafKey, { kid: null, unprotected: new Map([[33, leaf.raw]]) }));
    assert.equal(st.x5chain!.length, 1);
    const t = makeX5t(leaf.raw);
    throwsCode(() => parseSignedStatement(makeStatement(leafKey, { unprotected: new Map<number, unknown>([[34, [t.alg, t.hash]]]) })), 'BAD_HEADER');
  });
});
