import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isLedgerError } from '../../../src/core/errors';
import { signSign1 } from '../../../src/core/cose';
import { rsaKeyPair } from '../../helpers/rsa-keys';

// Compiled to dist/test/core/cose: four levels up is the checkout; ../shared sits beside it.
export const REPO = resolve(__dirname, '../../../..');
export const VECTORS = resolve(REPO, '../shared/vectors/scitt-cose-v1');
export const FIXTURES = join(REPO, 'test/fixtures/cose');

export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

export interface Vector {
  id: string;
  dir: string;
  expected: Record<string, any>;
  statement: Buffer;
  receipt: Buffer;
  issuerKeyPem: string;
  logKeyPem: string;
  payload: Buffer;
}

/** Every vector folder (a folder with expected.json), sorted; missing vectors must fail loudly. */
export function loadVectors(): Vector[] {
  assert.ok(existsSync(VECTORS), `scitt-cose vectors not found at ${VECTORS}`);
  return readdirSync(VECTORS)
    .filter((d) => statSync(join(VECTORS, d)).isDirectory() && existsSync(join(VECTORS, d, 'expected.json')))
    .sort()
    .map((id) => {
      const dir = join(VECTORS, id);
      const f = (n: string) => readFileSync(join(dir, n));
      return {
        id,
        dir,
        expected: JSON.parse(f('expected.json').toString('utf8')),
        statement: f('statement.cose'),
        receipt: f('receipt.cose'),
        issuerKeyPem: f('issuer-key.pub').toString('utf8'),
        logKeyPem: f('log-key.pub').toString('utf8'),
        payload: f('payload.bin'),
      };
    });
}

const CURVES: Record<number, string> = { [-7]: 'P-256', [-35]: 'P-384', [-36]: 'P-521' };

export function keyPair(alg: number): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === -8) return generateKeyPairSync('ed25519');
  if (alg === -37) return rsaKeyPair('rsa');
  return generateKeyPairSync('ec', { namedCurve: CURVES[alg] });
}

export const ALGS = [-7, -35, -36, -8, -37];

/** An RSASSA-PSS key pair restricted to `hash` (node's typings get these options wrong). */
export function rsaPss(hash: string, saltLength: number): { privateKey: KeyObject; publicKey: KeyObject } {
  return rsaKeyPair('rsa-pss', { modulusLength: 2048, hashAlgorithm: hash, mgf1HashAlgorithm: hash, saltLength });
}

export interface StatementParts {
  alg?: number;
  kid?: Uint8Array | null;
  iss?: string | null;
  sub?: string | null;
  cwt?: Map<number, unknown> | null;
  contentType?: string | number | null;
  payload?: Uint8Array;
  detached?: boolean;
  extra?: [number, unknown][];
  unprotected?: Map<number, unknown>;
}

/** A Signed Statement with sensible defaults; `null` removes a field. */
export function makeStatement(key: KeyObject, o: StatementParts = {}): Buffer {
  const h = new Map<number, unknown>([[1, o.alg ?? -7]]);
  if (o.contentType !== null) h.set(3, o.contentType ?? 'application/json');
  if (o.kid !== null) h.set(4, o.kid ?? Buffer.from('issuer-key-1'));
  if (o.cwt !== null) {
    const cwt = o.cwt ?? new Map<number, unknown>();
    if (o.iss !== null && !cwt.has(1)) cwt.set(1, o.iss ?? 'https://issuer.example');
    if (o.sub !== null && !cwt.has(2)) cwt.set(2, o.sub ?? 'oci://registry.example/app@sha256:' + 'ab'.repeat(32));
    h.set(15, cwt);
  }
  for (const [k, v] of o.extra ?? []) h.set(k, v);
  return signSign1({ protectedHeader: h, unprotectedHeader: o.unprotected, payload: o.payload ?? Buffer.from('{"sbom":true}'), detached: o.detached, key });
}

/** Asserts that `f` throws a LedgerError with `code` (and returns it). */
export function throwsCode(f: () => unknown, code: string): Error {
  try {
    f();
  } catch (e) {
    assert.ok(isLedgerError(e), `expected LedgerError ${code}, got ${(e as Error)?.stack ?? e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected LedgerError ${code}, nothing was thrown`);
}
