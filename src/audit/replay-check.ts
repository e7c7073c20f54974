import { parseSignedStatement, type ParsedStatement } from '../core/cose';
import { isLedgerError } from '../core/errors';
import { entryHash, HASH_SIZE, leafHash } from '../core/merkle';
import { ISSUER_CHANGE_TYPE, POLICY_CHANGE_TYPE, type TrustState } from '../core/policy';
import { TRUST_MARK } from './replay-trust';
import type { Finding } from './replay-types';

/** How the main thread classified an entry before handing it to a checker. */
export const FLAG = {
  /** An ordinary claim: re-derive its registration decision. */
  claim: 0,
  /** A trust change the main thread already judged: only hash it. */
  trust: 1,
  /** The log did not serve this entry: nothing to hash (the main thread fills the leaf in). */
  missing: 2,
} as const;

/**
 * A run of consecutive log entries, packed into one buffer so it can be transferred to a worker
 * without copying: entry k is data[offsets[k], offsets[k+1]).
 */
export interface Batch {
  seq: number;
  start: number;
  data: Uint8Array;
  offsets: Uint32Array;
  flags: Uint8Array;
}

export interface BatchResult {
  seq: number;
  /** Per entry: the entry hash, then the leaf hash (64 bytes); zeros for missing entries. */
  hashes: Uint8Array;
  findings: Finding[];
  parseMs: number;
  hashMs: number;
  verifyMs: number;
}

export const RESULT_STRIDE = 2 * HASH_SIZE;

/** Codes TrustState.evaluate throws for a statement the policy in force must reject. */
const SIGNATURE_CODES = new Set(['BAD_STATEMENT_SIGNATURE', 'PAYLOAD_MISSING', 'KEY_ALG_MISMATCH']);

function decisionFinding(index: number, st: ParsedStatement, e: unknown): Finding {
  const code = isLedgerError(e) ? e.code : 'INTERNAL';
  const msg = (e as Error)?.message ?? String(e);
  if (SIGNATURE_CODES.has(code)) {
    return { index, check: 'STATEMENT_SIGNATURE', code, issuer: st.iss, message: `entry ${index}: the statement by ${JSON.stringify(st.iss)} does not verify: ${msg}` };
  }
  return {
    index,
    check: 'REGISTRATION_DECISION',
    code,
    issuer: st.iss,
    message: `entry ${index}: the service should have rejected this statement by ${JSON.stringify(st.iss)} under the trust state of that time: ${code}: ${msg}`,
  };
}

/**
 * Checks one batch: every entry's entry and leaf hash, and for claims the Signed Statement
 * profile, the registered form, and the registration decision against `trust` (which the caller
 * keeps at the state of the log just before this batch). Pure apart from the clock: the workers
 * and the in-thread checker run exactly this.
 */
export function checkBatch(b: Batch, trust: TrustState): BatchResult {
  const n = b.flags.length;
  const hashes = new Uint8Array(n * RESULT_STRIDE);
  const findings: Finding[] = [];
  let parseMs = 0;
  let hashMs = 0;
  let verifyMs = 0;
  const data = Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  for (let k = 0; k < n; k++) {
    if (b.flags[k] === FLAG.missing) continue;
    const index = b.start + k;
    const bytes = data.subarray(b.offsets[k], b.offsets[k + 1]);
    const t0 = performance.now();
    const entry = entryHash(bytes);
    hashes.set(entry, k * RESULT_STRIDE);
    hashes.set(leafHash(entry), k * RESULT_STRIDE + HASH_SIZE);
    const t1 = performance.now();
    hashMs += t1 - t0;
    if (b.flags[k] !== FLAG.claim) continue;
    let st: ParsedStatement;
    try {
      st = parseSignedStatement(bytes, { requireAttachedPayload: true, requireSubject: true });
    } catch (e) {
      parseMs += performance.now() - t1;
      const code = isLedgerError(e) ? e.code : 'MALFORMED';
      findings.push({ index, check: 'STATEMENT_FORMAT', code, message: `entry ${index}: not a Signed Statement the service could have registered: ${code}: ${(e as Error).message}` });
      continue;
    }
    const t2 = performance.now();
    parseMs += t2 - t1;
    if ((st.contentType === ISSUER_CHANGE_TYPE || st.contentType === POLICY_CHANGE_TYPE) && bytes.indexOf(TRUST_MARK) < 0) {
      // The main thread recognises trust changes by their content type's bytes; one it did not see
      // was encoded so as to hide it (an indefinite-length string), and was not replayed.
      findings.push({ index, check: 'TRUST_CHANGE', issuer: st.iss, message: `entry ${index}: a ${st.contentType} statement in a non-canonical encoding; the auditor does not apply it` });
      verifyMs += performance.now() - t2;
      continue;
    }
    if (st.registered.length !== bytes.length || !st.registered.equals(bytes)) {
      findings.push({ index, check: 'STATEMENT_FORMAT', issuer: st.iss, message: `entry ${index}: the logged statement is not in registered form (its unprotected header must be empty)` });
    }
    try {
      trust.evaluate(st, bytes.length);
    } catch (e) {
      findings.push(decisionFinding(index, st, e));
    }
    verifyMs += performance.now() - t2;
  }
  return { seq: b.seq, hashes, findings, parseMs, hashMs, verifyMs };
}

/** Packs entries into a Batch (one copy into a fresh, transferable buffer). */
export function packBatch(seq: number, start: number, items: readonly Buffer[], flags: Uint8Array): Batch {
  let total = 0;
  for (const it of items) total += it.length;
  const data = new Uint8Array(total);
  const offsets = new Uint32Array(items.length + 1);
  let o = 0;
  items.forEach((it, k) => {
    offsets[k] = o;
    data.set(it, o);
    o += it.length;
  });
  offsets[items.length] = o;
  return { seq, start, data, offsets, flags };
}
