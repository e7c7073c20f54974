import type { KeyObject } from 'node:crypto';
import { decodeCbor, encodeCbor, expectBstr, expectMap, headLength, Tag, writeHead } from '../cbor';
import { algorithmInfo, assertKeyFits, signWith, verifyWith } from './algorithms';
import { coseError } from './errors';
import { HEADER } from './labels';

/** COSE header map: integer labels (IANA) or text labels (private use). */
export type HeaderMap = Map<number | string, unknown>;

/** A decoded COSE_Sign1 (RFC 9052 §4.2). Byte fields are zero-copy views into the input. */
export interface Sign1 {
  /** The protected header bstr exactly as received: what the signature covers. */
  protectedBytes: Buffer;
  protectedHeader: HeaderMap;
  unprotectedHeader: HeaderMap;
  /** null when the payload is detached. */
  payload: Buffer | null;
  signature: Buffer;
  tagged: boolean;
}

export interface DecodeSign1Options {
  /** Require CBOR tag 18 (default true). Other tags are always refused. */
  requireTag?: boolean;
  /** TOO_LARGE above this many bytes, before decoding. */
  maxBytes?: number;
  /** Nesting limit for the envelope and for the protected header (default 32). */
  maxDepth?: number;
}

export const COSE_SIGN1_TAG = 18;
const EMPTY = Buffer.alloc(0);
const SIGNATURE1 = Buffer.from('Signature1');
const EMPTY_MAP = Buffer.from([0xa0]);

function checkLabels(h: HeaderMap, which: string): void {
  for (const k of h.keys()) {
    if (!(typeof k === 'string' || (typeof k === 'number' && Number.isSafeInteger(k)))) {
      throw coseError('BAD_HEADER', `${which} header label ${String(k)} is neither an integer nor a text string`);
    }
  }
}

/** Decodes a protected header bstr: empty means the empty map (RFC 9052 §3). */
export function decodeProtectedHeader(bytes: Uint8Array, maxDepth = 32): HeaderMap {
  if (bytes.length === 0) return new Map();
  let v: unknown;
  try {
    v = decodeCbor(bytes, { maxDepth });
  } catch (e: any) {
    throw coseError('BAD_HEADER', `the protected header is not well-formed CBOR: ${e?.message ?? e}`);
  }
  const m = expectMap(v, 'protected header', 'BAD_HEADER') as HeaderMap;
  checkLabels(m, 'protected');
  return m;
}

/**
 * Decodes a COSE_Sign1. MALFORMED_CBOR / TOO_LARGE for bytes that are not CBOR or too long,
 * NOT_COSE_SIGN1 for CBOR of another shape (wrong or missing tag, not [bstr, map, bstr/nil, bstr]),
 * BAD_HEADER for a protected header that is not a map or labels that are not int/tstr, or a label
 * in both buckets (RFC 9052 §3 says verifiers SHOULD check; a second copy of `alg` or `kid` in the
 * unprotected bucket is exactly the kind of ambiguity an attacker wants).
 */
export function decodeSign1(bytes: Uint8Array, opts: DecodeSign1Options = {}): Sign1 {
  const maxDepth = opts.maxDepth ?? 32;
  let v = decodeCbor(bytes, { maxBytes: opts.maxBytes, maxDepth });
  let tagged = false;
  if (v instanceof Tag) {
    if (v.tag !== COSE_SIGN1_TAG) throw coseError('NOT_COSE_SIGN1', `CBOR tag ${v.tag} is not COSE_Sign1 (18)`);
    tagged = true;
    v = v.value;
  } else if (opts.requireTag ?? true) {
    throw coseError('NOT_COSE_SIGN1', 'a COSE_Sign1 must carry CBOR tag 18');
  }
  if (!Array.isArray(v) || v.length !== 4) throw coseError('NOT_COSE_SIGN1', 'a COSE_Sign1 is an array of four elements');
  const protectedBytes = expectBstr(v[0], 'protected header', 'NOT_COSE_SIGN1');
  const unprotectedHeader = expectMap(v[1], 'unprotected header', 'NOT_COSE_SIGN1') as HeaderMap;
  const payload = v[2] === null ? null : expectBstr(v[2], 'payload', 'NOT_COSE_SIGN1');
  const signature = expectBstr(v[3], 'signature', 'NOT_COSE_SIGN1');
  const protectedHeader = decodeProtectedHeader(protectedBytes, maxDepth);
  checkLabels(unprotectedHeader, 'unprotected');
  if (unprotectedHeader.size > 0) {
    for (const k of unprotectedHeader.keys()) {
      if (protectedHeader.has(k)) throw coseError('BAD_HEADER', `header label ${k} is in both the protected and the unprotected header`);
    }
  }
  return { protectedBytes, protectedHeader, unprotectedHeader, payload, signature, tagged };
}

export interface Sign1Parts {
  protectedBytes: Uint8Array;
  unprotectedHeader?: HeaderMap | Uint8Array;
  payload: Uint8Array | null;
  signature: Uint8Array;
}

/**
 * Serialises a COSE_Sign1 around protected bytes as given (never re-encoded). The unprotected
 * header is a map (encoded deterministically) or already-encoded map bytes.
 */
export function encodeSign1(m: Sign1Parts, opts: { tagged?: boolean } = {}): Buffer {
  const tagged = opts.tagged ?? true;
  const uh = m.unprotectedHeader;
  const u = uh instanceof Uint8Array ? uh : uh && uh.size > 0 ? encodeCbor(uh) : EMPTY_MAP;
  const p = m.protectedBytes;
  const pl = m.payload;
  const s = m.signature;
  const len =
    (tagged ? 1 : 0) + 1 + headLength(p.length) + p.length + u.length + (pl ? headLength(pl.length) + pl.length : 1) + headLength(s.length) + s.length;
  const out = Buffer.allocUnsafe(len);
  let o = 0;
  if (tagged) out[o++] = 0xd2;
  out[o++] = 0x84;
  o += writeHead(out, o, 2, p.length);
  out.set(p, o);
  o += p.length;
  out.set(u, o);
  o += u.length;
  if (pl) {
    o += writeHead(out, o, 2, pl.length);
    out.set(pl, o);
    o += pl.length;
  } else {
    out[o++] = 0xf6;
  }
  o += writeHead(out, o, 2, s.length);
  out.set(s, o);
  return out;
}

/**
 * Sig_structure for COSE_Sign1 (RFC 9052 §4.4), split so that a large payload is never copied:
 * the first part is everything up to and including the payload's bstr head, the second is the
 * payload itself. Concatenated they are `["Signature1", protected, external_aad, payload]`.
 */
export function sigStructureParts(protectedBytes: Uint8Array, externalAad: Uint8Array, payload: Uint8Array): [Buffer, Uint8Array] {
  const p = protectedBytes;
  const aad = externalAad;
  const len = 2 + SIGNATURE1.length + headLength(p.length) + p.length + headLength(aad.length) + aad.length + headLength(payload.length);
  const head = Buffer.allocUnsafe(len);
  head[0] = 0x84;
  head[1] = 0x6a; // tstr of 10 bytes: "Signature1"
  let o = 2 + SIGNATURE1.copy(head, 2);
  o += writeHead(head, o, 2, protectedBytes.length);
  head.set(protectedBytes, o);
  o += protectedBytes.length;
  o += writeHead(head, o, 2, externalAad.length);
  head.set(externalAad, o);
  o += externalAad.length;
  writeHead(head, o, 2, payload.length);
  return [head, payload];
}

/** The bytes a COSE_Sign1 signature covers. */
export function sigStructure(protectedBytes: Uint8Array, externalAad: Uint8Array | undefined, payload: Uint8Array): Buffer {
  return Buffer.concat(sigStructureParts(protectedBytes, externalAad ?? EMPTY, payload));
}

export interface SignSign1Options {
  protectedHeader: HeaderMap | Map<number, unknown>;
  unprotectedHeader?: HeaderMap | Map<number, unknown>;
  payload: Uint8Array;
  /** Sign the payload but leave it out of the message (payload nil). */
  detached?: boolean;
  externalAad?: Uint8Array;
  key: KeyObject;
}

/**
 * Makes a tagged COSE_Sign1. The algorithm is the protected header's `alg` (the key must fit it);
 * the protected header is encoded deterministically, once, and signed as encoded.
 */
export function signSign1(o: SignSign1Options): Buffer {
  const ph = o.protectedHeader as HeaderMap;
  const info = algorithmInfo(ph.get(HEADER.alg));
  const protectedBytes = ph.size > 0 ? encodeCbor(ph) : EMPTY;
  const payload = o.payload instanceof Uint8Array ? o.payload : Buffer.from(o.payload);
  const signature = signWith(info, o.key, sigStructure(protectedBytes, o.externalAad, payload));
  return encodeSign1({ protectedBytes, unprotectedHeader: o.unprotectedHeader as HeaderMap | undefined, payload: o.detached ? null : payload, signature });
}

/** True when `sig1`'s signature verifies with `key` over `payload` (attached or supplied). */
export function checkSign1Signature(sig1: Sign1, key: KeyObject, payload: Uint8Array, externalAad?: Uint8Array): boolean {
  const info = algorithmInfo(sig1.protectedHeader.get(HEADER.alg));
  return verifyWith(info, key, sigStructureParts(sig1.protectedBytes, externalAad ?? EMPTY, payload), sig1.signature);
}

export interface VerifySign1Options {
  /** The payload of a detached-payload message (or the expected payload of an attached one). */
  detachedPayload?: Uint8Array;
  externalAad?: Uint8Array;
  requireTag?: boolean;
}

/**
 * Verifies a COSE_Sign1 (decoded, or bytes to decode) with `key`, over the protected bytes as
 * received. Throws UNSUPPORTED_ALGORITHM, KEY_ALG_MISMATCH, PAYLOAD_MISSING or BAD_SIGNATURE.
 * `alg` is only ever taken from the protected header.
 */
export function verifySign1(msg: Sign1 | Uint8Array, key: KeyObject, opts: VerifySign1Options = {}): Sign1 {
  const m = msg instanceof Uint8Array ? decodeSign1(msg, { requireTag: opts.requireTag }) : msg;
  const info = algorithmInfo(m.protectedHeader.get(HEADER.alg));
  assertKeyFits(key, info);
  const d = opts.detachedPayload;
  if (m.payload !== null && d !== undefined && !m.payload.equals(d)) {
    throw coseError('BAD_SIGNATURE', 'the supplied payload differs from the attached one');
  }
  const payload = d ?? m.payload;
  if (payload === null) throw coseError('PAYLOAD_MISSING', 'the payload is detached and was not supplied');
  if (!verifyWith(info, key, sigStructureParts(m.protectedBytes, opts.externalAad ?? EMPTY, payload), m.signature)) {
    throw coseError('BAD_SIGNATURE', `the ${info.name} signature does not verify`);
  }
  return m;
}
