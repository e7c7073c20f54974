/** A CBOR tag (major type 6) the decoder does not interpret: COSE gives tags meaning, not the codec. */
export class Tag {
  constructor(
    readonly tag: number | bigint,
    readonly value: unknown,
  ) {}
}

/** An unassigned simple value (major type 7, other than false/true/null/undefined). */
export class Simple {
  constructor(readonly value: number) {}
}

/**
 * Bytes that are already one encoded CBOR item, written verbatim by the encoder. Lets callers
 * splice in an item they must not re-encode (the encoder does not check that it is well formed).
 */
export class RawCbor {
  constructor(readonly bytes: Uint8Array) {}
}

/** What the decoder produces: integers beyond 2^53 as bigint, every map as a Map. */
export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | Map<unknown, unknown>
  | Tag
  | Simple;
