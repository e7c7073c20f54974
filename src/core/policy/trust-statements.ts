import type { KeyObject } from 'node:crypto';
import { signSign1, type ParsedStatement } from '../cose';
import { LedgerError } from '../errors';
import { normalisePolicy, type RegistrationPolicy } from './registration-policy';

/**
 * Changes to issuer trust and to the registration policy are themselves Signed Statements made
 * by the service and appended to the log, so an auditor can replay every registration decision
 * from the log alone. These are their content types and subjects.
 */
export const ISSUER_CHANGE_TYPE = 'application/vnd.scitt-ledger.issuer-change+json';
export const POLICY_CHANGE_TYPE = 'application/vnd.scitt-ledger.policy+json';
export const POLICY_SUBJECT = 'urn:scitt-ledger:policy';
export const issuerSubject = (iss: string) => `urn:scitt-ledger:issuer:${iss}`;

/** entries.kind */
export const ENTRY_KIND = { claim: 0, issuerChange: 1, policyChange: 2 } as const;

export type TrustChange =
  | { type: 'issuer'; action: 'add'; iss: string; keys: Record<string, unknown>[] }
  | { type: 'issuer'; action: 'remove'; iss: string }
  | { type: 'policy'; policy: RegistrationPolicy };

/** JSON with object keys sorted, so the same change always yields the same payload bytes. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export interface ServiceSigner {
  issuer: string;
  kid: Uint8Array;
  key: KeyObject;
}

export function signTrustChange(change: TrustChange, s: ServiceSigner, at = new Date()): Buffer {
  const isPolicy = change.type === 'policy';
  const payload = isPolicy ? change.policy : change.action === 'add' ? { action: 'add', iss: change.iss, keys: change.keys } : { action: 'remove', iss: change.iss };
  const cwt = new Map<number, unknown>([
    [1, s.issuer],
    [2, isPolicy ? POLICY_SUBJECT : issuerSubject(change.iss)],
    [6, Math.floor(at.getTime() / 1000)],
  ]);
  const protectedHeader = new Map<number, unknown>([
    [1, -7],
    [3, isPolicy ? POLICY_CHANGE_TYPE : ISSUER_CHANGE_TYPE],
    [4, s.kid],
    [15, cwt],
  ]);
  return Buffer.from(signSign1({ protectedHeader, payload: Buffer.from(canonicalJson(payload)), key: s.key }));
}

/**
 * Reads a trust change out of a statement the service signed. Returns undefined for anything that
 * is not one (ordinary claims). The caller must already have verified the service's signature.
 */
export function readTrustChange(st: ParsedStatement, serviceIssuer: string): TrustChange | undefined {
  if (st.iss !== serviceIssuer) return undefined;
  const ct = st.contentType;
  if (ct !== ISSUER_CHANGE_TYPE && ct !== POLICY_CHANGE_TYPE) return undefined;
  const payload = st.sign1.payload;
  if (!payload) throw new LedgerError('BAD_TRUST_CHANGE', 'trust change without payload');
  let doc: any;
  try {
    doc = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new LedgerError('BAD_TRUST_CHANGE', 'trust change payload is not JSON');
  }
  if (ct === POLICY_CHANGE_TYPE) return { type: 'policy', policy: normalisePolicy(doc) };
  if (doc?.action === 'add' && typeof doc.iss === 'string' && Array.isArray(doc.keys)) return { type: 'issuer', action: 'add', iss: doc.iss, keys: doc.keys };
  if (doc?.action === 'remove' && typeof doc.iss === 'string') return { type: 'issuer', action: 'remove', iss: doc.iss };
  throw new LedgerError('BAD_TRUST_CHANGE', 'unrecognised issuer change');
}
