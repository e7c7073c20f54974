import { LedgerError } from '../errors';

/**
 * Codes thrown by the CBOR layer. `MALFORMED_CBOR` covers everything that is not well-formed
 * RFC 8949 CBOR or breaks a decoding limit; `TOO_LARGE` is the size limit checked before any
 * byte is parsed; `UNEXPECTED_TYPE` is a well-formed item of the wrong shape (the `expect*`
 * helpers take the code to throw instead, so COSE code can say `BAD_HEADER`);
 * `UNENCODABLE` is a value the deterministic encoder refuses (a caller bug, never network input).
 */
export type CborErrorCode = 'MALFORMED_CBOR' | 'TOO_LARGE' | 'UNEXPECTED_TYPE' | 'UNENCODABLE';

export function cborError(code: CborErrorCode, message: string, details?: Record<string, unknown>): LedgerError<CborErrorCode> {
  return new LedgerError<CborErrorCode>(code, message, details);
}
