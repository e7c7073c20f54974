import { LedgerError } from '../errors';

export type NoteErrorCode =
  /** The note is not a well-formed signed note (syntax, encoding, size, too many signatures). */
  | 'BAD_NOTE'
  /** A signature by a known key does not verify. */
  | 'BAD_SIGNATURE'
  /** No signature is by a known key (the note may be genuine, but nobody we trust says so). */
  | 'UNKNOWN_KEY'
  /** Two configured verifiers share a name and key ID, so a signature cannot be attributed. */
  | 'AMBIGUOUS_KEY'
  /** A signer or verifier key string is malformed, of an unknown algorithm, or its ID is wrong. */
  | 'BAD_KEY'
  /** The note text is not a well-formed C2SP checkpoint. */
  | 'BAD_CHECKPOINT';

export function noteError(code: NoteErrorCode, message: string, details?: Record<string, unknown>): LedgerError<NoteErrorCode> {
  return new LedgerError<NoteErrorCode>(code, message, details);
}
