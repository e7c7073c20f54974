import { parseSignedStatement, verifyStatementSignature, type ParsedStatement } from '../core/cose';
import { isLedgerError } from '../core/errors';
import { ISSUER_CHANGE_TYPE, normalisePolicy, POLICY_CHANGE_TYPE, readTrustChange, TrustState, type RegistrationPolicy, type TrustChange } from '../core/policy';
import type { ServiceKeySet } from './replay-keys';
import type { Finding } from './replay-types';

/** Trust state as JSON: what the state file keeps and what workers are started with. */
export interface SerialTrust {
  policy: RegistrationPolicy;
  issuers: { iss: string; keys: Record<string, unknown>[] }[];
}

export function serialiseTrust(t: TrustState): SerialTrust {
  return { policy: t.policy, issuers: [...t.issuers.values()].map((i) => ({ iss: i.iss, keys: i.keys })) };
}

export function restoreTrust(s: SerialTrust): TrustState {
  const t = new TrustState(normalisePolicy(s.policy));
  for (const i of s.issuers) t.setIssuer(i.iss, i.keys);
  return t;
}

/** Applies a change exactly as the service's tables would record it (an add replaces the keys). */
export function applyTrustChange(t: TrustState, c: TrustChange): void {
  if (c.type === 'policy') t.setPolicy(c.policy);
  else if (c.action === 'add') t.setIssuer(c.iss, c.keys);
  else t.removeIssuer(c.iss);
}

/**
 * Both trust-change content types share this prefix, and a content type is a text string in the
 * protected header, so its UTF-8 bytes appear verbatim in every trust change. A statement without
 * them cannot be one: this lets the main thread skip decoding the other million entries.
 */
export const TRUST_MARK = Buffer.from('application/vnd.scitt-ledger.');

export type TrustVerdict =
  /** An ordinary claim: its decision is re-derived against the trust state (in a worker). */
  | { kind: 'claim' }
  /** A verified change, already applied to the replayer's state; workers must apply it too. */
  | { kind: 'change'; change: TrustChange }
  /** A service statement that must not change trust; the finding says why. */
  | { kind: 'rejected'; finding: Finding };

/**
 * Replays issuer and policy changes in log order. A change is a statement of a trust-change
 * content type by the service (the first one fixes the service's issuer name; later ones must
 * carry the same iss, other issuers' statements of that type are ordinary claims). It must verify
 * with a pinned service key before it is applied, because everything decided after it depends on it.
 */
export class TrustReplayer {
  changes = 0;

  constructor(
    readonly state: TrustState,
    private readonly keys: ServiceKeySet,
    public serviceIssuer: string | undefined,
  ) {}

  examine(index: number, bytes: Buffer): TrustVerdict {
    if (bytes.indexOf(TRUST_MARK) < 0) return { kind: 'claim' };
    let st: ParsedStatement;
    try {
      st = parseSignedStatement(bytes, { requireAttachedPayload: true, requireSubject: true });
    } catch {
      return { kind: 'claim' }; // the worker reports why it is malformed
    }
    if (st.contentType !== ISSUER_CHANGE_TYPE && st.contentType !== POLICY_CHANGE_TYPE) return { kind: 'claim' };
    const key = st.kid ? this.keys.byKid.get(st.kid.toString('hex')) : undefined;
    // Until the first change names the service, every change-typed statement is taken as the
    // service's: the log starts with its policy, and nobody else can be trusted before that.
    if (this.serviceIssuer !== undefined && st.iss !== this.serviceIssuer) return { kind: 'claim' };
    const reject = (check: Finding['check'], message: string, code?: string): TrustVerdict => ({
      kind: 'rejected',
      finding: { index, check, message: `entry ${index}: ${message}`, issuer: st.iss, ...(code ? { code } : {}) },
    });
    if (!key) {
      const hint = this.serviceIssuer === undefined ? ' (are the pinned service keys this service\'s?)' : ' (did the service change its key? pin the new one with --keys)';
      return reject('TRUST_CHANGE', `a trust change by ${JSON.stringify(st.iss)} is signed with kid ${st.kid?.toString('hex') ?? '(none)'}, which is not a pinned service key${hint}`);
    }
    try {
      verifyStatementSignature(st, key);
    } catch (e) {
      return reject('STATEMENT_SIGNATURE', `the trust change does not verify with the pinned service key: ${(e as Error).message}`, isLedgerError(e) ? e.code : undefined);
    }
    let change: TrustChange | undefined;
    try {
      change = readTrustChange(st, st.iss);
      if (!change) return { kind: 'claim' };
      applyTrustChange(this.state, change);
    } catch (e) {
      return reject('TRUST_CHANGE', `the trust change cannot be applied: ${(e as Error).message}`, isLedgerError(e) ? e.code : undefined);
    }
    this.serviceIssuer ??= st.iss;
    this.changes++;
    return { kind: 'change', change };
  }
}
