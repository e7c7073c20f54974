import assert from 'node:assert/strict';
import { createHash, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  buildInclusionReceipt,
  decodeSign1,
  embedReceipts,
  encodeReceiptProtected,
  encodeSign1,
  extractReceipts,
  parseSignedStatement,
  signReceiptRoot,
  verifyTransparentStatement,
} from '../../../src/core/cose';
import { leafHash, nodeHash } from '../../../src/core/merkle';
import { keyPair, makeStatement, throwsCode } from './helpers';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** A two-leaf log holding `statement` at index 0; returns its receipt and the log's public key. */
function logReceipt(statement: Uint8Array, kid: string): { receipt: Buffer; key: KeyObject; kid: Buffer } {
  const { privateKey, publicKey } = keyPair(-7);
  const entry = parseSignedStatement(statement, { requireSubject: false, requireAttachedPayload: false }).entryHash;
  const sibling = leafHash(sha256(Buffer.from('another entry')));
  const root = nodeHash(leafHash(entry), sibling);
  const prot = encodeReceiptProtected({ alg: -7, kid: Buffer.from(kid), iss: `https://${kid}.example` });
  const receipt = buildInclusionReceipt({ protectedBytes: prot, signature: signReceiptRoot(prot, root, privateKey), treeSize: 2, leafIndex: 0, path: [sibling] });
  return { receipt, key: publicKey, kid: Buffer.from(kid) };
}

describe('transparent statements', () => {
  const issuer = keyPair(-7);
  const statement = makeStatement(issuer.privateKey);
  const a = logReceipt(statement, 'log-a');
  const b = logReceipt(statement, 'log-b');
  const keys = new Map([[a.kid.toString('hex'), a.key], [b.kid.toString('hex'), b.key]]);
  const resolveReceiptKey = (kid: Buffer | undefined) => (kid ? keys.get(kid.toString('hex')) : undefined);

  it('embed then extract: receipts under 394, statement bytes untouched, no duplicates', () => {
    const ts = embedReceipts(statement, [a.receipt]);
    const m = decodeSign1(ts);
    assert.deepEqual(m.unprotectedHeader.get(394), [a.receipt]);
    const orig = decodeSign1(statement);
    assert.ok(m.protectedBytes.equals(orig.protectedBytes) && m.payload!.equals(orig.payload!) && m.signature.equals(orig.signature));
    const ts2 = embedReceipts(ts, [b.receipt, a.receipt, b.receipt]);
    const ex = extractReceipts(ts2);
    assert.deepEqual(ex.receipts, [a.receipt, b.receipt]);
    assert.ok(ex.registered.equals(statement));
    assert.deepEqual(extractReceipts(statement), { registered: statement, receipts: [] });
  });

  it('other unprotected parameters survive embedding; a lone bstr under 394 is read as one receipt', () => {
    const orig = decodeSign1(statement);
    const withX = encodeSign1({ ...orig, unprotectedHeader: new Map<number, unknown>([[-65537, 'note']]) });
    const ts = embedReceipts(withX, [a.receipt]);
    assert.equal(decodeSign1(ts).unprotectedHeader.get(-65537), 'note');
    const lone = encodeSign1({ ...orig, unprotectedHeader: new Map([[394, a.receipt]]) });
    assert.deepEqual(extractReceipts(lone).receipts, [a.receipt]);
    const bad = encodeSign1({ ...orig, unprotectedHeader: new Map<number, unknown>([[394, [1]]]) });
    throwsCode(() => extractReceipts(bad), 'BAD_HEADER');
    throwsCode(() => embedReceipts(bad, [a.receipt]), 'BAD_HEADER');
  });

  it('a valid transparent statement with receipts from two logs', () => {
    const ts = embedReceipts(statement, [a.receipt, b.receipt]);
    const v = verifyTransparentStatement(ts, { issuerKey: issuer.publicKey, resolveReceiptKey });
    assert.equal(v.valid, true, JSON.stringify(v));
    assert.equal(v.statement!.signature, 'valid');
    assert.equal(v.receipts.length, 2);
    assert.deepEqual(v.receipts.map((r) => r.ok && r.iss), ['https://log-a.example', 'https://log-b.example']);
    assert.ok(v.statement!.entryHash.equals(sha256(statement)));
  });

  it('detached receipts count like embedded ones; no receipt at all is NO_RECEIPTS', () => {
    assert.equal(verifyTransparentStatement(statement, { receipts: [a.receipt], issuerKey: issuer.publicKey, resolveReceiptKey }).valid, true);
    const none = verifyTransparentStatement(statement, { issuerKey: issuer.publicKey, resolveReceiptKey });
    assert.equal(none.code, 'NO_RECEIPTS');
  });

  it('the first failure decides the code: statement signature before receipts, all receipts still reported', () => {
    const other = keyPair(-7);
    const v = verifyTransparentStatement(embedReceipts(statement, [a.receipt]), { issuerKey: other.publicKey, resolveReceiptKey });
    assert.equal(v.valid, false);
    assert.equal(v.code, 'BAD_STATEMENT_SIGNATURE');
    assert.equal(v.step, 'statement-signature');
    assert.equal(v.receipts[0].ok, true);

    const unknownLog = verifyTransparentStatement(embedReceipts(statement, [a.receipt, b.receipt]), { issuerKey: issuer.publicKey, resolveReceiptKey: (kid) => (kid?.equals(a.kid) ? a.key : undefined) });
    assert.equal(unknownLog.code, 'UNKNOWN_RECEIPT_KEY');
    assert.deepEqual(unknownLog.receipts.map((r) => r.ok), [true, false]);

    const noKey = verifyTransparentStatement(embedReceipts(statement, [a.receipt]), { issuerKey: () => undefined, resolveReceiptKey });
    assert.equal(noKey.code, 'UNKNOWN_ISSUER_KEY');
  });

  it('a receipt for another statement fails; the issuer signature is optional', () => {
    const otherStatement = makeStatement(issuer.privateKey, { sub: 'oci://elsewhere' });
    const v = verifyTransparentStatement(embedReceipts(otherStatement, [a.receipt]), { resolveReceiptKey });
    assert.equal(v.code, 'TAMPERED_INCLUSION_PATH');
    const ok = verifyTransparentStatement(embedReceipts(statement, [a.receipt]), { resolveReceiptKey });
    assert.equal(ok.valid, true);
    assert.equal(ok.statement!.signature, 'not checked');
  });

  it('malformed input is a verdict, not an exception', () => {
    const v = verifyTransparentStatement(Buffer.from('garbage'), { resolveReceiptKey });
    assert.equal(v.valid, false);
    assert.equal(v.code, 'MALFORMED_CBOR');
    assert.equal(v.step, 'statement');
  });
});
