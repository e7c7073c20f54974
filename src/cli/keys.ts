import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { coseKeyThumbprint } from '../core/cose';
import { CliError, EXIT } from './exit-codes';

export const ALGS: Record<string, number> = { ES256: -7, ES384: -35, ES512: -36, EdDSA: -8, PS256: -37 };

export function generateSigningKey(alg: string): KeyObject {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'ES384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    case 'ES512':
      return generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey;
    case 'EdDSA':
      return generateKeyPairSync('ed25519').privateKey;
    case 'PS256':
      return generateKeyPairSync('rsa-pss', { modulusLength: 3072 }).privateKey;
    default:
      throw new CliError(`unknown algorithm ${alg}; one of ${Object.keys(ALGS).join(', ')}`, EXIT.USAGE);
  }
}

/** The COSE algorithm a private key signs with. */
export function algOf(key: KeyObject): number {
  const t = key.asymmetricKeyType;
  if (t === 'ed25519') return -8;
  if (t === 'rsa' || t === 'rsa-pss') return -37;
  if (t === 'ec') {
    const c = key.asymmetricKeyDetails?.namedCurve;
    if (c === 'prime256v1') return -7;
    if (c === 'secp384r1') return -35;
    if (c === 'secp521r1') return -36;
  }
  throw new CliError(`unsupported key type ${t}`, EXIT.USAGE);
}

export function readPrivateKey(path: string): KeyObject {
  try {
    return createPrivateKey(readFileSync(path));
  } catch (e: any) {
    throw new CliError(`cannot read a private key from ${path}: ${e.message}`, EXIT.USAGE);
  }
}

/** The public JWK with its RFC 9679 thumbprint as kid: what `scitt issuer add` registers. */
export function publicJwk(key: KeyObject): Record<string, unknown> {
  const pub = createPublicKey(key);
  return { ...(pub.export({ format: 'jwk' }) as Record<string, unknown>), kid: coseKeyThumbprint(pub).toString('base64url') };
}

export function writePrivateKey(path: string, key: KeyObject): void {
  writeFileSync(path, key.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600, flag: 'wx' });
}

export function sha(alg: number, data: Uint8Array): Buffer {
  const name = alg === -16 ? 'sha256' : alg === -43 ? 'sha384' : alg === -44 ? 'sha512' : undefined;
  if (!name) throw new CliError(`unknown hash algorithm ${alg}`, EXIT.USAGE);
  return createHash(name).update(data).digest();
}
