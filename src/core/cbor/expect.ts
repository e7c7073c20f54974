import { LedgerError } from '../errors';
import { Simple, Tag } from './types';

/**
 * Exact type checks for decoded values: every byte from the network is hostile until decoded
 * *and* checked. Each helper names what it was checking and throws a LedgerError with the code
 * the caller chose (COSE code passes 'BAD_HEADER', 'NOT_COSE_SIGN1', ...), so a wrong type never
 * surfaces as a TypeError three calls later.
 */

/** A short name of a decoded value's CBOR type, for error messages. */
export function cborTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'bigint';
  if (typeof v === 'string') return 'tstr';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Uint8Array) return 'bstr';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Map) return 'map';
  if (v instanceof Tag) return `tag ${v.tag}`;
  if (v instanceof Simple) return `simple ${v.value}`;
  return typeof v;
}

function wrong(code: string, what: string, want: string, v: unknown): never {
  throw new LedgerError(code, `${what} must be ${want}, not ${cborTypeName(v)}`, { field: what });
}

export function expectMap(v: unknown, what: string, code = 'UNEXPECTED_TYPE'): Map<unknown, unknown> {
  if (!(v instanceof Map)) wrong(code, what, 'a map', v);
  return v;
}

export function expectArray(v: unknown, what: string, code = 'UNEXPECTED_TYPE'): unknown[] {
  if (!Array.isArray(v)) wrong(code, what, 'an array', v);
  return v;
}

export function expectBstr(v: unknown, what: string, code = 'UNEXPECTED_TYPE'): Buffer {
  if (!(v instanceof Uint8Array)) wrong(code, what, 'a byte string', v);
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function expectTstr(v: unknown, what: string, code = 'UNEXPECTED_TYPE'): string {
  if (typeof v !== 'string') wrong(code, what, 'a text string', v);
  return v;
}

/** An integer that JavaScript represents exactly (bigints beyond 2^53 are refused). */
export function expectInt(v: unknown, what: string, code = 'UNEXPECTED_TYPE'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) wrong(code, what, 'an integer', v);
  return v;
}

export function expectUint(v: unknown, what: string, code = 'UNEXPECTED_TYPE'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) wrong(code, what, 'an unsigned integer', v);
  return v;
}

export function expectBool(v: unknown, what: string, code = 'UNEXPECTED_TYPE'): boolean {
  if (typeof v !== 'boolean') wrong(code, what, 'a boolean', v);
  return v;
}

/** A tag, optionally a specific one; returns its content. */
export function expectTag(v: unknown, tag: number | undefined, what: string, code = 'UNEXPECTED_TYPE'): unknown {
  if (!(v instanceof Tag) || (tag !== undefined && v.tag !== tag)) wrong(code, what, tag === undefined ? 'a tag' : `tag ${tag}`, v);
  return v.value;
}

/** An array whose every element is a byte string (x5chain, receipts, proof paths). */
export function expectBstrArray(v: unknown, what: string, code = 'UNEXPECTED_TYPE'): Buffer[] {
  const a = expectArray(v, what, code);
  return a.map((x, i) => expectBstr(x, `${what}[${i}]`, code));
}
