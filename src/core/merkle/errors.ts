import { LedgerError } from '../errors';

/**
 * Codes thrown by the Merkle code. Callers map the malformed-input ones to 400s and
 * `ROOT_MISMATCH` to "the proof does not prove what it claims".
 */
export type MerkleErrorCode =
  /** A size or index is not a non-negative safe integer, or sizes are out of order. */
  | 'INVALID_SIZE'
  /** A leaf index is not below the tree size. */
  | 'INDEX_OUT_OF_RANGE'
  /** A hash (leaf, root or proof element) is not 32 bytes. */
  | 'INVALID_HASH_SIZE'
  /** The proof has the wrong number of elements for the sizes it claims to relate. */
  | 'INVALID_PROOF_SIZE'
  /** A well-formed proof recomputes a root different from the one expected. */
  | 'ROOT_MISMATCH'
  /** A tile path is not in the canonical C2SP encoding. */
  | 'BAD_TILE_PATH'
  /** Tile bytes are malformed (length not a multiple of 32, or a reader answered out of shape). */
  | 'BAD_TILE'
  /** A tile the tree size implies should exist is absent or narrower than needed. */
  | 'MISSING_TILE';

export type MerkleError = LedgerError<MerkleErrorCode>;

export function merkleError(code: MerkleErrorCode, message: string, details?: Record<string, unknown>): LedgerError<MerkleErrorCode> {
  return new LedgerError<MerkleErrorCode>(code, message, details);
}
