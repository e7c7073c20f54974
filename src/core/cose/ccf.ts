import * as crypto from 'node:crypto';
import { decodeCbor, expectBstr } from '../cbor';
import { isLedgerError } from '../errors';
import { coseError } from './errors';
import { HEADER, PROOF } from './labels';
import type { HeaderMap } from './sign1';

/**
 * Inclusion proofs of CCF ledgers (vds 2, CCF_LEDGER_SHA256, draft-birkholz-cose-receipts-ccf-profile),
 * so that receipts from CCF-based transparency services (e.g. scitt-ccf-ledger) can be checked:
 *
 *   proof = bstr .cbor { 1: [internal_txn_hash: bstr32, internal_evidence: tstr, data_hash: bstr32],
 *                        2: [* [left: bool, hash: bstr32]] }
 *   leaf  = SHA-256(internal_txn_hash || SHA-256(internal_evidence) || data_hash)
 *   node  = SHA-256(left ? hash || acc : acc || hash)
 *
 * The receipt's detached payload is the root; `data_hash` must be the entry being proven.
 * Opt-in only (verifyReceipt's `vds` option): the default is RFC 9162 alone.
 */

const bad = (m: string) => coseError('BAD_INCLUSION_PROOF', m);
const sha256 = (...parts: Uint8Array[]) => {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

function hash32(v: unknown, what: string): Buffer {
  const b = expectBstr(v, what, 'BAD_INCLUSION_PROOF');
  if (b.length !== 32) throw bad(`${what} must be 32 bytes`);
  return b;
}

function ccfRoot(raw: Buffer, entry: Buffer, i: number): Buffer {
  let v: unknown;
  try {
    v = decodeCbor(raw, { maxDepth: 4, maxBytes: 16 * 1024 });
  } catch (e) {
    throw bad(`CCF proof ${i} is not well-formed CBOR: ${isLedgerError(e) ? e.message : String(e)}`);
  }
  if (!(v instanceof Map)) throw bad(`CCF proof ${i} must be a map`);
  const leaf = v.get(1);
  const path = v.get(2);
  if (!Array.isArray(leaf) || leaf.length !== 3) throw bad(`CCF proof ${i}: the leaf must be [txn hash, evidence, data hash]`);
  if (!Array.isArray(path) || path.length > 64) throw bad(`CCF proof ${i}: the path must be an array of at most 64 steps`);
  const [txn, evidence, data] = leaf;
  if (typeof evidence !== 'string' || evidence.length === 0 || evidence.length > 1024) throw bad(`CCF proof ${i}: internal evidence must be a short text string`);
  const dataHash = hash32(data, 'data hash');
  if (!dataHash.equals(entry)) throw coseError('BAD_INCLUSION_PROOF', `CCF proof ${i} is for another entry (data hash ${dataHash.toString('hex')})`);
  let acc = sha256(hash32(txn, 'internal transaction hash'), sha256(Buffer.from(evidence, 'utf8')), dataHash);
  for (const [j, step] of path.entries()) {
    if (!Array.isArray(step) || step.length !== 2 || typeof step[0] !== 'boolean') throw bad(`CCF proof ${i} step ${j} must be [bool, hash]`);
    const h = hash32(step[1], `CCF proof ${i} step ${j}`);
    acc = step[0] ? sha256(h, acc) : sha256(acc, h);
  }
  return acc;
}

/** The roots the CCF proofs under 396/-1 lead to for `entry` (each must then be checked against the signature). */
export function verifyCcfInclusion(uh: HeaderMap, entry: Buffer): Buffer[] {
  const vdp = uh.get(HEADER.vdp);
  if (vdp === undefined) throw coseError('MISSING_INCLUSION_PROOF', 'the unprotected header has no verifiable data proofs (396)');
  if (!(vdp instanceof Map)) throw bad('verifiable data proofs (396) must be a map');
  const list = vdp.get(PROOF.inclusion);
  if (list === undefined) throw coseError('MISSING_INCLUSION_PROOF', 'no inclusion proof under key -1 of label 396');
  if (!Array.isArray(list) || list.length === 0 || list.length > 16) throw bad('inclusion proofs must be a non-empty array (at most 16)');
  return list.map((p, i) => ccfRoot(expectBstr(p, `proof ${i}`, 'BAD_INCLUSION_PROOF'), entry, i));
}
