import * as crypto from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { coseError } from './errors';

/** COSE algorithm identifiers (IANA "COSE Algorithms") this code signs and verifies. */
export const ALG = { ES256: -7, ES384: -35, ES512: -36, EdDSA: -8, PS256: -37 } as const;
export type AlgorithmName = keyof typeof ALG;

export interface AlgorithmInfo {
  id: number;
  name: AlgorithmName;
  /** Digest for node:crypto; null for EdDSA (Ed25519 hashes internally). */
  hash: 'sha256' | 'sha384' | 'sha512' | null;
  family: 'ecdsa' | 'eddsa' | 'rsa-pss';
  /** OpenSSL curve name the key must be on (ECDSA). */
  curve?: string;
  /** Exact signature length where the algorithm fixes it (ECDSA r||s, Ed25519). */
  sigLength?: number;
}

const TABLE = new Map<number, AlgorithmInfo>([
  [-7, { id: -7, name: 'ES256', hash: 'sha256', family: 'ecdsa', curve: 'prime256v1', sigLength: 64 }],
  [-35, { id: -35, name: 'ES384', hash: 'sha384', family: 'ecdsa', curve: 'secp384r1', sigLength: 96 }],
  [-36, { id: -36, name: 'ES512', hash: 'sha512', family: 'ecdsa', curve: 'secp521r1', sigLength: 132 }],
  [-8, { id: -8, name: 'EdDSA', hash: null, family: 'eddsa', sigLength: 64 }],
  [-37, { id: -37, name: 'PS256', hash: 'sha256', family: 'rsa-pss' }],
]);

/** RSA keys below this size are refused for PS256 (NIST SP 800-131A). */
export const MIN_RSA_BITS = 2048;

export function isSupportedAlgorithm(alg: unknown): alg is number {
  return typeof alg === 'number' && TABLE.has(alg);
}

/** The algorithm's parameters; UNSUPPORTED_ALGORITHM for anything else (text algs included). */
export function algorithmInfo(alg: unknown): AlgorithmInfo {
  const info = typeof alg === 'number' ? TABLE.get(alg) : undefined;
  if (!info) {
    const shown = alg === undefined ? 'none' : typeof alg === 'string' ? JSON.stringify(alg) : String(alg);
    throw coseError('UNSUPPORTED_ALGORITHM', `algorithm ${shown} is not supported (ES256, ES384, ES512, EdDSA, PS256 are)`, { alg: shown });
  }
  return info;
}

interface KeyInfo {
  type: string | undefined;
  curve?: string;
  bits?: number;
  pssHash?: string;
  pssMgf1Hash?: string;
  pssSaltLength?: number;
}

// asymmetricKeyDetails builds a fresh object on every read; the hot path asks once per key.
const keyInfos = new WeakMap<KeyObject, KeyInfo>();

function keyInfo(key: KeyObject): KeyInfo {
  let k = keyInfos.get(key);
  if (!k) {
    const d = key.asymmetricKeyDetails ?? {};
    k = {
      type: key.asymmetricKeyType,
      curve: d.namedCurve,
      bits: d.modulusLength,
      pssHash: d.hashAlgorithm,
      pssMgf1Hash: d.mgf1HashAlgorithm,
      pssSaltLength: d.saltLength,
    };
    keyInfos.set(key, k);
  }
  return k;
}

/** Can `key` make or check `info` signatures? (P-256 for ES256, Ed25519 for EdDSA, RSA >= 2048 for PS256.) */
export function keyFitsAlgorithm(key: KeyObject, info: AlgorithmInfo): boolean {
  if (key.type === 'secret') return false;
  const k = keyInfo(key);
  switch (info.family) {
    case 'ecdsa':
      return k.type === 'ec' && k.curve === info.curve;
    case 'eddsa':
      return k.type === 'ed25519';
    case 'rsa-pss':
      if (k.type !== 'rsa' && k.type !== 'rsa-pss') return false;
      if ((k.bits ?? 0) < MIN_RSA_BITS) return false;
      // An RSASSA-PSS key may restrict its parameters; they must allow SHA-256 with a 32-byte salt.
      if (k.type === 'rsa-pss' && k.pssHash !== undefined) {
        return k.pssHash === 'sha256' && (k.pssMgf1Hash ?? 'sha256') === 'sha256' && (k.pssSaltLength ?? 0) <= 32;
      }
      return true;
  }
}

export function assertKeyFits(key: KeyObject, info: AlgorithmInfo): void {
  if (!keyFitsAlgorithm(key, info)) {
    const k = keyInfo(key);
    throw coseError('KEY_ALG_MISMATCH', `a ${k.type}${k.curve ? ` ${k.curve}` : ''}${k.bits ? ` ${k.bits}-bit` : ''} key cannot be used with ${info.name}`, {
      alg: info.id,
    });
  }
}

/** The COSE algorithm a key naturally signs with (ES256 for P-256, PS256 for RSA, ...). */
export function algorithmForKey(key: KeyObject): number {
  for (const info of TABLE.values()) if (keyFitsAlgorithm(key, info)) return info.id;
  const k = keyInfo(key);
  throw coseError('KEY_ALG_MISMATCH', `no supported COSE algorithm for a ${k.type}${k.curve ? ` ${k.curve}` : ''} key`);
}

function keyOptions(info: AlgorithmInfo, key: KeyObject): crypto.SignKeyObjectInput | crypto.VerifyKeyObjectInput {
  if (info.family === 'ecdsa') return { key, dsaEncoding: 'ieee-p1363' };
  if (info.family === 'rsa-pss') return { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  return { key } as crypto.VerifyKeyObjectInput;
}

/** Signs `data` with a private key that must fit the algorithm (KEY_ALG_MISMATCH otherwise). */
export function signWith(info: AlgorithmInfo, key: KeyObject, data: Uint8Array): Buffer {
  if (key.type !== 'private') throw coseError('KEY_ALG_MISMATCH', 'signing needs a private key');
  assertKeyFits(key, info);
  return crypto.sign(info.hash, data, keyOptions(info, key) as crypto.SignKeyObjectInput);
}

// Above this size the parts are streamed into the digest rather than concatenated (EdDSA has no
// streaming interface: Ed25519 hashes the message twice, so it always gets one buffer).
const STREAM_THRESHOLD = 256 * 1024;

/**
 * Verifies a signature over the concatenation of `parts`. Returns false (never throws) for a
 * signature that does not verify, has the wrong length, or a key that does not fit the algorithm.
 */
export function verifyWith(info: AlgorithmInfo, key: KeyObject, parts: Uint8Array[], sig: Uint8Array): boolean {
  if (!keyFitsAlgorithm(key, info)) return false;
  if (info.sigLength !== undefined && sig.length !== info.sigLength) return false;
  if (info.family === 'rsa-pss' && sig.length !== Math.ceil((keyInfo(key).bits ?? 0) / 8)) return false;
  const opts = keyOptions(info, key);
  try {
    let total = 0;
    for (const p of parts) total += p.length;
    if (info.hash !== null && total > STREAM_THRESHOLD) {
      const v = crypto.createVerify(info.hash);
      for (const p of parts) v.update(p);
      return v.verify(opts as crypto.VerifyKeyObjectInput, sig);
    }
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
    return crypto.verify(info.hash, data, opts as crypto.VerifyKeyObjectInput, sig);
  } catch {
    // OpenSSL refuses some malformed signatures with an exception rather than `false`.
    return false;
  }
}
