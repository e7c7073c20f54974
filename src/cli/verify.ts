import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decode } from 'cbor2';
import { extractReceipts, importPublicKey, parseSignedStatement, verifyReceipt, verifyStatementSignature } from '../core/cose';
import { isLedgerError } from '../core/errors';
import { CliError, EXIT } from './exit-codes';

export interface PinnedKeys {
  byKid: Map<string, KeyObject>;
  all: KeyObject[];
}

/** A COSE_KeySet (array) or a single COSE_Key, as served by /.well-known/scitt-keys. */
export function parseKeySet(bytes: Uint8Array): PinnedKeys {
  let v: unknown;
  try {
    v = decode(bytes, { preferMap: true });
  } catch (e: any) {
    throw new CliError(`the service key file is not CBOR: ${e.message}`, EXIT.USAGE);
  }
  const list = Array.isArray(v) ? v : [v];
  const byKid = new Map<string, KeyObject>();
  const all: KeyObject[] = [];
  for (const k of list) {
    if (!(k instanceof Map)) throw new CliError('the service key file holds something other than COSE_Keys', EXIT.USAGE);
    const key = importPublicKey(k);
    all.push(key);
    const kid = k.get(2);
    if (kid instanceof Uint8Array) byKid.set(Buffer.from(kid).toString('hex'), key);
  }
  return { byKid, all };
}

export function loadKeyFile(path: string): PinnedKeys {
  return parseKeySet(readFileSync(path));
}

export interface ReceiptCheck {
  receipt: number;
  ok: boolean;
  code?: string;
  step?: string;
  message?: string;
  treeSize?: number;
  leafIndex?: number;
  issuer?: string;
}

export interface VerifyReport {
  valid: boolean;
  entryId: string;
  statement: { iss?: string; sub?: string; signature?: 'valid' | 'invalid' | 'not checked'; code?: string };
  receipts: ReceiptCheck[];
}

/** Offline verification of a (transparent) statement and its receipts against pinned service keys. */
export function verifyOffline(statementBytes: Uint8Array, extraReceipts: Uint8Array[], keys: PinnedKeys, issuerKey?: KeyObject): VerifyReport {
  const { registered, receipts: embedded } = extractReceipts(statementBytes);
  const receipts = [...embedded, ...extraReceipts];
  const report: VerifyReport = { valid: false, entryId: '', statement: {}, receipts: [] };
  try {
    const st = parseSignedStatement(registered, { requireSubject: false, requireAttachedPayload: false });
    report.entryId = st.entryHash.toString('hex');
    report.statement = { iss: st.iss, sub: st.sub, signature: 'not checked' };
    if (issuerKey) {
      try {
        verifyStatementSignature(st, issuerKey);
        report.statement.signature = 'valid';
      } catch (e) {
        report.statement.signature = 'invalid';
        report.statement.code = isLedgerError(e) ? e.code : 'BAD_STATEMENT_SIGNATURE';
      }
    }
  } catch (e) {
    report.statement.code = isLedgerError(e) ? e.code : 'MALFORMED';
    return report;
  }
  receipts.forEach((r, i) => {
    const v = verifyReceipt(r, { statement: registered }, (kid: Uint8Array | undefined) => (kid ? keys.byKid.get(Buffer.from(kid).toString('hex')) : keys.all.length === 1 ? keys.all[0] : undefined));
    report.receipts.push(
      v.ok
        ? { receipt: i, ok: true, treeSize: v.treeSize, leafIndex: v.leafIndex, issuer: v.iss }
        : { receipt: i, ok: false, code: v.code, step: v.step, message: v.message },
    );
  });
  report.valid = receipts.length > 0 && report.receipts.every((r) => r.ok) && report.statement.signature !== 'invalid' && !report.statement.code;
  return report;
}
