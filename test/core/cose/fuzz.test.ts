import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeCbor, Tag } from '../../../src/core/cbor';
import {
  buildInclusionReceipt,
  embedReceipts,
  encodeReceiptProtected,
  extractReceipts,
  parseSignedStatement,
  signReceiptRoot,
  verifyReceipt,
  verifyStatementSignature,
  verifyTransparentStatement,
} from '../../../src/core/cose';
import { isLedgerError } from '../../../src/core/errors';
import { leafHash, nodeHash } from '../../../src/core/merkle';
import { cborValue, mutate } from '../cbor/arbitraries';
import { keyPair, makeStatement } from './helpers';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** Runs `f`; a LedgerError becomes its code, anything else thrown fails the test. */
function code(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    assert.ok(isLedgerError(e), `unexpected exception: ${(e as Error)?.stack ?? e}`);
    return e.code;
  }
}

function flip(b: Buffer, bit: number): Buffer {
  const out = Buffer.from(b);
  const i = bit % (out.length * 8);
  out[i >> 3] ^= 1 << (i & 7);
  return out;
}

for (const alg of [-7, -8]) {
  describe(`bit flips (alg ${alg}): verification fails with a code, never an exception`, () => {
    const issuer = keyPair(alg);
    const log = keyPair(alg);
    const statement = makeStatement(issuer.privateKey, { alg, payload: randomBytes(200) });
    const entry = sha256(statement);
    const sibling = leafHash(sha256(Buffer.from('sibling')));
    const uncle = sha256(Buffer.from('uncle'));
    const root = nodeHash(nodeHash(leafHash(entry), sibling), uncle);
    const prot = encodeReceiptProtected({ alg, kid: Buffer.alloc(32, 1), iss: 'https://ledger.example', sub: 'log', iat: 1 });
    const receipt = buildInclusionReceipt({ protectedBytes: prot, signature: signReceiptRoot(prot, root, log.privateKey), treeSize: 3, leafIndex: 0, path: [sibling, uncle] });
    const resolve = () => log.publicKey;

    it('the untouched statement and receipt verify', () => {
      verifyStatementSignature(parseSignedStatement(statement), issuer.publicKey);
      assert.ok(verifyReceipt(receipt, { entry }, resolve).ok);
    });

    it('any flipped bit in a statement', () => {
      fc.assert(
        fc.property(fc.nat(), (bit) => {
          const c = code(() => verifyStatementSignature(parseSignedStatement(flip(statement, bit)), issuer.publicKey));
          assert.notEqual(c, undefined, `bit ${bit % (statement.length * 8)} flipped and the statement still verifies`);
        }),
        { numRuns: 1500 },
      );
    });

    it('every single bit of a receipt', () => {
      for (let bit = 0; bit < receipt.length * 8; bit++) {
        const v = verifyReceipt(flip(receipt, bit), { entry }, resolve);
        assert.equal(v.ok, false, `bit ${bit} flipped and the receipt still verifies`);
      }
    });

    it('mutations of a transparent statement: always a verdict, never an exception', () => {
      const ts = embedReceipts(statement, [receipt]);
      fc.assert(
        fc.property(fc.array(fc.record({ kind: fc.constantFrom('flip', 'truncate', 'insert', 'set'), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }), bytes: fc.uint8Array({ minLength: 1, maxLength: 5 }), byte: fc.nat(255) }), { minLength: 1, maxLength: 3 }), (ms) => {
          const bad = mutate(ts, ms);
          const v = verifyTransparentStatement(bad, { issuerKey: issuer.publicKey, resolveReceiptKey: resolve });
          if (!v.valid) assert.equal(typeof v.code, 'string');
          // A mutation can only leave it valid if the signed parts and the receipt are intact.
          if (v.valid) {
            const ex = extractReceipts(bad);
            assert.ok(ex.registered.equals(statement));
          }
        }),
        { numRuns: 1500 },
      );
    });
  });
}

describe('COSE parsers on arbitrary CBOR', () => {
  const anyKey = keyPair(-7).publicKey;
  it('parseSignedStatement, verifyReceipt and extractReceipts only ever throw LedgerErrors', () => {
    const shaped = fc.oneof(
      cborValue,
      fc.array(cborValue, { minLength: 4, maxLength: 4 }).map((a) => new Tag(18, a)),
      fc.tuple(cborValue.map((v) => encodeCbor(v)), cborValue, fc.oneof(fc.constant(null), fc.uint8Array()), fc.uint8Array()).map((a) => new Tag(18, a)),
      fc.tuple(fc.dictionary(fc.string(), cborValue).map((o) => encodeCbor(new Map(Object.entries(o).map(([k, v], i) => [i % 2 ? k : i, v])))), cborValue).map(([p, u]) => new Tag(18, [p, u instanceof Map ? u : new Map(), null, Buffer.alloc(64)])),
    );
    fc.assert(
      fc.property(shaped, (v) => {
        const bytes = encodeCbor(v);
        code(() => parseSignedStatement(bytes, { requireSubject: false }));
        code(() => extractReceipts(bytes));
        const r = verifyReceipt(bytes, { entry: Buffer.alloc(32) }, () => anyKey);
        assert.equal(r.ok, false);
      }),
      { numRuns: 1000 },
    );
  });
});
