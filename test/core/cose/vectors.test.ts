import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MerkleTree } from 'merkletreejs';
import {
  decodeSign1,
  importPublicKey,
  parseSignedStatement,
  readProofs,
  verifyReceipt,
  verifyStatementSignature,
  verifyTransparentStatement,
} from '../../../src/core/cose';
import { leafHash } from '../../../src/core/merkle';
import { loadVectors, throwsCode, VECTORS } from './helpers';

/** action-state-group/scitt-cose test-vectors/v1, as shipped in ../shared (Apache-2.0). */
const EXPECTED_VECTORS = 6;
const vectors = loadVectors();
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

describe('scitt-cose v1 vectors', () => {
  it(`finds all ${EXPECTED_VECTORS} vectors, exactly the ones the manifest lists`, () => {
    assert.equal(vectors.length, EXPECTED_VECTORS, vectors.map((v) => v.id).join(', '));
    const manifest = JSON.parse(readFileSync(join(VECTORS, 'manifest.json'), 'utf8')) as { vectors: { id: string; expected_result: string; failure_code?: string }[] };
    assert.deepEqual(manifest.vectors.map((m) => m.id).sort(), vectors.map((v) => v.id));
    for (const m of manifest.vectors) {
      const v = vectors.find((x) => x.id === m.id)!;
      assert.equal(v.expected.result, m.expected_result);
      assert.equal(v.expected.failure_code, m.failure_code);
    }
  });

  for (const v of vectors) {
    const e = v.expected;
    describe(v.id, () => {
      const issuerKey = importPublicKey(v.issuerKeyPem);
      const logKey = importPublicKey(v.logKeyPem);

      it('statement: header values, entry and payload as expected', () => {
        const st = parseSignedStatement(v.statement, { requireSubject: false, requireAttachedPayload: false });
        const h = e.protected_header.statement;
        assert.equal(st.alg, h.alg_code);
        assert.equal(st.contentType, h.content_type);
        assert.equal(st.iss, h.issuer);
        assert.equal(st.sub ?? null, h.subject);
        assert.equal(st.entryHash.toString('hex'), e.leaf_entry);
        // The vectors' statements already have an empty unprotected header: registered = as received.
        assert.ok(st.registered.equals(v.statement));
        assert.equal(sha256(st.sign1.payload!).toString('hex'), e.payload_sha256);
        assert.ok(st.sign1.payload!.equals(v.payload));
      });

      it(`statement signature ${e.statement_signature_valid ? 'verifies' : 'is rejected'}`, () => {
        const st = parseSignedStatement(v.statement, { requireSubject: false });
        if (e.statement_signature_valid) verifyStatementSignature(st, issuerKey);
        else throwsCode(() => verifyStatementSignature(st, issuerKey), 'BAD_STATEMENT_SIGNATURE');
      });

      it('receipt: protected header as expected', () => {
        const r = decodeSign1(v.receipt);
        const h = e.protected_header.receipt;
        assert.equal(r.protectedHeader.get(1), h.alg_code);
        assert.equal(r.protectedHeader.get(h.vds_label), h.vds);
        assert.equal(r.payload, null);
      });

      if (e.protected_header.receipt.vds === 1) {
        it('receipt: proof fields as expected', () => {
          const [p] = readProofs(decodeSign1(v.receipt).unprotectedHeader, -1);
          assert.equal(p.a, e.tree_size);
          assert.equal(p.b, e.leaf_index);
          assert.deepEqual(p.hashes.map((h) => h.toString('hex')), e.inclusion_path);
        });
      }

      if (e.reconstructed_root && e.tree_size) {
        it('the reconstructed root is the RFC 9162 root of the documented tree (merkletreejs)', () => {
          const entries = Array.from({ length: e.tree_size }, (_, i) =>
            i === e.leaf_index ? Buffer.from(e.leaf_entry, 'hex') : sha256(`scitt-cose test vectors v1 :: ${v.id} :: filler leaf ${i}`),
          );
          const tree = new MerkleTree(entries.map(leafHash), (d: Buffer) => sha256(d), {
            concatenator: (bufs: Buffer[]) => Buffer.concat([Buffer.from([1]), ...bufs]),
          });
          assert.equal(tree.getRoot().toString('hex'), e.reconstructed_root);
        });
      }

      it(`verdict ${e.result}${e.failure_code ? ` ${e.failure_code}` : ''} (default: RFC 9162 receipts only)`, () => {
        const verdict = verifyTransparentStatement(v.statement, { receipts: [v.receipt], issuerKey, resolveReceiptKey: () => logKey });
        if (v.id === 'valid-ccf-vds2') {
          // CCF receipts (vds 2) are opt-in; by default they are reported, cleanly, as unsupported.
          assert.equal(verdict.valid, false);
          assert.equal(verdict.code, 'UNSUPPORTED_VDS');
          assert.equal(verdict.step, 'receipt');
          return;
        }
        assert.equal(verdict.valid, e.result === 'VALID', JSON.stringify(verdict));
        assert.equal(verdict.code, e.failure_code);
        assert.equal(verdict.statement?.signature, e.statement_signature_valid ? 'valid' : 'invalid');
        assert.equal(verdict.receipts.length, 1);
        assert.equal(verdict.receipts[0].ok, e.receipt_valid);
        const r = verdict.receipts[0];
        if (r.ok) {
          assert.equal(r.root.toString('hex'), e.reconstructed_root);
          assert.equal(r.treeSize, e.tree_size);
          assert.equal(r.leafIndex, e.leaf_index);
        }
      });

      it(`verdict ${e.result} with CCF (vds 2) receipts enabled`, () => {
        const verdict = verifyTransparentStatement(v.statement, { receipts: [v.receipt], issuerKey, resolveReceiptKey: () => logKey, vds: [1, 2] });
        if (v.id === 'fail-unsupported-vds') {
          // vds 2 with an RFC 9162-shaped proof: still rejected, now as a malformed CCF proof.
          assert.equal(verdict.valid, false);
          assert.equal(verdict.code, 'BAD_INCLUSION_PROOF');
          return;
        }
        assert.equal(verdict.valid, e.result === 'VALID', JSON.stringify(verdict));
        assert.equal(verdict.code, e.failure_code);
        const r = verdict.receipts[0];
        if (r.ok) assert.equal(r.root.toString('hex'), e.reconstructed_root);
      });

      it('the receipt is bound to this statement: another entry never verifies', () => {
        const r = verifyReceipt(v.receipt, { entry: sha256('another statement') }, () => logKey, { vds: [1, 2] });
        assert.equal(r.ok, false);
      });
    });
  }
});
