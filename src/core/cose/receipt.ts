import type { KeyObject } from 'node:crypto';
import { decodeCbor, encodeCbor, expectBstr, headLength, writeHead } from '../cbor';
import { isLedgerError } from '../errors';
import { algorithmInfo, signWith } from './algorithms';
import { coseError, type CoseErrorCode } from './errors';
import { CWT, HEADER, PROOF, VDS } from './labels';
import { decodeProtectedHeader, sigStructure, type HeaderMap } from './sign1';

/**
 * RFC 9942 receipts over the RFC 9162 (vds 1) log, the issuing side:
 *
 *   18([ <<{1: alg, 4: kid, 15: {1: iss, 2: sub, 6: iat}, 395: 1}>>,
 *        {396: {-1: [ <<[tree_size, leaf_index, [* path]]>> ]}},
 *        nil,                     ; detached payload: the Merkle root at tree_size
 *        signature ])
 *
 * Every receipt for one tree size shares the protected header and therefore the signature, so
 * the log signs once per checkpoint (signReceiptRoot) and each request only splices the proof
 * into precomputed bytes (buildInclusionReceipt: one allocation, no CBOR encoder).
 */

export interface ReceiptProtectedInput {
  alg: number;
  kid: Uint8Array;
  iss?: string;
  sub?: string;
  iat?: number;
}

/** The deterministic protected header shared by all receipts of one checkpoint. */
export function encodeReceiptProtected(i: ReceiptProtectedInput): Buffer {
  algorithmInfo(i.alg);
  const cwt = new Map<number, unknown>();
  if (i.iss !== undefined) cwt.set(CWT.iss, i.iss);
  if (i.sub !== undefined) cwt.set(CWT.sub, i.sub);
  if (i.iat !== undefined) cwt.set(CWT.iat, i.iat);
  const h = new Map<number, unknown>([
    [HEADER.alg, i.alg],
    [HEADER.kid, Buffer.from(i.kid)],
    [HEADER.vds, VDS.RFC9162_SHA256],
  ]);
  if (cwt.size > 0) h.set(HEADER.cwtClaims, cwt);
  return encodeCbor(h);
}

const EMPTY = Buffer.alloc(0);

/** The one signature of a tree size: over ["Signature1", protected, h'', root]. */
export function signReceiptRoot(protectedBytes: Uint8Array, root: Uint8Array, key: KeyObject): Buffer {
  if (!(root instanceof Uint8Array) || root.length !== 32) throw coseError('BAD_RECEIPT', 'an RFC 9162 root is 32 bytes');
  const info = algorithmInfo(decodeProtectedHeader(protectedBytes).get(HEADER.alg));
  return signWith(info, key, sigStructure(protectedBytes, EMPTY, root));
}

// {396: {<key>: [ bstr ]}}: a1, 19 01 8c, a1, <key>, 81 — then the bstr head and the proof.
const VDP_PREFIX = Buffer.from([0xa1, 0x19, 0x01, 0x8c, 0xa1, 0x00, 0x81]);

function buildProofReceipt(protectedBytes: Uint8Array, signature: Uint8Array, proofKey: number, a: number, b: number, hashes: Uint8Array[]): Buffer {
  if (!Array.isArray(hashes)) throw coseError('BAD_RECEIPT', 'the proof must be an array of hashes');
  let proofLen = 1 + headLength(a) + headLength(b) + headLength(hashes.length);
  for (const h of hashes) proofLen += headLength(h.length) + h.length;
  const p = protectedBytes;
  const total = 2 + headLength(p.length) + p.length + VDP_PREFIX.length + headLength(proofLen) + proofLen + 1 + headLength(signature.length) + signature.length;
  const out = Buffer.allocUnsafe(total);
  out[0] = 0xd2;
  out[1] = 0x84;
  let o = 2 + writeHead(out, 2, 2, p.length);
  out.set(p, o);
  o += p.length;
  out.set(VDP_PREFIX, o);
  out[o + 5] = proofKey === PROOF.inclusion ? 0x20 : 0x21;
  o += VDP_PREFIX.length;
  o += writeHead(out, o, 2, proofLen);
  out[o++] = 0x83;
  o += writeHead(out, o, 0, a);
  o += writeHead(out, o, 0, b);
  o += writeHead(out, o, 4, hashes.length);
  for (const h of hashes) {
    o += writeHead(out, o, 2, h.length);
    out.set(h, o);
    o += h.length;
  }
  out[o++] = 0xf6;
  o += writeHead(out, o, 2, signature.length);
  out.set(signature, o);
  return out;
}

export interface InclusionReceiptInput {
  protectedBytes: Uint8Array;
  signature: Uint8Array;
  treeSize: number;
  leafIndex: number;
  path: Uint8Array[];
}

/** The receipt of leaf `leafIndex` in the tree of `treeSize`, from the checkpoint's header and signature. */
export function buildInclusionReceipt(i: InclusionReceiptInput): Buffer {
  if (!(Number.isSafeInteger(i.leafIndex) && Number.isSafeInteger(i.treeSize) && i.leafIndex >= 0 && i.leafIndex < i.treeSize)) {
    throw coseError('BAD_INCLUSION_PROOF', `leaf index ${i.leafIndex} is not within tree size ${i.treeSize}`);
  }
  return buildProofReceipt(i.protectedBytes, i.signature, PROOF.inclusion, i.treeSize, i.leafIndex, i.path);
}

export interface ConsistencyReceiptInput {
  protectedBytes: Uint8Array;
  /** The checkpoint signature of the NEWER tree (size2): the receipt's detached payload is root2. */
  signature: Uint8Array;
  size1: number;
  size2: number;
  proof: Uint8Array[];
}

/** A consistency receipt from size1 to size2 (proof key -2), signed over the newer root. */
export function buildConsistencyReceipt(i: ConsistencyReceiptInput): Buffer {
  if (!(Number.isSafeInteger(i.size1) && Number.isSafeInteger(i.size2) && i.size1 >= 0 && i.size1 <= i.size2)) {
    throw coseError('BAD_CONSISTENCY_PROOF', `sizes ${i.size1} -> ${i.size2} are not in order`);
  }
  return buildProofReceipt(i.protectedBytes, i.signature, PROOF.consistency, i.size1, i.size2, i.proof);
}

/** A parsed proof: [a, b, hashes] is [tree_size, leaf_index, path] or [size1, size2, proof]. */
export interface ProofTriple {
  a: number;
  b: number;
  hashes: Buffer[];
}

/** Deepest path a 2^64-leaf tree can have; anything longer is hostile. */
const MAX_PATH = 64;

/** The bstr-wrapped proofs under 396 / `key`, each decoded and type-checked. */
export function readProofs(uh: HeaderMap, key: number): ProofTriple[] {
  const inclusion = key === PROOF.inclusion;
  const missing: CoseErrorCode = inclusion ? 'MISSING_INCLUSION_PROOF' : 'MISSING_CONSISTENCY_PROOF';
  const bad: CoseErrorCode = inclusion ? 'BAD_INCLUSION_PROOF' : 'BAD_CONSISTENCY_PROOF';
  const vdp = uh.get(HEADER.vdp);
  if (vdp === undefined) throw coseError(missing, 'the unprotected header has no verifiable data proofs (396)');
  if (!(vdp instanceof Map)) throw coseError(bad, 'verifiable data proofs (396) must be a map');
  const list = vdp.get(key);
  if (list === undefined) throw coseError(missing, `no proof under key ${key} of label 396`);
  if (!Array.isArray(list) || list.length === 0 || list.length > 16) throw coseError(bad, `proofs under key ${key} must be a non-empty array (at most 16)`);
  return list.map((item, i) => {
    const raw = expectBstr(item, `proof ${i}`, bad);
    let v: unknown;
    try {
      v = decodeCbor(raw, { maxDepth: 3, maxBytes: 16 + MAX_PATH * 80 });
    } catch (e) {
      throw coseError(bad, `proof ${i} is not well-formed CBOR: ${isLedgerError(e) ? e.message : String(e)}`);
    }
    if (!Array.isArray(v) || v.length !== 3) throw coseError(bad, `proof ${i} must be an array of three elements`);
    const [a, b, hashes] = v;
    if (!(Number.isSafeInteger(a) && Number.isSafeInteger(b) && (a as number) >= 0 && (b as number) >= 0)) {
      throw coseError(bad, `proof ${i} must start with two unsigned integers`);
    }
    if (!Array.isArray(hashes) || hashes.length > MAX_PATH) throw coseError(bad, `proof ${i} must end with an array of at most ${MAX_PATH} hashes`);
    return { a: a as number, b: b as number, hashes: hashes.map((h, j) => expectBstr(h, `proof ${i} hash ${j}`, bad)) };
  });
}
