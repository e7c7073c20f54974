import type { KeyObject } from 'node:crypto';
import { isLedgerError, type LedgerError } from '../errors';
import { entryHash, leafHash, rootFromConsistencyProof, rootFromInclusionProof } from '../merkle';
import { algorithmInfo, keyFitsAlgorithm, verifyWith, type AlgorithmInfo } from './algorithms';
import { verifyCcfInclusion } from './ccf';
import { coseError, type CoseErrorCode } from './errors';
import { CWT, HEADER, PROOF, VDS } from './labels';
import { readProofs } from './receipt';
import { decodeSign1, sigStructureParts, type HeaderMap, type Sign1 } from './sign1';
import { registeredBytes } from './statement';

/**
 * Receipt verification (RFC 9942). Returns a verdict instead of throwing, because a verifier
 * reports *which* check failed: `step` names it, `code` is stable (see errors.ts).
 *
 * Order: decode → vds (protected header only) → header (alg, kid, claims, detached payload) →
 * key → proof → entry → root → signature.
 *
 * How a failed signature is named. The signature covers only the root; the root is recomputed
 * from the entry and the path. When the signature does not verify over that root, the
 * cryptography cannot say whether the path, the entry or the signature bytes were altered.
 * We report TAMPERED_INCLUSION_PATH whenever a (non-empty) path took part in computing the root:
 * the claim "this entry is in the tree the log signed" is what failed, and the path is the part
 * of a receipt that is served per request and most exposed. BAD_RECEIPT_SIGNATURE is kept for a
 * signature that is malformed (wrong length for the algorithm) or that fails where no path was
 * involved (a one-leaf tree, whose root is the leaf itself). The scitt-cose vectors expect
 * exactly this for their flipped-path-byte case.
 */

export type ReceiptKeyResolver = (kid: Buffer | undefined, protectedHeader: HeaderMap) => KeyObject | undefined;

export type ReceiptStep = 'decode' | 'vds' | 'header' | 'key' | 'proof' | 'entry' | 'root' | 'signature';

export interface ReceiptClaims {
  vds: number;
  alg: number;
  kid?: Buffer;
  iss?: string;
  sub?: string;
  iat?: number;
}

export interface InclusionOk extends ReceiptClaims {
  ok: true;
  /** RFC 9162: the tree size and leaf index; CCF (vds 2) receipts have neither (-1). */
  treeSize: number;
  leafIndex: number;
  root: Buffer;
}

export interface ReceiptFailure {
  ok: false;
  code: CoseErrorCode | string;
  step: ReceiptStep;
  message: string;
}

export type ReceiptVerdict = InclusionOk | ReceiptFailure;

export interface ReceiptTarget {
  /** The 32-byte entry: SHA-256 of the registered statement. Takes precedence over `statement`. */
  entry?: Uint8Array;
  /** The statement (registered or transparent form): its entry is computed from it. */
  statement?: Uint8Array;
}

export interface VerifyReceiptOptions {
  /** Verifiable data structures to accept. Default [1] (RFC9162_SHA256); add 2 for CCF ledgers. */
  vds?: readonly number[];
}

class Fail extends Error {
  constructor(readonly code: CoseErrorCode, message: string) {
    super(message);
  }
}

interface Checked extends ReceiptClaims {
  sign1: Sign1;
  info: AlgorithmInfo;
  key: KeyObject;
}

/** Decode, vds, header and key checks shared by inclusion and consistency receipts. */
function checkEnvelope(bytes: Uint8Array, resolveKey: ReceiptKeyResolver, accepted: readonly number[], at: { step: ReceiptStep }): Checked {
  at.step = 'decode';
  const sign1 = decodeSign1(bytes, { requireTag: false, maxBytes: 1024 * 1024 });
  at.step = 'vds';
  const ph = sign1.protectedHeader;
  const vds = ph.get(HEADER.vds);
  if (vds === undefined) {
    const hint = sign1.unprotectedHeader.has(HEADER.vds) ? ' (only the unprotected header has one, and it is not integrity protected)' : '';
    throw new Fail('UNSUPPORTED_VDS', `the protected header names no verifiable data structure (395)${hint}`);
  }
  if (typeof vds !== 'number' || !accepted.includes(vds)) {
    throw new Fail('UNSUPPORTED_VDS', `verifiable data structure ${String(vds)} is not supported (accepted: ${accepted.join(', ')})`);
  }
  at.step = 'header';
  const info = algorithmInfo(ph.get(HEADER.alg));
  const kid = ph.get(HEADER.kid);
  if (kid !== undefined && !(kid instanceof Uint8Array)) throw new Fail('BAD_HEADER', 'kid (4) must be a byte string');
  const claims: ReceiptClaims = { vds, alg: info.id };
  if (kid !== undefined) claims.kid = kid as Buffer;
  const cwt = ph.get(HEADER.cwtClaims);
  if (cwt !== undefined) {
    if (!(cwt instanceof Map)) throw new Fail('BAD_HEADER', 'CWT claims (15) must be a map');
    const [iss, sub, iat] = [cwt.get(CWT.iss), cwt.get(CWT.sub), cwt.get(CWT.iat)];
    if ((iss !== undefined && typeof iss !== 'string') || (sub !== undefined && typeof sub !== 'string') || (iat !== undefined && typeof iat !== 'number')) {
      throw new Fail('BAD_HEADER', 'receipt claims iss/sub must be text and iat a number');
    }
    if (iss !== undefined) claims.iss = iss;
    if (sub !== undefined) claims.sub = sub;
    if (iat !== undefined) claims.iat = iat;
  }
  if (sign1.payload !== null) throw new Fail('BAD_RECEIPT', 'a receipt payload must be detached (nil): it is the root the proof recomputes');
  at.step = 'key';
  const key = resolveKey(claims.kid, ph);
  if (!key) {
    const which = claims.kid ? `receipt kid ${claims.kid.toString('hex')}` : 'a receipt without kid';
    throw new Fail('UNKNOWN_RECEIPT_KEY', `no key is known for ${which}`);
  }
  if (!keyFitsAlgorithm(key, info)) throw new Fail('KEY_ALG_MISMATCH', `the key for this receipt cannot verify ${info.name}`);
  return { ...claims, sign1, info, key };
}

function failure(e: unknown, step: ReceiptStep): ReceiptFailure {
  if (e instanceof Fail) return { ok: false, code: e.code, step, message: e.message };
  if (isLedgerError(e)) return { ok: false, code: e.code, step, message: e.message };
  throw e;
}

function signatureVerifies(c: Checked, root: Uint8Array): boolean {
  return verifyWith(c.info, c.key, sigStructureParts(c.sign1.protectedBytes, Buffer.alloc(0), root), c.sign1.signature);
}

function wellFormedSignature(c: Checked): void {
  if (c.info.sigLength !== undefined && c.sign1.signature.length !== c.info.sigLength) {
    throw new Fail('BAD_RECEIPT_SIGNATURE', `an ${c.info.name} signature is ${c.info.sigLength} bytes, not ${c.sign1.signature.length}`);
  }
}

/** The entry a receipt must prove: given, or SHA-256 of the statement's registered form. */
export function entryFor(target: ReceiptTarget): Buffer {
  if (target.entry !== undefined) {
    if (!(target.entry instanceof Uint8Array) || target.entry.length !== 32) throw new Fail('MISSING_ENTRY', 'the entry must be a 32-byte SHA-256 hash');
    return Buffer.from(target.entry);
  }
  if (target.statement !== undefined) return entryHash(registeredBytes(target.statement, { requireTag: false }));
  throw new Fail('MISSING_ENTRY', 'neither an entry hash nor a statement was given to check the receipt against');
}

function merkleFail(code: CoseErrorCode, e: unknown): never {
  if (isLedgerError(e)) throw coseError(code, e.message, { merkle: (e as LedgerError).code });
  throw e;
}

/** Verifies an inclusion receipt for an entry (or statement) with the log key `resolveKey` returns. */
export function verifyReceipt(receipt: Uint8Array, target: ReceiptTarget, resolveKey: ReceiptKeyResolver, opts: VerifyReceiptOptions = {}): ReceiptVerdict {
  const at = { step: 'decode' as ReceiptStep };
  try {
    const c = checkEnvelope(receipt, resolveKey, opts.vds ?? [VDS.RFC9162_SHA256], at);
    const { sign1, info: _i, key: _k, ...claims } = c;
    if (c.vds === VDS.CCF_LEDGER_SHA256) {
      at.step = 'entry';
      const entry = entryFor(target);
      at.step = 'proof';
      const roots = verifyCcfInclusion(sign1.unprotectedHeader, entry);
      at.step = 'signature';
      wellFormedSignature(c);
      const root = roots.find((r) => signatureVerifies(c, r));
      if (!root) throw new Fail('TAMPERED_INCLUSION_PATH', 'the signature does not verify over the root recomputed from the entry and the CCF proof');
      return { ok: true, ...claims, treeSize: -1, leafIndex: -1, root };
    }
    at.step = 'proof';
    const proofs = readProofs(sign1.unprotectedHeader, PROOF.inclusion);
    at.step = 'entry';
    const leaf = leafHash(entryFor(target));
    at.step = 'root';
    let firstError: unknown;
    let firstPathLength = -1;
    const candidates: { a: number; b: number; root: Buffer }[] = [];
    for (const p of proofs) {
      try {
        candidates.push({ a: p.a, b: p.b, root: rootFromInclusionProof(p.b, p.a, leaf, p.hashes) });
        if (firstPathLength < 0) firstPathLength = p.hashes.length;
      } catch (e) {
        firstError ??= e;
      }
    }
    if (candidates.length === 0) merkleFail('BAD_INCLUSION_PROOF', firstError);
    at.step = 'signature';
    wellFormedSignature(c);
    for (const cand of candidates) {
      if (signatureVerifies(c, cand.root)) return { ok: true, ...claims, treeSize: cand.a, leafIndex: cand.b, root: cand.root };
    }
    if (firstPathLength > 0) {
      throw new Fail(
        'TAMPERED_INCLUSION_PATH',
        'the signature does not verify over the root recomputed from the entry and the inclusion path: the path, the entry or the signature differs from what the log signed',
      );
    }
    throw new Fail('BAD_RECEIPT_SIGNATURE', 'the receipt signature does not verify over the (one-leaf) root, which is the entry\'s leaf hash');
  } catch (e) {
    return failure(e, at.step);
  }
}

export interface ConsistencyOk extends ReceiptClaims {
  ok: true;
  size1: number;
  size2: number;
  /** The newer root, proven to extend root1 and signed by the log. */
  root2: Buffer;
}

export type ConsistencyVerdict = ConsistencyOk | ReceiptFailure;

/**
 * Verifies a consistency receipt against a root the verifier already trusts (`root1` at `size1`,
 * e.g. from an earlier receipt or checkpoint). A proof that does not lead back to root1, or a
 * signature that does not verify over the root2 it leads to, is TAMPERED_CONSISTENCY_PROOF.
 */
export function verifyConsistencyReceipt(
  receipt: Uint8Array,
  trusted: { root1: Uint8Array; size1?: number },
  resolveKey: ReceiptKeyResolver,
): ConsistencyVerdict {
  const at = { step: 'decode' as ReceiptStep };
  try {
    const c = checkEnvelope(receipt, resolveKey, [VDS.RFC9162_SHA256], at);
    const { sign1, info: _i, key: _k, ...claims } = c;
    at.step = 'proof';
    const proofs = readProofs(sign1.unprotectedHeader, PROOF.consistency);
    if (proofs.length !== 1) throw new Fail('BAD_CONSISTENCY_PROOF', 'a consistency receipt carries exactly one proof');
    const p = proofs[0];
    if (trusted.size1 !== undefined && p.a !== trusted.size1) {
      throw new Fail('BAD_CONSISTENCY_PROOF', `the proof starts at size ${p.a}, not at the trusted size ${trusted.size1}`);
    }
    at.step = 'root';
    let root2: Buffer;
    try {
      root2 = rootFromConsistencyProof(p.a, p.b, p.hashes, trusted.root1);
    } catch (e) {
      merkleFail(isLedgerError(e) && e.code === 'ROOT_MISMATCH' ? 'TAMPERED_CONSISTENCY_PROOF' : 'BAD_CONSISTENCY_PROOF', e);
    }
    at.step = 'signature';
    wellFormedSignature(c);
    if (!signatureVerifies(c, root2)) {
      if (p.hashes.length > 0) throw new Fail('TAMPERED_CONSISTENCY_PROOF', 'the signature does not verify over the root the consistency proof leads to');
      throw new Fail('BAD_RECEIPT_SIGNATURE', 'the receipt signature does not verify over the trusted root');
    }
    return { ok: true, ...claims, size1: p.a, size2: p.b, root2 };
  } catch (e) {
    return failure(e, at.step);
  }
}
