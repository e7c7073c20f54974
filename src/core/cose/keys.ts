import * as crypto from 'node:crypto';
import { KeyObject, X509Certificate } from 'node:crypto';
import { decodeCbor, encodeCbor } from '../cbor';
import { isLedgerError } from '../errors';
import { rsaPublicComponents } from './der';
import { coseError } from './errors';

/**
 * Keys in every form the ledger meets them: COSE_Key (RFC 9052 §7, as a Map, as CBOR bytes, or
 * as JSON with integer-string labels and base64url byte strings), JWK (RFC 7517), PEM/DER SPKI,
 * PEM private keys, and X.509 certificates. Everything is normalised through JWK because that is
 * the one structured format node:crypto imports and exports for all our key types.
 */
export type KeyInput = KeyObject | X509Certificate | Map<unknown, unknown> | Uint8Array | string | Record<string, unknown>;

/** COSE_Key labels (RFC 9052 §7.1, RFC 9053 §7). */
export const COSE_KEY = { kty: 1, kid: 2, alg: 3, crv: -1, x: -2, y: -3, d: -4, n: -1, e: -2, rsaD: -3 } as const;
const KTY = { OKP: 1, EC2: 2, RSA: 3 } as const;
const EC2_CURVES: Record<number, { jwk: string; size: number }> = { 1: { jwk: 'P-256', size: 32 }, 2: { jwk: 'P-384', size: 48 }, 3: { jwk: 'P-521', size: 66 } };
const OKP_CURVES: Record<number, { jwk: string; size: number }> = { 6: { jwk: 'Ed25519', size: 32 } };
const RSA_PRIVATE: [number, string][] = [[-3, 'd'], [-4, 'p'], [-5, 'q'], [-6, 'dp'], [-7, 'dq'], [-8, 'qi']];

type Jwk = crypto.JsonWebKey & Record<string, unknown>;

const badKey = (message: string) => coseError('BAD_KEY', message);
const B64URL = /^[A-Za-z0-9_-]*$/;

function b64(v: unknown, what: string, size?: number): Buffer {
  if (typeof v !== 'string' || !B64URL.test(v)) throw badKey(`${what} must be a base64url string`);
  const b = Buffer.from(v, 'base64url');
  if (size !== undefined && b.length !== size) throw badKey(`${what} must be ${size} bytes, not ${b.length}`);
  if (b.length === 0) throw badKey(`${what} is empty`);
  return b;
}

function bytes(v: unknown, what: string, size?: number): Buffer {
  if (!(v instanceof Uint8Array)) throw badKey(`${what} must be a byte string`);
  if (size !== undefined && v.length !== size) throw badKey(`${what} must be ${size} bytes, not ${v.length}`);
  if (v.length === 0) throw badKey(`${what} is empty`);
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** COSE_Key (Map with integer labels) → JWK with only the members node needs. */
function coseKeyToJwk(m: Map<unknown, unknown>, withPrivate: boolean): Jwk {
  const kty = m.get(COSE_KEY.kty);
  const enc = (v: unknown, what: string, size?: number) => bytes(v, what, size).toString('base64url');
  if (kty === KTY.EC2 || kty === KTY.OKP) {
    const curves = kty === KTY.EC2 ? EC2_CURVES : OKP_CURVES;
    const crv = curves[m.get(COSE_KEY.crv) as number];
    if (!crv) throw badKey(`unsupported COSE_Key curve ${String(m.get(COSE_KEY.crv))} for kty ${kty}`);
    const jwk: Jwk = { kty: kty === KTY.EC2 ? 'EC' : 'OKP', crv: crv.jwk, x: enc(m.get(COSE_KEY.x), 'x', crv.size) };
    if (kty === KTY.EC2) {
      const y = m.get(COSE_KEY.y);
      // Point compression (y as a bool) is legal COSE but node cannot import it from JWK.
      if (typeof y === 'boolean') throw badKey('compressed EC2 points are not supported');
      jwk.y = enc(y, 'y', crv.size);
    }
    if (withPrivate) jwk.d = enc(m.get(COSE_KEY.d), 'd', crv.size);
    return jwk;
  }
  if (kty === KTY.RSA) {
    const jwk: Jwk = { kty: 'RSA', n: enc(m.get(COSE_KEY.n), 'n'), e: enc(m.get(COSE_KEY.e), 'e') };
    if (withPrivate) for (const [label, name] of RSA_PRIVATE) jwk[name] = enc(m.get(label), name);
    return jwk;
  }
  throw badKey(`unsupported COSE_Key kty ${String(kty)}`);
}

/** A JWK checked member by member; returns a copy with only the members node needs. */
function cleanJwk(j: Record<string, unknown>, withPrivate: boolean): Jwk {
  if (j.kty === 'EC' || j.kty === 'OKP') {
    const curves = j.kty === 'EC' ? EC2_CURVES : OKP_CURVES;
    const crv = Object.values(curves).find((c) => c.jwk === j.crv);
    if (!crv) throw badKey(`unsupported JWK curve ${String(j.crv)} for kty ${j.kty}`);
    const out: Jwk = { kty: j.kty, crv: crv.jwk, x: b64(j.x, 'x', crv.size).toString('base64url') };
    if (j.kty === 'EC') out.y = b64(j.y, 'y', crv.size).toString('base64url');
    if (withPrivate) out.d = b64(j.d, 'd', crv.size).toString('base64url');
    return out;
  }
  if (j.kty === 'RSA') {
    const out: Jwk = { kty: 'RSA', n: b64(j.n, 'n').toString('base64url'), e: b64(j.e, 'e').toString('base64url') };
    if (withPrivate) for (const [, name] of RSA_PRIVATE) out[name] = b64(j[name], name).toString('base64url');
    return out;
  }
  throw badKey(`unsupported JWK kty ${String(j.kty)}`);
}

/** COSE_Key written as JSON: {"1": 2, "-1": 1, "-2": "<base64url>", ...}. */
function coseJsonToMap(o: Record<string, unknown>): Map<number, unknown> {
  const m = new Map<number, unknown>();
  for (const [k, v] of Object.entries(o)) {
    if (!/^-?[0-9]+$/.test(k)) throw badKey(`COSE_Key JSON label "${k}" is not an integer`);
    m.set(Number(k), typeof v === 'string' && Number(k) !== COSE_KEY.kty ? b64(v, `label ${k}`) : v);
  }
  return m;
}

function isCoseJson(o: Record<string, unknown>): boolean {
  return Object.keys(o).length > 0 && Object.keys(o).every((k) => /^-?[0-9]+$/.test(k));
}

/** Input → JWK (or a ready KeyObject for PEM/DER/certificate inputs). */
function normalise(input: KeyInput, withPrivate: boolean): Jwk | KeyObject {
  if (input instanceof KeyObject) return input;
  if (input instanceof X509Certificate) return input.publicKey;
  if (input instanceof Map) return coseKeyToJwk(input, withPrivate);
  if (typeof input === 'string') {
    const s = input.trim();
    if (s.startsWith('{')) return normalise(JSON.parse(s) as Record<string, unknown>, withPrivate);
    if (s.includes('-----BEGIN CERTIFICATE')) return new X509Certificate(s).publicKey;
    if (s.includes('-----BEGIN')) return withPrivate ? crypto.createPrivateKey(s) : crypto.createPublicKey(s);
    throw badKey('a key string must be PEM or JSON');
  }
  if (input instanceof Uint8Array) {
    if (input[0] === 0x30) {
      // DER: a SubjectPublicKeyInfo, else a certificate.
      const der = Buffer.from(input);
      try {
        return crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
      } catch {
        return new X509Certificate(der).publicKey;
      }
    }
    const m = decodeCbor(input, { maxBytes: 64 * 1024, maxDepth: 4 });
    if (!(m instanceof Map)) throw badKey('COSE_Key bytes must encode a map');
    return coseKeyToJwk(m, withPrivate);
  }
  if (input && typeof input === 'object') {
    if (typeof input.kty === 'string') return cleanJwk(input, withPrivate);
    if (isCoseJson(input)) return coseKeyToJwk(coseJsonToMap(input), withPrivate);
  }
  throw badKey('unrecognised key format (expected JWK, COSE_Key, PEM, DER or a certificate)');
}

const SUPPORTED = (k: KeyObject) =>
  k.asymmetricKeyType === 'ed25519' ||
  k.asymmetricKeyType === 'rsa' ||
  k.asymmetricKeyType === 'rsa-pss' ||
  (k.asymmetricKeyType === 'ec' && ['prime256v1', 'secp384r1', 'secp521r1'].includes(k.asymmetricKeyDetails?.namedCurve ?? ''));

// Imported keys are cached by their canonical JWK: importing is ~20 µs, and trust state,
// key sets and CLI verification import the same few keys over and over.
const cache = new Map<string, KeyObject>();
const derivedPublic = new WeakMap<KeyObject, KeyObject>();
const CACHE_MAX = 1024;

function remember(id: string, make: () => KeyObject): KeyObject {
  let k = cache.get(id);
  if (!k) {
    k = make();
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(id, k);
  }
  return k;
}

function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    // Whatever went wrong inside (CBOR, JSON, OpenSSL), the caller handed us a bad key.
    if (isLedgerError(e) && e.code === 'BAD_KEY') throw e;
    throw badKey(`cannot import key: ${(e as Error)?.message ?? e}`);
  }
}

/** A public KeyObject from any supported form (a private key yields its public half). BAD_KEY otherwise. */
export function importPublicKey(input: KeyInput): KeyObject {
  return guard(() => {
    const n = normalise(input, false);
    let key: KeyObject;
    if (n instanceof KeyObject) {
      if (n.type === 'secret') throw badKey('a secret key is not a public key');
      if (n.type === 'public') key = n;
      else {
        key = derivedPublic.get(n) ?? crypto.createPublicKey(n);
        derivedPublic.set(n, key);
      }
    } else {
      key = remember(`pub:${JSON.stringify(n)}`, () => crypto.createPublicKey({ key: n, format: 'jwk' }));
    }
    if (!SUPPORTED(key)) throw badKey(`unsupported key type ${key.asymmetricKeyType}`);
    return key;
  });
}

/** A private KeyObject from PEM, a JWK with `d`, or a COSE_Key with `d` (-4; RSA -3..-8). */
export function importPrivateKey(input: KeyInput): KeyObject {
  return guard(() => {
    const n = normalise(input, true);
    const key = n instanceof KeyObject ? n : crypto.createPrivateKey({ key: n, format: 'jwk' });
    if (key.type !== 'private') throw badKey('not a private key');
    if (!SUPPORTED(key)) throw badKey(`unsupported key type ${key.asymmetricKeyType}`);
    return key;
  });
}

/** The public JWK members of a key (RSASSA-PSS keys included, which node cannot export as JWK). */
function publicJwkOf(key: KeyObject): Jwk {
  const pub = importPublicKey(key);
  if (pub.asymmetricKeyType === 'rsa-pss') {
    const { n, e } = rsaPublicComponents(pub.export({ type: 'spki', format: 'der' }));
    return { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') };
  }
  return cleanJwk(pub.export({ format: 'jwk' }) as Record<string, unknown>, false);
}

/** RFC 9679 §3: only the required parameters, by key type, as a COSE_Key Map. */
function requiredParams(jwk: Jwk): Map<number, unknown> {
  if (jwk.kty === 'RSA') return new Map<number, unknown>([[COSE_KEY.kty, KTY.RSA], [COSE_KEY.n, b64(jwk.n, 'n')], [COSE_KEY.e, b64(jwk.e, 'e')]]);
  const ec = jwk.kty === 'EC';
  const [crv] = Object.entries(ec ? EC2_CURVES : OKP_CURVES).find(([, c]) => c.jwk === jwk.crv)!;
  const m = new Map<number, unknown>([[COSE_KEY.kty, ec ? KTY.EC2 : KTY.OKP], [COSE_KEY.crv, Number(crv)], [COSE_KEY.x, b64(jwk.x, 'x')]]);
  if (ec) m.set(COSE_KEY.y, b64(jwk.y, 'y'));
  return m;
}

export interface CoseKeyOptions {
  kid?: Uint8Array;
  alg?: number;
}

/** The public COSE_Key of a key as a Map (kty, kid, alg, curve/coordinates or n/e). */
export function publicKeyToCoseKeyMap(key: KeyInput, opts: CoseKeyOptions = {}): Map<number, unknown> {
  const m = requiredParams(publicJwkOf(importPublicKey(key)));
  if (opts.kid !== undefined) m.set(COSE_KEY.kid, Buffer.from(opts.kid));
  if (opts.alg !== undefined) m.set(COSE_KEY.alg, opts.alg);
  return m;
}

/** The public COSE_Key, deterministically encoded (what /.well-known/scitt-keys serves). */
export function publicKeyToCoseKey(key: KeyInput, opts: CoseKeyOptions = {}): Buffer {
  return encodeCbor(publicKeyToCoseKeyMap(key, opts));
}

/** The public JWK of a key; a byte-string kid is written base64url. */
export function publicKeyToJwk(key: KeyInput, opts: { kid?: string | Uint8Array; alg?: string } = {}): crypto.JsonWebKey {
  const jwk: Jwk = publicJwkOf(importPublicKey(key));
  if (opts.kid !== undefined) jwk.kid = typeof opts.kid === 'string' ? opts.kid : Buffer.from(opts.kid).toString('base64url');
  if (opts.alg !== undefined) jwk.alg = opts.alg;
  return jwk;
}

/**
 * RFC 9679 COSE Key Thumbprint: SHA-256 over the deterministic encoding of the key's required
 * parameters only (kty and crv/x/y, or kty/n/e), so kid, alg or a private part never change it.
 */
export function coseKeyThumbprint(key: KeyInput): Buffer {
  return crypto.createHash('sha256').update(encodeCbor(requiredParams(publicJwkOf(importPublicKey(key))))).digest();
}

/** RFC 9679 §5.6 thumbprint URI: urn:ietf:params:oauth:ckt:sha-256:<base64url>. */
export function coseKeyThumbprintUri(key: KeyInput): string {
  return `urn:ietf:params:oauth:ckt:sha-256:${coseKeyThumbprint(key).toString('base64url')}`;
}
