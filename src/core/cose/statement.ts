import type { KeyObject } from 'node:crypto';
import { headLength } from '../cbor';
import { entryHash as sha256Entry } from '../merkle';
import { algorithmInfo, keyFitsAlgorithm, verifyWith } from './algorithms';
import { coseError, type CoseErrorCode } from './errors';
import type { LedgerError } from '../errors';
import { CWT, HASH_ALGS, HEADER } from './labels';
import { decodeSign1, encodeSign1, sigStructureParts, type HeaderMap, type Sign1 } from './sign1';
import { parseX5chain, parseX5t, x5tMatches, type X5t } from './x509';

/**
 * The Signed Statement profile of RFC 9943 (with the hash envelope of
 * draft-ietf-cose-hash-envelope), checked on attacker-supplied bytes. Parsing decodes once and
 * keeps byte fields as views of the input; nothing is re-encoded unless the registered form
 * differs from what was received.
 */

export interface HashEnvelope {
  /** 258: the COSE hash algorithm of the payload (-16 SHA-256, -43 SHA-384, -44 SHA-512). */
  payloadHashAlg: number;
  /** 259: content type of the preimage. */
  preimageContentType?: string | number;
  /** 260: where the preimage can be fetched. */
  payloadLocation?: string;
}

export interface ParsedStatement {
  sign1: Sign1;
  alg: number;
  kid?: Buffer;
  x5chain?: Buffer[];
  x5t?: X5t;
  cwtClaims: Map<unknown, unknown>;
  iss: string;
  sub?: string;
  contentType?: string | number;
  hashEnvelope?: HashEnvelope;
  /** The statement as it enters the log: unprotected header {}, other bytes untouched, tagged. */
  registered: Buffer;
  /** SHA-256(registered): the log entry (and entry id). */
  entryHash: Buffer;
}

export interface StatementOptions {
  /** TOO_LARGE above this, checked before decoding. Default 64 MiB. */
  maxBytes?: number;
  /** Refuse detached payloads (PAYLOAD_MISSING). Default true: registration needs the payload. */
  requireAttachedPayload?: boolean;
  /** Require the CWT `sub` claim (MISSING_SUBJECT). Default true; false for foreign statements. */
  requireSubject?: boolean;
  /**
   * Require a kid, x5t or x5chain (CONFIRMATION_MISSING). Default: only in the full registration
   * profile (requireSubject and requireAttachedPayload both true): the service must find the key
   * from the statement, while a verifier relaxing the profile for foreign statements brings the
   * issuer's key itself (the scitt-cose vectors carry no kid).
   */
  requireConfirmation?: boolean;
  /** Require CBOR tag 18 (default true). */
  requireTag?: boolean;
}

/** Labels this profile understands, for `crit` (RFC 9052 §3.1: unknown critical labels fail). */
const UNDERSTOOD = new Set<unknown>([
  HEADER.alg, HEADER.crit, HEADER.contentType, HEADER.kid, HEADER.cwtClaims, HEADER.x5chain, HEADER.x5t,
  HEADER.payloadHashAlg, HEADER.preimageContentType, HEADER.payloadLocation,
]);

function bad(message: string): never {
  throw coseError('BAD_HEADER', message);
}

function contentTypeOf(v: unknown, what: string): string | number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535) return v;
  return bad(`${what} must be a media type string or a CoAP content-format number`);
}

function checkCrit(ph: HeaderMap): void {
  const crit = ph.get(HEADER.crit);
  if (crit === undefined) return;
  if (!Array.isArray(crit) || crit.length === 0) bad('crit must be a non-empty array of labels');
  for (const l of crit) {
    if (!UNDERSTOOD.has(l)) bad(`critical header parameter ${String(l)} is not understood`);
    if (!ph.has(l as number)) bad(`critical header parameter ${String(l)} is not in the protected header`);
  }
}

function checkClaims(ph: HeaderMap, requireSubject: boolean): { cwt: Map<unknown, unknown>; iss: string; sub?: string } {
  const cwt = ph.get(HEADER.cwtClaims);
  if (cwt === undefined) throw coseError('MISSING_CWT_CLAIMS', 'the protected header has no CWT claims (label 15)');
  if (!(cwt instanceof Map)) bad('CWT claims (label 15) must be a map');
  const iss = cwt.get(CWT.iss);
  if (iss === undefined || iss === '') throw coseError('MISSING_ISSUER', 'the CWT claims have no issuer (iss, claim 1)');
  if (typeof iss !== 'string') bad('iss (claim 1) must be a text string');
  const sub = cwt.get(CWT.sub);
  if (sub === undefined || sub === '') {
    if (requireSubject) throw coseError('MISSING_SUBJECT', 'the CWT claims have no subject (sub, claim 2)');
  } else if (typeof sub !== 'string') {
    bad('sub (claim 2) must be a text string');
  }
  for (const [k, name] of [[CWT.exp, 'exp'], [CWT.nbf, 'nbf'], [CWT.iat, 'iat']] as const) {
    const t = cwt.get(k);
    if (t !== undefined && !(typeof t === 'number' && Number.isFinite(t))) bad(`${name} (claim ${k}) must be a number`);
  }
  return { cwt, iss, sub: typeof sub === 'string' && sub !== '' ? sub : undefined };
}

function checkHashEnvelope(ph: HeaderMap, uh: HeaderMap, payload: Buffer | null): HashEnvelope | undefined {
  for (const l of [HEADER.payloadHashAlg, HEADER.preimageContentType, HEADER.payloadLocation]) {
    if (uh.has(l)) bad(`hash envelope parameter ${l} must be in the protected header`);
  }
  const alg = ph.get(HEADER.payloadHashAlg);
  if (alg === undefined) {
    if (ph.has(HEADER.preimageContentType) || ph.has(HEADER.payloadLocation)) bad('labels 259/260 need payload-hash-alg (258)');
    return undefined;
  }
  const h = typeof alg === 'number' ? HASH_ALGS.get(alg) : undefined;
  if (!h) bad(`payload-hash-alg ${String(alg)} is not supported (-16, -43, -44 are)`);
  if (ph.has(HEADER.contentType)) bad('a hash envelope must not carry content type (3); use 259');
  if (payload !== null && payload.length !== h.length) bad(`the payload is ${payload.length} bytes; a ${h.name} digest is ${h.length}`);
  const env: HashEnvelope = { payloadHashAlg: alg as number };
  const pct = contentTypeOf(ph.get(HEADER.preimageContentType), 'preimage-content-type (259)');
  if (pct !== undefined) env.preimageContentType = pct;
  const loc = ph.get(HEADER.payloadLocation);
  if (loc !== undefined) {
    if (typeof loc !== 'string') bad('payload-location (260) must be a text string');
    env.payloadLocation = loc;
  }
  return env;
}

/**
 * Checks the Signed Statement profile and computes the registered form and entry hash.
 * Does not verify the signature (the key depends on policy): see verifyStatementSignature.
 */
export function parseSignedStatement(bytes: Uint8Array, opts: StatementOptions = {}): ParsedStatement {
  const sign1 = decodeSign1(bytes, { maxBytes: opts.maxBytes ?? 64 * 1024 * 1024, requireTag: opts.requireTag ?? true });
  const ph = sign1.protectedHeader;
  const uh = sign1.unprotectedHeader;

  if (!ph.has(HEADER.alg)) {
    throw coseError('UNSUPPORTED_ALGORITHM', uh.has(HEADER.alg) ? 'alg must be in the protected header' : 'the protected header has no alg');
  }
  const alg = algorithmInfo(ph.get(HEADER.alg)).id;
  checkCrit(ph);
  const contentType = contentTypeOf(ph.get(HEADER.contentType), 'content type (3)');

  const kidV = ph.get(HEADER.kid);
  if (kidV !== undefined && !(kidV instanceof Uint8Array)) bad('kid (4) must be a byte string');
  const uKid = uh.get(HEADER.kid);
  if (uKid !== undefined && !(uKid instanceof Uint8Array)) bad('kid (4) must be a byte string');
  const kid = kidV instanceof Uint8Array && kidV.length > 0 ? (kidV as Buffer) : undefined;

  const chainV = ph.get(HEADER.x5chain) ?? uh.get(HEADER.x5chain);
  const x5chain = chainV === undefined ? undefined : parseX5chain(chainV);
  if (uh.has(HEADER.x5t)) bad('x5t (34) must be in the protected header');
  const x5t = ph.has(HEADER.x5t) ? parseX5t(ph.get(HEADER.x5t)) : undefined;
  if (x5t && x5chain && !x5tMatches(x5t, x5chain[0])) bad('x5t does not match the first certificate of x5chain');

  const { cwt, iss, sub } = checkClaims(ph, opts.requireSubject ?? true);
  const hashEnvelope = checkHashEnvelope(ph, uh, sign1.payload);

  // A key the verifier can find from the registered statement alone: the unprotected header is
  // emptied on registration, so an unprotected kid does not count (an unprotected x5chain is
  // allowed by RFC 9943 and still identifies the key through its certificates).
  const attached = opts.requireAttachedPayload ?? true;
  const confirmation = opts.requireConfirmation ?? (attached && (opts.requireSubject ?? true));
  if (!kid && !x5t && !x5chain && confirmation) {
    throw coseError('CONFIRMATION_MISSING', 'no kid, x5t or x5chain identifies the signing key');
  }
  if (sign1.payload === null && attached) throw coseError('PAYLOAD_MISSING', 'the payload is detached');

  const registered = registeredForm(sign1, bytes);
  const entryHash = sha256Entry(registered);
  const out: ParsedStatement = { sign1, alg, cwtClaims: cwt, iss, registered, entryHash };
  if (kid) out.kid = kid;
  if (x5chain) out.x5chain = x5chain;
  if (x5t) out.x5t = x5t;
  if (sub !== undefined) out.sub = sub;
  if (contentType !== undefined) out.contentType = contentType;
  if (hashEnvelope) out.hashEnvelope = hashEnvelope;
  return out;
}

/**
 * True when `bytes` already is the registered form of `s`: tag 18, a definite 4-array, shortest
 * bstr heads, unprotected `{}` (0xa0). Checked through the offsets of the decoded views, which
 * share the input's memory; then the input itself is the registered statement (no copy).
 */
function isRegisteredForm(bytes: Uint8Array, s: Sign1): boolean {
  const at = (b: Uint8Array) => (b.buffer === bytes.buffer ? b.byteOffset - bytes.byteOffset : -1);
  if (bytes[0] !== 0xd2 || bytes[1] !== 0x84) return false;
  let off = 2 + headLength(s.protectedBytes.length);
  if (at(s.protectedBytes) !== off) return false;
  off += s.protectedBytes.length;
  if (bytes[off++] !== 0xa0) return false;
  if (s.payload === null) {
    if (bytes[off++] !== 0xf6) return false;
  } else {
    off += headLength(s.payload.length);
    if (at(s.payload) !== off) return false;
    off += s.payload.length;
  }
  off += headLength(s.signature.length);
  return at(s.signature) === off && off + s.signature.length === bytes.length;
}

/** The registered form of a decoded statement: same protected, payload and signature bytes, unprotected {}. */
export function registeredForm(s: Sign1, original?: Uint8Array): Buffer {
  if (original && isRegisteredForm(original, s)) return Buffer.isBuffer(original) ? original : Buffer.from(original.buffer, original.byteOffset, original.byteLength);
  return encodeSign1({ protectedBytes: s.protectedBytes, payload: s.payload, signature: s.signature });
}

/** The registered form of statement (or transparent statement) bytes. */
export function registeredBytes(statement: Uint8Array, opts: { requireTag?: boolean; maxBytes?: number } = {}): Buffer {
  return registeredForm(decodeSign1(statement, opts), statement);
}

/** Everything a statement signature check needs, detached from the statement: it can cross threads. */
export interface SignatureJob {
  alg: number;
  /** The candidate keys that fit the algorithm (key rotation: any one may verify). */
  keys: KeyObject[];
  /** The Sig_structure, in parts (head, payload). */
  parts: Uint8Array[];
  signature: Uint8Array;
}

/**
 * The signature check of verifyStatementSignature, prepared but not run. Throws PAYLOAD_MISSING
 * when the payload is detached and not supplied, BAD_STATEMENT_SIGNATURE when no key can apply.
 */
export function statementSignatureJob(st: ParsedStatement, key: KeyObject | readonly KeyObject[], opts: { detachedPayload?: Uint8Array } = {}): SignatureJob {
  const info = algorithmInfo(st.alg);
  const payload = st.sign1.payload ?? opts.detachedPayload;
  if (payload === undefined) throw coseError('PAYLOAD_MISSING', 'the statement payload is detached and was not supplied');
  if (st.sign1.payload !== null && opts.detachedPayload !== undefined && !st.sign1.payload.equals(opts.detachedPayload)) {
    throw coseError('BAD_STATEMENT_SIGNATURE', 'the supplied payload differs from the attached one');
  }
  const keys = (Array.isArray(key) ? (key as readonly KeyObject[]) : [key as KeyObject]).filter((k) => keyFitsAlgorithm(k, info));
  if (keys.length === 0) throw coseError('BAD_STATEMENT_SIGNATURE', `no ${info.name} key is known for issuer ${JSON.stringify(st.iss)}`);
  return { alg: st.alg, keys, parts: sigStructureParts(st.sign1.protectedBytes, Buffer.alloc(0), payload), signature: st.sign1.signature };
}

/** Runs a prepared check: true when any of its keys verifies the signature. */
export function runSignatureJob(job: SignatureJob): boolean {
  const info = algorithmInfo(job.alg);
  for (const k of job.keys) if (verifyWith(info, k, job.parts, job.signature)) return true;
  return false;
}

export function signatureFailure(alg: number): LedgerError<CoseErrorCode> {
  return coseError('BAD_STATEMENT_SIGNATURE', `the ${algorithmInfo(alg).name} statement signature does not verify`);
}

/**
 * Verifies the statement's signature with the issuer's key, or with any of several (key
 * rotation); keys of another type than the algorithm's are skipped. Throws PAYLOAD_MISSING when
 * the payload is detached and not supplied, BAD_STATEMENT_SIGNATURE otherwise.
 */
export function verifyStatementSignature(st: ParsedStatement, key: KeyObject | readonly KeyObject[], opts: { detachedPayload?: Uint8Array } = {}): void {
  const job = statementSignatureJob(st, key, opts);
  if (!runSignatureJob(job)) throw signatureFailure(job.alg);
}
