import * as crypto from 'node:crypto';

/** Every hash in the tree is SHA-256 (RFC 9162 `RFC9162_SHA256`). */
export const HASH_SIZE = 32;

// One-shot crypto.hash (Node >= 20.12) is ~40% faster than createHash for 65-byte inputs, and
// node hashing dominates the sequencer and proof serving; fall back where it is missing.
const oneShot: ((data: Uint8Array) => Buffer) | undefined =
  typeof crypto.hash === 'function' ? (data) => crypto.hash('sha256', data, 'buffer') : undefined;

function sha256(data: Uint8Array): Buffer {
  return oneShot ? oneShot(data) : crypto.createHash('sha256').update(data).digest();
}

// Scratch buffer for interior nodes; safe to share because hashing is synchronous.
const LEAF_PREFIX = Buffer.from([0x00]);
const nodeScratch = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeScratch[0] = 0x01;

/** The log entry of a registered statement: SHA-256 of its registered bytes (what entry bundles carry). */
export function entryHash(registered: Uint8Array): Buffer {
  return sha256(registered);
}

/** RFC 9162 leaf hash: SHA-256(0x00 || entry). The prefix keeps leaves and interior nodes apart. */
export function leafHash(entry: Uint8Array): Buffer {
  // Large inputs are streamed rather than copied behind the prefix byte.
  if (entry.length > 1024) return crypto.createHash('sha256').update(LEAF_PREFIX).update(entry).digest();
  const buf = Buffer.allocUnsafe(1 + entry.length);
  buf[0] = 0x00;
  buf.set(entry, 1);
  return sha256(buf);
}

/**
 * RFC 9162 interior node hash: SHA-256(0x01 || left || right).
 * Children of any length are hashed faithfully, but the tree only ever has HASH_SIZE-byte
 * children; callers handling untrusted hashes check sizes before chaining.
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    return crypto.createHash('sha256').update(nodeScratch.subarray(0, 1)).update(left).update(right).digest();
  }
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_SIZE);
  return sha256(nodeScratch);
}

/** Root of the empty tree: SHA-256 of the empty string. */
export function emptyRoot(): Buffer {
  return sha256(new Uint8Array(0));
}
