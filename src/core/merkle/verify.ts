/**
 * RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) proof verification.
 *
 * Everything here is attacker-controlled: proofs and roots arrive in receipts and over the
 * network. Shapes are checked before any hashing, and every failure is a LedgerError whose code
 * says whether the input was malformed or merely did not prove what it claimed (ROOT_MISMATCH).
 *
 * The decomposition follows the tree's geometry: an inclusion path for `index` in a tree of
 * `size` splits where the paths to `index` and `size - 1` diverge. Below that point ("inner")
 * siblings sit on either side; above it ("border") the path runs along the right edge, where only
 * left siblings exist because RFC 9162 promotes a lone right node instead of pairing it.
 */
import { bit, bitLen, popCount, shr, trailingZeros, xor } from './bits';
import { merkleError } from './errors';
import { HASH_SIZE, nodeHash } from './hash';

/** Throws INVALID_SIZE unless n is a non-negative safe integer. */
export function checkTreeSize(name: string, n: number): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw merkleError('INVALID_SIZE', `${name} must be a non-negative safe integer`, { [name]: String(n) });
  }
}

function checkHash(name: string, h: unknown): asserts h is Uint8Array {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    const got = h instanceof Uint8Array ? h.length : typeof h;
    throw merkleError('INVALID_HASH_SIZE', `${name} must be ${HASH_SIZE} bytes`, { got });
  }
}

function checkProofShape(proof: unknown, want: number): asserts proof is Uint8Array[] {
  if (!Array.isArray(proof)) throw merkleError('INVALID_PROOF_SIZE', 'proof must be an array of hashes');
  if (proof.length !== want) {
    throw merkleError('INVALID_PROOF_SIZE', `wrong proof size ${proof.length}, want ${want}`, { got: proof.length, want });
  }
  proof.forEach((h, i) => checkHash(`proof[${i}]`, h));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

function mismatch(calculated: Uint8Array, expected: Uint8Array, what: string): never {
  throw merkleError('ROOT_MISMATCH', `calculated ${what} does not match the expected one`, {
    calculated: Buffer.from(calculated).toString('hex'),
    expected: Buffer.from(expected).toString('hex'),
  });
}

/**
 * Lengths of the two parts of the inclusion proof for `index` in a tree of `size`:
 * `inner` siblings below the split with the right border, then `border` left siblings along it.
 * Preconditions: 0 <= index < size.
 */
export function decompInclProof(index: number, size: number): { inner: number; border: number } {
  const inner = bitLen(xor(index, size - 1));
  return { inner, border: popCount(shr(index, inner)) };
}

/** Chains proof[from..to) below the border; bit i of `index` says on which side sibling i sits. */
function chainInner(seed: Uint8Array, proof: Uint8Array[], from: number, to: number, index: number): Uint8Array {
  for (let i = from; i < to; i++) {
    seed = bit(index, i - from) === 0 ? nodeHash(seed, proof[i]) : nodeHash(proof[i], seed);
  }
  return seed;
}

/**
 * Like chainInner but only takes left siblings: the result is the hash of the older, smaller
 * version of the same subtree (used to recompute root1 in a consistency proof).
 */
function chainInnerRight(seed: Uint8Array, proof: Uint8Array[], from: number, to: number, index: number): Uint8Array {
  for (let i = from; i < to; i++) {
    if (bit(index, i - from) === 1) seed = nodeHash(proof[i], seed);
  }
  return seed;
}

/** Along the right border every sibling is on the left. */
function chainBorderRight(seed: Uint8Array, proof: Uint8Array[], from: number): Uint8Array {
  for (let i = from; i < proof.length; i++) seed = nodeHash(proof[i], seed);
  return seed;
}

/**
 * The root a tree of `size` leaves must have if `proof` is the inclusion proof of `leafHash` at
 * `index`. Preconditions checked: index < size (both safe integers), leafHash and every proof
 * element 32 bytes, proof length exactly what the sizes imply. Throws LedgerError otherwise.
 */
export function rootFromInclusionProof(index: number, size: number, leafHash: Uint8Array, proof: Uint8Array[]): Buffer {
  checkTreeSize('index', index);
  checkTreeSize('size', size);
  if (index >= size) throw merkleError('INDEX_OUT_OF_RANGE', `index ${index} is beyond tree size ${size}`, { index, size });
  checkHash('leafHash', leafHash);
  const { inner, border } = decompInclProof(index, size);
  checkProofShape(proof, inner + border);
  const res = chainBorderRight(chainInner(leafHash, proof, 0, inner, index), proof, inner);
  return Buffer.from(res);
}

/**
 * Verifies that `proof` proves `leafHash` at `index` in the tree of `size` with `root`.
 * Throws ROOT_MISMATCH when the proof is well formed but yields another root, other codes for
 * malformed input (see rootFromInclusionProof). Returns normally only on success.
 */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: Uint8Array[], root: Uint8Array): void {
  const calculated = rootFromInclusionProof(index, size, leafHash, proof);
  checkHash('root', root);
  if (!equalBytes(calculated, root)) mismatch(calculated, root, 'root');
}

/**
 * The root of the tree of `size2` implied by a consistency proof from (size1, root1); checks
 * root1 on the way. Preconditions checked: 0 < size1 <= size2, proof length exactly what the
 * sizes imply, hashes 32 bytes. A proof from the empty tree is rejected (INVALID_SIZE): it proves
 * nothing, and accepting it would let a bogus "size 0" checkpoint stand in for a real one.
 * When size1 == size2 the proof must be empty and the result is root1 itself.
 */
export function rootFromConsistencyProof(size1: number, size2: number, proof: Uint8Array[], root1: Uint8Array): Buffer {
  checkTreeSize('size1', size1);
  checkTreeSize('size2', size2);
  if (!Array.isArray(proof)) throw merkleError('INVALID_PROOF_SIZE', 'proof must be an array of hashes');
  if (size2 < size1) throw merkleError('INVALID_SIZE', `size2 (${size2}) < size1 (${size1})`, { size1, size2 });
  if (size1 === 0) throw merkleError('INVALID_SIZE', 'a consistency proof from the empty tree is meaningless', { size1, size2 });
  if (size1 === size2) {
    if (!(root1 instanceof Uint8Array)) throw merkleError('INVALID_HASH_SIZE', 'root1 must be bytes');
    if (proof.length > 0) throw merkleError('INVALID_PROOF_SIZE', 'size1 = size2 but the proof is not empty', { got: proof.length, want: 0 });
    return Buffer.from(root1);
  }
  if (proof.length === 0) throw merkleError('INVALID_PROOF_SIZE', 'empty consistency proof', { got: 0 });
  checkHash('root1', root1);

  // The proof is the inclusion proof of leaf size1-1 in the tree of size2, minus the levels
  // inside the largest perfect subtree ending at size1: that subtree's hash is the seed.
  const decomp = decompInclProof(size1 - 1, size2);
  const shift = trailingZeros(size1);
  const inner = decomp.inner - shift; // shift < inner whenever size1 < size2
  // The seed is proof[0], unless size1 is itself that perfect subtree (a power of two): then the
  // verifier already knows its hash as root1 and the proof omits it.
  const seedInProof = size1 !== 2 ** shift;
  const start = seedInProof ? 1 : 0;
  checkProofShape(proof, start + inner + decomp.border);
  const seed = seedInProof ? proof[0] : root1;
  const mask = shr(size1 - 1, shift);

  const hash1 = chainBorderRight(chainInnerRight(seed, proof, start, start + inner, mask), proof, start + inner);
  if (!equalBytes(hash1, root1)) mismatch(hash1, root1, 'root1');
  return Buffer.from(chainBorderRight(chainInner(seed, proof, start, start + inner, mask), proof, start + inner));
}

/**
 * Verifies that the tree of (size2, root2) extends the tree of (size1, root1).
 * Throws ROOT_MISMATCH when a well-formed proof contradicts either root, INVALID_SIZE /
 * INVALID_PROOF_SIZE / INVALID_HASH_SIZE for malformed input. See rootFromConsistencyProof for
 * the preconditions (notably size1 > 0).
 */
export function verifyConsistency(size1: number, size2: number, proof: Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  const calculated = rootFromConsistencyProof(size1, size2, proof, root1);
  if (size1 === size2) {
    // Equal sizes: the trees are the same iff the roots are (no hashing involved).
    if (!(root2 instanceof Uint8Array)) throw merkleError('INVALID_HASH_SIZE', 'root2 must be bytes');
    if (!equalBytes(root1, root2)) mismatch(root1, root2, 'root2');
    return;
  }
  checkHash('root2', root2);
  if (!equalBytes(calculated, root2)) mismatch(calculated, root2, 'root2');
}
