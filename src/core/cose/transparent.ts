import type { KeyObject } from 'node:crypto';
import { isLedgerError } from '../errors';
import { coseError } from './errors';
import { HEADER } from './labels';
import { verifyReceipt, type ReceiptKeyResolver, type ReceiptVerdict } from './receipt-verify';
import { decodeSign1, encodeSign1, type HeaderMap } from './sign1';
import { parseSignedStatement, registeredForm, verifyStatementSignature, type ParsedStatement } from './statement';

/**
 * Transparent Statements (RFC 9943 §7): the registered statement with its receipts in the
 * unprotected header, `394: [+ bstr .cbor COSE_Sign1]`. The unprotected header is not signed,
 * so receipts can be added by anyone; each one proves itself.
 */

/** The receipts under 394: an array of bstr (a lone bstr, seen in the wild, is accepted as one). */
function receiptList(uh: HeaderMap): Buffer[] {
  const v = uh.get(HEADER.receipts);
  if (v === undefined) return [];
  if (v instanceof Uint8Array) return [v as Buffer];
  if (!Array.isArray(v) || !v.every((r) => r instanceof Uint8Array)) throw coseError('BAD_HEADER', 'receipts (394) must be an array of byte strings');
  return v as Buffer[];
}

/**
 * Adds receipts to a (transparent) statement: receipts already present are kept, duplicates
 * (same bytes) are not added twice; protected header, payload and signature are untouched.
 */
export function embedReceipts(statement: Uint8Array, receipts: Uint8Array[]): Buffer {
  const s = decodeSign1(statement, { requireTag: false });
  const merged = [...receiptList(s.unprotectedHeader)];
  const seen = new Set(merged.map((r) => Buffer.from(r).toString('base64')));
  for (const r of receipts) {
    if (!(r instanceof Uint8Array)) throw coseError('BAD_RECEIPT', 'receipts must be bytes');
    const id = Buffer.from(r).toString('base64');
    if (seen.has(id)) continue;
    seen.add(id);
    merged.push(Buffer.from(r));
  }
  const u: HeaderMap = new Map(s.unprotectedHeader);
  u.set(HEADER.receipts, merged);
  return encodeSign1({ protectedBytes: s.protectedBytes, unprotectedHeader: u, payload: s.payload, signature: s.signature });
}

/** Splits a transparent statement into its registered form (unprotected {}) and its receipts. */
export function extractReceipts(transparentStatement: Uint8Array): { registered: Buffer; receipts: Buffer[] } {
  const s = decodeSign1(transparentStatement, { requireTag: false });
  return { registered: registeredForm(s, transparentStatement), receipts: receiptList(s.unprotectedHeader) };
}

export type IssuerKeySource = KeyObject | readonly KeyObject[] | ((st: ParsedStatement) => KeyObject | readonly KeyObject[] | undefined);

export interface TransparentVerifyOptions {
  /** Receipts held separately, checked after the embedded ones. */
  receipts?: Uint8Array[];
  /** The issuer's key(s), or a lookup from the parsed statement. Omitted: the signature is not checked. */
  issuerKey?: IssuerKeySource;
  resolveReceiptKey: ReceiptKeyResolver;
  detachedPayload?: Uint8Array;
  /** Default false: foreign statements (e.g. did:x509 issuers) may have no `sub`. */
  requireSubject?: boolean;
  /** Verifiable data structures accepted for receipts (default [1]). */
  vds?: readonly number[];
  maxBytes?: number;
}

export interface TransparentVerdict {
  /** Everything checked passed, and there was at least one receipt. */
  valid: boolean;
  /** The first failing check's code, statement checks before receipts. */
  code?: string;
  step?: 'statement' | 'statement-signature' | 'receipt';
  message?: string;
  statement?: { iss: string; sub?: string; entryHash: Buffer; signature: 'valid' | 'invalid' | 'not checked' };
  receipts: ReceiptVerdict[];
}

/**
 * The whole verdict a relying party needs: the statement profile, the issuer's signature (when a
 * key is given), then every receipt against the statement's entry. Every receipt is verified
 * even after a failure, so the report is complete; `code` is the first failure.
 */
export function verifyTransparentStatement(bytes: Uint8Array, o: TransparentVerifyOptions): TransparentVerdict {
  const v: TransparentVerdict = { valid: false, receipts: [] };
  const fail = (step: TransparentVerdict['step'], code: string, message: string) => {
    if (v.code === undefined) Object.assign(v, { step, code, message });
  };
  let st: ParsedStatement;
  let embedded: Buffer[];
  try {
    const ex = extractReceipts(bytes);
    embedded = ex.receipts;
    st = parseSignedStatement(ex.registered, { requireSubject: o.requireSubject ?? false, requireAttachedPayload: false, requireTag: false, maxBytes: o.maxBytes });
  } catch (e) {
    if (!isLedgerError(e)) throw e;
    fail('statement', e.code, e.message);
    return v;
  }
  v.statement = { iss: st.iss, entryHash: st.entryHash, signature: 'not checked' };
  if (st.sub !== undefined) v.statement.sub = st.sub;
  if (o.issuerKey !== undefined) {
    const keys = typeof o.issuerKey === 'function' ? o.issuerKey(st) : o.issuerKey;
    if (keys === undefined || (Array.isArray(keys) && keys.length === 0)) {
      v.statement.signature = 'invalid';
      fail('statement-signature', 'UNKNOWN_ISSUER_KEY', `no key is known for issuer ${JSON.stringify(st.iss)}`);
    } else {
      try {
        verifyStatementSignature(st, keys, { detachedPayload: o.detachedPayload });
        v.statement.signature = 'valid';
      } catch (e) {
        if (!isLedgerError(e)) throw e;
        v.statement.signature = 'invalid';
        fail('statement-signature', e.code, e.message);
      }
    }
  }
  const all = [...embedded, ...(o.receipts ?? [])];
  if (all.length === 0) fail('receipt', 'NO_RECEIPTS', 'the statement carries no receipt and none was given');
  for (const r of all) {
    const rv = verifyReceipt(r, { entry: st.entryHash }, o.resolveReceiptKey, { vds: o.vds });
    v.receipts.push(rv);
    if (!rv.ok) fail('receipt', rv.code, rv.message);
  }
  v.valid = v.code === undefined;
  return v;
}
