/** Text helpers shared by keys, notes and checkpoints. Inputs are untrusted. */

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Strict RFC 4648 §4 base64: padding required, no whitespace, no URL-safe alphabet, zero
 * padding bits. Buffer.from(s, 'base64') silently skips junk, which would let two different
 * strings denote the same signature or key. Returns undefined when `s` is not canonical.
 */
export function decodeBase64Strict(s: string): Buffer | undefined {
  if (!B64.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : undefined;
}

/** A lone UTF-16 surrogate cannot be encoded as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex
const CONTROL_EXCEPT_NEWLINE = /[\u0000-\u0009\u000B-\u001F]/;

/** Signed notes must be valid UTF-8 without ASCII control characters other than newline. */
export function isNoteSafe(s: string): boolean {
  return !CONTROL_EXCEPT_NEWLINE.test(s) && !LONE_SURROGATE.test(s);
}

/**
 * Key names: non-empty, valid UTF-8, no Unicode white space and no '+' (the separator of key
 * strings). Go's unicode.IsSpace is \s minus U+FEFF plus U+0085; both are checked.
 */
export function isValidKeyName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    !name.includes('+') &&
    !/[\s\u0085]/.test(name.replace(/\uFEFF/g, 'x')) &&
    isNoteSafe(name)
  );
}
