/**
 * Reference implementations of RFC 9162 §2.1: MTH, PATH and SUBPROOF written as in the RFC,
 * over an in-memory array of leaf hashes. They are the oracle the tile-based code is tested
 * against, so they stay deliberately naive (recursive, O(n) per call). The one exception is
 * rootOfLeaves, which the auditor feeds whole logs and therefore runs in O(n) time and
 * O(log n) memory.
 */
import { splitPoint } from './bits';
import { merkleError } from './errors';
import { emptyRoot, nodeHash } from './hash';
import { checkTreeSize } from './verify';

/**
 * MTH(D[n]) computed left to right with a stack of perfect subtrees (a compact range): each leaf
 * merges with the equal-sized subtrees on top of the stack, so the stack never holds more than
 * one subtree per height. At the end the subtrees are folded right to left, which is exactly how
 * RFC 9162 hashes an unbalanced right edge. Leaf hashes must be 32 bytes (not re-checked: this
 * runs over a million leaves at a time).
 */
export function rootOfLeaves(leaves: readonly Uint8Array[]): Buffer {
  if (leaves.length === 0) return emptyRoot();
  const stack: Uint8Array[] = [];
  for (let i = 0; i < leaves.length; i++) {
    let h: Uint8Array = leaves[i];
    // Leaf i closes one subtree per trailing 1 bit of i.
    for (let j = i; j % 2 === 1; j = (j - 1) / 2) h = nodeHash(stack.pop()!, h);
    stack.push(h);
  }
  let acc = stack[stack.length - 1];
  for (let k = stack.length - 2; k >= 0; k--) acc = nodeHash(stack[k], acc);
  return Buffer.from(acc);
}

/** MTH over leaves[lo, hi), straight from the RFC's recursive definition. Precondition: lo < hi. */
function mth(leaves: readonly Uint8Array[], lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n === 1) return Buffer.from(leaves[lo]);
  const k = splitPoint(n);
  return nodeHash(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
}

/** Recursive MTH(D[n]) as the RFC writes it; test oracle for rootOfLeaves. */
export function rootOfLeavesRecursive(leaves: readonly Uint8Array[]): Buffer {
  return leaves.length === 0 ? emptyRoot() : mth(leaves, 0, leaves.length);
}

/** PATH(m, D[lo:hi]): siblings from the leaf upwards. */
function path(m: number, leaves: readonly Uint8Array[], lo: number, hi: number): Buffer[] {
  const n = hi - lo;
  if (n === 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...path(m, leaves, lo, lo + k), mth(leaves, lo + k, hi)];
  return [...path(m - k, leaves, lo + k, hi), mth(leaves, lo, lo + k)];
}

/** RFC 9162 inclusion proof PATH(index, D[n]) for leaves.length = n. Precondition: index < n. */
export function inclusionProofRef(index: number, leaves: readonly Uint8Array[]): Buffer[] {
  checkTreeSize('index', index);
  if (index >= leaves.length) {
    throw merkleError('INDEX_OUT_OF_RANGE', `index ${index} is beyond tree size ${leaves.length}`, { index, size: leaves.length });
  }
  return path(index, leaves, 0, leaves.length);
}

/** SUBPROOF(m, D[lo:hi], b). */
function subproof(m: number, leaves: readonly Uint8Array[], lo: number, hi: number, b: boolean): Buffer[] {
  const n = hi - lo;
  if (m === n) return b ? [] : [mth(leaves, lo, hi)];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(m, leaves, lo, lo + k, b), mth(leaves, lo + k, hi)];
  return [...subproof(m - k, leaves, lo + k, hi, false), mth(leaves, lo, lo + k)];
}

/**
 * RFC 9162 consistency proof PROOF(m, D[n]) between the first m leaves and all n.
 * Empty when m is 0 or n (nothing to prove). Precondition: m <= n.
 */
export function consistencyProofRef(m: number, leaves: readonly Uint8Array[]): Buffer[] {
  checkTreeSize('m', m);
  if (m > leaves.length) throw merkleError('INVALID_SIZE', `size1 ${m} exceeds tree size ${leaves.length}`, { m, size: leaves.length });
  if (m === 0 || m === leaves.length) return [];
  return subproof(m, leaves, 0, leaves.length, true);
}
