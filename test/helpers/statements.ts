import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { publicKeyToJwk, signSign1 } from '../../src/core/cose';
import { rsaKeyPair } from './rsa-keys';

export interface TestIssuer {
  iss: string;
  alg: number;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: Record<string, unknown>;
  kid: Buffer;
}

const CURVES: Record<number, string> = { [-7]: 'P-256', [-35]: 'P-384', [-36]: 'P-521' };

export function makeIssuer(iss = `https://issuer-${Math.random().toString(36).slice(2)}.example`, alg = -7): TestIssuer {
  const kp =
    alg === -8
      ? generateKeyPairSync('ed25519')
      : alg === -37
        ? rsaKeyPair('rsa-pss')
        : generateKeyPairSync('ec', { namedCurve: CURVES[alg] });
  const kid = Buffer.from(`${iss}#key-1`);
  const jwk = { ...(publicKeyToJwk(kp.publicKey) as Record<string, unknown>), kid: kid.toString('utf8') };
  return { iss, alg, privateKey: kp.privateKey, publicKey: kp.publicKey, jwk, kid };
}

export interface StatementOptions {
  sub?: string | null;
  payload?: Uint8Array;
  contentType?: string;
  /** Omit label 15 entirely. */
  noCwt?: boolean;
  iss?: string | null;
  detached?: boolean;
  noKid?: boolean;
  unprotected?: Map<number, unknown>;
  extraProtected?: [number, unknown][];
}

export function makeStatement(i: TestIssuer, o: StatementOptions = {}): Buffer {
  const cwt = new Map<number, unknown>();
  if (o.iss !== null) cwt.set(1, o.iss ?? i.iss);
  if (o.sub !== null) cwt.set(2, o.sub ?? 'oci://registry.example/app@sha256:' + 'ab'.repeat(32));
  const h = new Map<number, unknown>([[1, i.alg]]);
  h.set(3, o.contentType ?? 'application/spdx+json');
  if (!o.noKid) h.set(4, i.kid);
  if (!o.noCwt) h.set(15, cwt);
  for (const [k, v] of o.extraProtected ?? []) h.set(k, v);
  const payload = o.payload ?? Buffer.from(JSON.stringify({ sbom: Math.random() }));
  return Buffer.from(signSign1({ protectedHeader: h, unprotectedHeader: o.unprotected, payload, detached: o.detached, key: i.privateKey }));
}
