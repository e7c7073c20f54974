import type { KeyObject } from 'node:crypto';
import { decodeCbor } from '../core/cbor';
import { coseKeyThumbprint, importPublicKey } from '../core/cose';
import { parseVerifierKey, type NoteVerifier } from '../core/note';
import { auditError } from './replay-types';

/**
 * The service keys the auditor trusts to sign issuer and policy changes: a COSE_KeySet pinned
 * once (from --keys, or fetched on the first run) and kept in the state directory, so a service
 * that later swaps its key cannot rewrite trust history unnoticed.
 */
export interface ServiceKeySet {
  /** The COSE_KeySet bytes as pinned. */
  bytes: Buffer;
  /** By kid (hex): the COSE_Key's kid (label 2) and its RFC 9679 thumbprint. */
  byKid: Map<string, KeyObject>;
}

export function parseServiceKeySet(bytes: Uint8Array, what = 'the service key set'): ServiceKeySet {
  let v: unknown;
  try {
    v = decodeCbor(bytes, { maxDepth: 8 });
  } catch (e: any) {
    throw auditError('BAD_USAGE', `${what} is not CBOR: ${e?.message ?? e}`);
  }
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.length > 64) throw auditError('BAD_USAGE', `${what} must hold 1 to 64 COSE_Keys`);
  const byKid = new Map<string, KeyObject>();
  for (const k of list) {
    if (!(k instanceof Map)) throw auditError('BAD_USAGE', `${what} holds something other than COSE_Keys`);
    let key: KeyObject;
    try {
      key = importPublicKey(k);
    } catch (e: any) {
      throw auditError('BAD_USAGE', `${what} holds a key that does not import: ${e?.message ?? e}`);
    }
    const kid = k.get(2);
    if (kid instanceof Uint8Array && kid.length > 0) byKid.set(Buffer.from(kid).toString('hex'), key);
    // The service's kids are thumbprints; accept them even when a key set omits label 2.
    byKid.set(coseKeyThumbprint(key).toString('hex'), key);
  }
  return { bytes: Buffer.from(bytes), byKid };
}

/** A C2SP verifier key given inline or as a file's content (first non-empty line). */
export function parseVkey(text: string): NoteVerifier {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  try {
    return parseVerifierKey(line ?? '');
  } catch (e: any) {
    throw auditError('BAD_USAGE', `--vkey is not a note verifier key (<name>+<hex id>+<base64>): ${e?.message ?? e}`);
  }
}
