/** Header parameter labels (IANA "COSE Header Parameters") this code reads or writes. */
export const HEADER = {
  alg: 1,
  crit: 2,
  contentType: 3,
  kid: 4,
  /** CWT claims in the header (RFC 9597). */
  cwtClaims: 15,
  x5bag: 32,
  x5chain: 33,
  x5t: 34,
  x5u: 35,
  /** Hash envelope (draft-ietf-cose-hash-envelope). */
  payloadHashAlg: 258,
  preimageContentType: 259,
  payloadLocation: 260,
  /** COSE Receipts (RFC 9942). */
  receipts: 394,
  vds: 395,
  vdp: 396,
} as const;

/** CWT claim keys (RFC 8392). */
export const CWT = { iss: 1, sub: 2, aud: 3, exp: 4, nbf: 5, iat: 6, cti: 7 } as const;

/** Verifiable data structures (RFC 9942 registry). */
export const VDS = { RFC9162_SHA256: 1, CCF_LEDGER_SHA256: 2 } as const;

/** Keys inside the verifiable data proofs map (396). */
export const PROOF = { inclusion: -1, consistency: -2 } as const;

/** COSE hash algorithms usable as payload-hash-alg, with their node name and digest length. */
export const HASH_ALGS: ReadonlyMap<number, { name: 'sha256' | 'sha384' | 'sha512'; length: number }> = new Map([
  [-16, { name: 'sha256', length: 32 }],
  [-43, { name: 'sha384', length: 48 }],
  [-44, { name: 'sha512', length: 64 }],
]);
