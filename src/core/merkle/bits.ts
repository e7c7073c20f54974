/**
 * Bit arithmetic on tree sizes and indices. They are JS numbers up to 2^53 - 1, and JS bitwise
 * operators truncate to 32 bits, so each helper splits a value into its high and low 32-bit
 * words. Preconditions: arguments are non-negative safe integers (callers check first).
 */

const TWO32 = 2 ** 32;

function hi(x: number): number {
  return Math.floor(x / TWO32);
}

/** Low 32 bits: ToUint32 reduces modulo 2^32, exact for safe integers. */
function lo(x: number): number {
  return x >>> 0;
}

function pop32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function ctz32(v: number): number {
  return 31 - Math.clz32(v & -v);
}

/** Number of bits needed to write x (0 for 0), like Go's bits.Len64. */
export function bitLen(x: number): number {
  const h = hi(x);
  return h > 0 ? 64 - Math.clz32(h) : 32 - Math.clz32(lo(x));
}

export function popCount(x: number): number {
  return pop32(hi(x)) + pop32(lo(x));
}

/** Trailing zero bits; precondition x > 0. */
export function trailingZeros(x: number): number {
  const l = lo(x);
  return l !== 0 ? ctz32(l) : 32 + ctz32(hi(x));
}

export function xor(a: number, b: number): number {
  return ((hi(a) ^ hi(b)) >>> 0) * TWO32 + ((lo(a) ^ lo(b)) >>> 0);
}

/** x >> k without 32-bit truncation. Division by a power of two is exact in floating point. */
export function shr(x: number, k: number): number {
  return Math.floor(x / 2 ** k);
}

/** Bit i of x (0 or 1). */
export function bit(x: number, i: number): number {
  return shr(x, i) % 2;
}

/** Largest power of two strictly below n; precondition n >= 2. */
export function splitPoint(n: number): number {
  return 2 ** (bitLen(n - 1) - 1);
}
