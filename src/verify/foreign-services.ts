import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { coseKeyThumbprint, importPublicKey } from '../core/cose';

/** Another transparency service whose receipts POST /verify accepts (RFC 9162 or CCF ledgers). */
export interface ForeignService {
  name: string;
  keys: KeyObject[];
  /** hex kid → key: the keys' RFC 9679 thumbprints plus any kid given with the key. */
  byKid: Map<string, KeyObject>;
  /** Verifiable data structures its receipts use: [1] RFC 9162 (default), [2] CCF. */
  vds: number[];
}

/**
 * FOREIGN_SERVICES: a JSON array, inline or in a file:
 * [{"name": "...", "keys": [<PEM string> | <JWK> ...], "kids": ["<hex>"...], "vds": [1]}].
 * `kids` (optional) pairs each key with the kid its receipts carry when that is not its thumbprint.
 */
export function parseForeignServices(value: string | undefined): ForeignService[] {
  if (!value) return [];
  const text = value.trim().startsWith('[') ? value : existsSync(value) ? readFileSync(value, 'utf8') : value;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error('FOREIGN_SERVICES must be a JSON array (inline or in a file)');
  }
  if (!Array.isArray(doc)) throw new Error('FOREIGN_SERVICES must be a JSON array');
  return doc.map((s: any, i) => {
    if (!s || typeof s.name !== 'string' || !Array.isArray(s.keys) || s.keys.length === 0) {
      throw new Error(`FOREIGN_SERVICES[${i}] needs "name" and a non-empty "keys" array`);
    }
    const keys = s.keys.map((k: unknown) => importPublicKey(k as any));
    const byKid = new Map<string, KeyObject>();
    keys.forEach((k: KeyObject, j: number) => {
      byKid.set(coseKeyThumbprint(k).toString('hex'), k);
      const extra = Array.isArray(s.kids) ? s.kids[j] : undefined;
      if (typeof extra === 'string') byKid.set(extra.toLowerCase(), k);
    });
    const vds = s.vds === undefined ? [1] : s.vds;
    if (!Array.isArray(vds) || !vds.every((x: unknown) => x === 1 || x === 2)) throw new Error(`FOREIGN_SERVICES[${i}].vds must be a subset of [1, 2]`);
    return { name: s.name, keys, byKid, vds };
  });
}
