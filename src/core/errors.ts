/**
 * The one error type of the domain. Every module defines its own string-literal code union
 * (for example `CoseErrorCode`, `MerkleErrorCode`) and throws `LedgerError<ThatUnion>`.
 * Exactly one HTTP filter (src/statements/problem.filter.ts) maps codes to RFC 9290 problems;
 * the CLI maps them to exit codes. Never throw plain Error for input a caller supplied.
 */
export class LedgerError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    /** Extra machine-readable context (never secrets). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'LedgerError';
  }
}

export function isLedgerError(e: unknown): e is LedgerError {
  return e instanceof LedgerError;
}
