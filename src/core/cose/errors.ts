import { LedgerError } from '../errors';
import type { CborErrorCode } from '../cbor';

/**
 * Every code the COSE layer throws (or reports as `{ ok: false, code }`). The HTTP layer maps
 * them to SCRAPI titles (src/statements/problem.ts); the CLI prints them. Stable: never rename.
 *
 * Envelope and profile (Signed Statements, RFC 9052 / RFC 9943):
 * - MALFORMED_CBOR         not well-formed CBOR, or a decoding limit broken            → "Malformed request"
 * - TOO_LARGE              over the size limit, checked before decoding                → 413
 * - NOT_COSE_SIGN1         well-formed CBOR but not a (tag 18) COSE_Sign1              → "Malformed request"
 * - BAD_HEADER             a header parameter of the wrong type, duplicate or
 *                          contradictory (kid not bstr, 3 with 258, unknown crit...)  → "Malformed request"
 * - UNSUPPORTED_ALGORITHM  alg absent, unprotected, or not ES256/384/512, EdDSA, PS256 → "Bad Signature Algorithm"
 * - MISSING_CWT_CLAIMS     no CWT claims (label 15) in the protected header            → "Malformed request"
 * - MISSING_ISSUER         no iss (claim 1)                                             → "Malformed request"
 * - MISSING_SUBJECT        no sub (claim 2) where the profile requires it               → "Malformed request"
 * - CONFIRMATION_MISSING   no kid, x5t or x5chain to identify the signing key           → "Confirmation Missing"
 * - PAYLOAD_MISSING        detached payload where an attached one is required          → "Payload Missing"
 * - BAD_STATEMENT_SIGNATURE the statement's signature does not verify                   → "Rejected"
 * - BAD_SIGNATURE          a generic COSE_Sign1 signature does not verify (verifySign1)
 * - KEY_ALG_MISMATCH       the key cannot make or check signatures of the header's alg
 *
 * Keys and certificates:
 * - BAD_KEY                a JWK / COSE_Key / PEM that cannot be imported
 * - X5CHAIN_INVALID        a certificate does not parse, or one is not signed by the next
 * - X5CHAIN_UNTRUSTED      the chain does not end at a configured trust anchor
 * - X5CHAIN_EXPIRED        a certificate is outside its validity period at the given time
 *
 * Receipts (RFC 9942), reported by verifyReceipt as { ok: false, code, step }:
 * - UNSUPPORTED_VDS        protected vds (395) absent or not one we verify
 * - BAD_RECEIPT            not shaped like a receipt (attached payload, no proofs map...)
 * - MISSING_INCLUSION_PROOF / MISSING_CONSISTENCY_PROOF   no proof under 396 / -1 or -2
 * - BAD_INCLUSION_PROOF / BAD_CONSISTENCY_PROOF   a proof that is malformed for its sizes
 * - MISSING_ENTRY          neither the entry hash nor the statement was given to check against
 * - UNKNOWN_RECEIPT_KEY    the key resolver knows no key for the receipt's kid
 * - TAMPERED_INCLUSION_PATH the signature does not verify over the root recomputed from the
 *                          entry and its (non-empty) path: what the log signed is not what the
 *                          path leads to (see receipt.ts for why this wins over "bad signature")
 * - TAMPERED_CONSISTENCY_PROOF the same for a consistency receipt
 * - BAD_RECEIPT_SIGNATURE  the signature is malformed, or fails where no path was involved
 * - NO_RECEIPTS            a transparent statement without receipts
 * - UNKNOWN_ISSUER_KEY     verifyTransparentStatement's issuer key lookup found nothing
 */
export type CoseErrorCode =
  | CborErrorCode
  | 'NOT_COSE_SIGN1'
  | 'BAD_HEADER'
  | 'UNSUPPORTED_ALGORITHM'
  | 'MISSING_CWT_CLAIMS'
  | 'MISSING_ISSUER'
  | 'MISSING_SUBJECT'
  | 'CONFIRMATION_MISSING'
  | 'PAYLOAD_MISSING'
  | 'BAD_STATEMENT_SIGNATURE'
  | 'BAD_SIGNATURE'
  | 'KEY_ALG_MISMATCH'
  | 'BAD_KEY'
  | 'X5CHAIN_INVALID'
  | 'X5CHAIN_UNTRUSTED'
  | 'X5CHAIN_EXPIRED'
  | 'UNSUPPORTED_VDS'
  | 'BAD_RECEIPT'
  | 'MISSING_INCLUSION_PROOF'
  | 'MISSING_CONSISTENCY_PROOF'
  | 'BAD_INCLUSION_PROOF'
  | 'BAD_CONSISTENCY_PROOF'
  | 'MISSING_ENTRY'
  | 'UNKNOWN_RECEIPT_KEY'
  | 'TAMPERED_INCLUSION_PATH'
  | 'TAMPERED_CONSISTENCY_PROOF'
  | 'BAD_RECEIPT_SIGNATURE'
  | 'NO_RECEIPTS'
  | 'UNKNOWN_ISSUER_KEY';

export type CoseError = LedgerError<CoseErrorCode>;

export function coseError(code: CoseErrorCode, message: string, details?: Record<string, unknown>): LedgerError<CoseErrorCode> {
  return new LedgerError<CoseErrorCode>(code, message, details);
}
