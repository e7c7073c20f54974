/**
 * C2SP signed-note Ed25519 keys in the string formats of Go's golang.org/x/mod/sumdb/note:
 *   verifier: <name>+<8 hex key ID>+<base64(0x01 || 32-byte public key)>
 *   signer:   PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || 32-byte seed)>
 * key ID = first 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || public key).
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { noteError } from './errors';
import { decodeBase64Strict, isValidKeyName } from './text';

const ALG_ED25519 = 0x01;
// DER prefixes that turn a raw 32-byte Ed25519 seed / public key into PKCS#8 / SPKI.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export interface NoteSigner {
  readonly name: string;
  /** 32-bit key ID. */
  readonly keyId: number;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  /** Ed25519 signature (64 bytes) over msg. The private key never leaves the closure. */
  sign(msg: Uint8Array): Buffer;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(msg: Uint8Array, sig: Uint8Array): boolean;
}

/** The key ID of an Ed25519 key: SHA-256(name || "\n" || 0x01 || pub)[:4], big-endian. */
export function noteKeyId(name: string, publicKey: Uint8Array): number {
  return createHash('sha256').update(name, 'utf8').update('\n').update(Buffer.from([ALG_ED25519])).update(publicKey).digest().readUInt32BE(0);
}

const hex8 = (id: number) => id.toString(16).padStart(8, '0');

function badKey(message: string): never {
  // Never echo the key string: it may be a private key.
  throw noteError('BAD_KEY', message);
}

function publicKeyObject(pub: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, pub]), format: 'der', type: 'spki' });
}

function signerFromSeed(name: string, seed: Uint8Array): NoteSigner {
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
  return Object.freeze({
    name,
    keyId: noteKeyId(name, publicKey),
    publicKey: Buffer.from(publicKey),
    sign: (msg: Uint8Array) => sign(null, msg, priv),
  });
}

/** A verifier for a raw Ed25519 public key under `name`. */
export function ed25519Verifier(name: string, publicKey: Uint8Array): NoteVerifier {
  if (!isValidKeyName(name)) badKey('invalid key name');
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) badKey('Ed25519 public keys are 32 bytes');
  const key = publicKeyObject(publicKey);
  return Object.freeze({
    name,
    keyId: noteKeyId(name, publicKey),
    verify: (msg: Uint8Array, sig: Uint8Array) => sig.length === 64 && verify(null, msg, key, sig),
  });
}

/** Encodes a verifier key string for a raw Ed25519 public key (Go's NewEd25519VerifierKey). */
export function ed25519VerifierKey(name: string, publicKey: Uint8Array): string {
  const v = ed25519Verifier(name, publicKey);
  return `${name}+${hex8(v.keyId)}+${Buffer.concat([Buffer.from([ALG_ED25519]), publicKey]).toString('base64')}`;
}

/** Generates a fresh Ed25519 key pair for `name`. The signer key is secret: store it 0600. */
export function generateNoteKey(name: string): { signerKey: string; verifierKey: string } {
  if (!isValidKeyName(name)) badKey('invalid key name: it must be non-empty, without spaces or "+"');
  const seed = randomBytes(32);
  const s = signerFromSeed(name, seed);
  const signerKey = `PRIVATE+KEY+${name}+${hex8(s.keyId)}+${Buffer.concat([Buffer.from([ALG_ED25519]), seed]).toString('base64')}`;
  seed.fill(0);
  return { signerKey, verifierKey: verifierKeyFromSigner(s) };
}

/** The public verifier key string matching a signer. */
export function verifierKeyFromSigner(signer: NoteSigner): string {
  return ed25519VerifierKey(signer.name, signer.publicKey);
}

/** Splits "<name>+<hex id>+<base64 key>" and checks everything but the algorithm payload. */
function splitKey(s: string): { name: string; keyId: number; alg: number; key: Buffer } {
  const a = s.indexOf('+');
  const b = a < 0 ? -1 : s.indexOf('+', a + 1);
  if (b < 0) badKey('malformed key: want <name>+<hex id>+<base64>');
  const name = s.slice(0, a);
  const id = s.slice(a + 1, b);
  const raw = decodeBase64Strict(s.slice(b + 1));
  if (!isValidKeyName(name)) badKey('malformed key: invalid name');
  if (!/^[0-9a-f]{8}$/.test(id)) badKey('malformed key: key ID must be 8 lowercase hex digits');
  if (!raw || raw.length === 0) badKey('malformed key: bad base64');
  return { name, keyId: parseInt(id, 16), alg: raw[0], key: raw.subarray(1) };
}

/** Parses a verifier key string. Throws BAD_KEY on any malformation or key ID mismatch. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  if (typeof vkey !== 'string' || vkey.length > 1024) badKey('malformed verifier key');
  const k = splitKey(vkey);
  if (k.alg !== ALG_ED25519) badKey(`unknown key algorithm ${k.alg}`);
  if (k.key.length !== 32) badKey('Ed25519 public keys are 32 bytes');
  const v = ed25519Verifier(k.name, k.key);
  if (v.keyId !== k.keyId) badKey('key ID does not match the key');
  return v;
}

/** Parses a signer key string (PRIVATE+KEY+...). Throws BAD_KEY; the message never contains the key. */
export function parseSignerKey(skey: string): NoteSigner {
  if (typeof skey !== 'string' || skey.length > 1024 || !skey.startsWith('PRIVATE+KEY+')) badKey('malformed signer key');
  const k = splitKey(skey.slice('PRIVATE+KEY+'.length));
  if (k.alg !== ALG_ED25519) badKey(`unknown key algorithm ${k.alg}`);
  if (k.key.length !== 32) badKey('Ed25519 seeds are 32 bytes');
  const s = signerFromSeed(k.name, k.key);
  // The ID is of the public key, so it can only be checked after deriving it.
  if (s.keyId !== k.keyId) badKey('key ID does not match the key');
  return s;
}
