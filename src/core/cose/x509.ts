import * as crypto from 'node:crypto';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { expectBstr } from '../cbor';
import { coseError } from './errors';
import { HASH_ALGS } from './labels';

/**
 * X.509 header parameters (RFC 9360): x5chain (33) and x5t (34), and chain validation against
 * configured trust anchors with node's X509Certificate. What is checked: every certificate
 * parses; each is issued and signed by the next (issuer name and signature); every issuer is a
 * CA; every certificate (anchors included) is valid at the given time; the last one is an anchor
 * or is issued and signed by one. Not checked (policy, not structure): key usage and extended
 * key usage, name constraints, revocation.
 */

/** Longest chain accepted (leaf + intermediates); more is a denial-of-service vector, not PKI. */
export const MAX_CHAIN = 8;

/** x5chain: one certificate as a bstr, or an array of bstr, leaf first. BAD_HEADER otherwise. */
export function parseX5chain(v: unknown): Buffer[] {
  if (v instanceof Uint8Array) return [expectBstr(v, 'x5chain')];
  if (!Array.isArray(v) || v.length === 0) throw coseError('BAD_HEADER', 'x5chain must be a byte string or a non-empty array of byte strings');
  if (v.length > MAX_CHAIN) throw coseError('BAD_HEADER', `x5chain has ${v.length} certificates; at most ${MAX_CHAIN} are accepted`);
  return v.map((c, i) => expectBstr(c, `x5chain[${i}]`, 'BAD_HEADER'));
}

export interface X5t {
  alg: number;
  hash: Buffer;
}

// SHA-256/64 (-15) is SHA-256 truncated to 64 bits: RFC 9360 allows it for x5t.
const X5T_ALGS = new Map<number, { name: string; length: number }>([[-15, { name: 'sha256', length: 8 }], ...[...HASH_ALGS].map(([k, v]) => [k, v] as const)]);

/** x5t: [alg, hash] with a known hash algorithm and a hash of its length. BAD_HEADER otherwise. */
export function parseX5t(v: unknown): X5t {
  if (!Array.isArray(v) || v.length !== 2) throw coseError('BAD_HEADER', 'x5t must be [hashAlg, hash]');
  const [alg, hash] = v;
  const a = typeof alg === 'number' ? X5T_ALGS.get(alg) : undefined;
  if (!a) throw coseError('BAD_HEADER', `x5t hash algorithm ${String(alg)} is not supported`);
  const h = expectBstr(hash, 'x5t hash', 'BAD_HEADER');
  if (h.length !== a.length) throw coseError('BAD_HEADER', `x5t hash is ${h.length} bytes; ${a.length} expected`);
  return { alg: alg as number, hash: h };
}

/** Does the x5t thumbprint designate this DER certificate? */
export function x5tMatches(x5t: X5t, certDer: Uint8Array): boolean {
  const a = X5T_ALGS.get(x5t.alg);
  if (!a) return false;
  const digest = crypto.createHash(a.name).update(certDer).digest().subarray(0, a.length);
  return digest.length === x5t.hash.length && crypto.timingSafeEqual(digest, x5t.hash);
}

/** An x5t for a certificate (SHA-256 by default). */
export function makeX5t(certDer: Uint8Array, alg = -16): X5t {
  const a = X5T_ALGS.get(alg);
  if (!a) throw coseError('BAD_HEADER', `x5t hash algorithm ${alg} is not supported`);
  return { alg, hash: crypto.createHash(a.name).update(certDer).digest().subarray(0, a.length) };
}

function parseCert(der: Uint8Array, i: number): X509Certificate {
  try {
    return new X509Certificate(Buffer.from(der));
  } catch (e: any) {
    throw coseError('X5CHAIN_INVALID', `x5chain[${i}] is not an X.509 certificate: ${e?.message ?? e}`);
  }
}

function checkValidity(c: X509Certificate, at: Date, what: string): void {
  const from = new Date(c.validFrom).getTime();
  const to = new Date(c.validTo).getTime();
  const t = at.getTime();
  if (!(t >= from && t <= to)) {
    throw coseError('X5CHAIN_EXPIRED', `${what} (${c.subject.replace(/\n/g, ', ')}) is not valid at ${at.toISOString()}: valid ${c.validFrom} to ${c.validTo}`);
  }
}

function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Validates an x5chain (DER certificates, leaf first) against trust anchors at time `at`, and
 * returns the leaf's public key. Throws X5CHAIN_INVALID, X5CHAIN_EXPIRED or X5CHAIN_UNTRUSTED.
 */
export function validateX5Chain(chain: Uint8Array[], anchors: X509Certificate[], at: Date = new Date()): KeyObject {
  if (!Array.isArray(chain) || chain.length === 0) throw coseError('X5CHAIN_INVALID', 'the certificate chain is empty');
  if (chain.length > MAX_CHAIN) throw coseError('X5CHAIN_INVALID', `the chain has ${chain.length} certificates; at most ${MAX_CHAIN} are accepted`);
  const certs = chain.map(parseCert);
  certs.forEach((c, i) => checkValidity(c, at, i === 0 ? 'the leaf certificate' : `x5chain[${i}]`));
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i + 1].ca) throw coseError('X5CHAIN_INVALID', `x5chain[${i + 1}] issues x5chain[${i}] but is not a CA certificate`);
    if (!signedBy(certs[i], certs[i + 1])) throw coseError('X5CHAIN_INVALID', `x5chain[${i}] is not issued and signed by x5chain[${i + 1}]`);
  }
  const last = certs[certs.length - 1];
  const anchor = anchors.find((a) => a.fingerprint256 === last.fingerprint256) ?? anchors.find((a) => a.ca && signedBy(last, a));
  if (!anchor) throw coseError('X5CHAIN_UNTRUSTED', 'the chain does not end at a configured trust anchor');
  checkValidity(anchor, at, 'the trust anchor');
  return certs[0].publicKey;
}
