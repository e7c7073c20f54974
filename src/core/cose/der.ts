import { coseError } from './errors';

/**
 * Just enough DER to read an RSA public key out of a SubjectPublicKeyInfo. Needed because
 * node:crypto cannot export an RSASSA-PSS key ('rsa-pss', what `generateKeyPairSync('rsa-pss')`
 * makes) as a JWK, and COSE_Key / JWK / thumbprints all need the modulus and exponent.
 * The input comes from node's own `export({ type: 'spki', format: 'der' })`, but it is still
 * parsed defensively: every length is checked against its container.
 */

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function tlv(b: Buffer, off: number, limit: number): Tlv {
  if (off + 2 > limit) throw bad('truncated');
  const tag = b[off];
  let len = b[off + 1];
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw bad('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i];
    start += n;
  }
  if (start + len > limit) throw bad('length beyond its container');
  return { tag, start, end: start + len };
}

function bad(why: string) {
  return coseError('BAD_KEY', `malformed RSA SubjectPublicKeyInfo: ${why}`);
}

function expectTag(t: Tlv, tag: number): Tlv {
  if (t.tag !== tag) throw bad(`expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** A DER INTEGER's magnitude without the sign padding byte(s). */
function unsigned(b: Buffer, t: Tlv): Buffer {
  let s = t.start;
  while (s < t.end - 1 && b[s] === 0) s++;
  return Buffer.from(b.subarray(s, t.end));
}

/** Modulus and public exponent (big-endian, no leading zeros) of an RSA or RSASSA-PSS SPKI. */
export function rsaPublicComponents(spki: Buffer): { n: Buffer; e: Buffer } {
  const outer = expectTag(tlv(spki, 0, spki.length), 0x30);
  const algId = expectTag(tlv(spki, outer.start, outer.end), 0x30);
  const bits = expectTag(tlv(spki, algId.end, outer.end), 0x03);
  if (spki[bits.start] !== 0) throw bad('unused bits in the key bit string');
  const seq = expectTag(tlv(spki, bits.start + 1, bits.end), 0x30);
  const n = expectTag(tlv(spki, seq.start, seq.end), 0x02);
  const e = expectTag(tlv(spki, n.end, seq.end), 0x02);
  return { n: unsigned(spki, n), e: unsigned(spki, e) };
}
