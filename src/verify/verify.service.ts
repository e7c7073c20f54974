import { Inject, Injectable } from '@nestjs/common';
import { decode } from 'cbor2';
import { decodeSign1, extractReceipts, parseSignedStatement, verifyReceipt, verifyStatementSignature, type ParsedStatement, type ReceiptVerdict } from '../core/cose';
import { isLedgerError, LedgerError } from '../core/errors';
import { verifyConsistency } from '../core/merkle';
import { readTrustChange, TrustState } from '../core/policy';
import { APP_CONFIG, EnvConfig } from '../config/env.config';
import { Db } from '../db/db';
import { LogService } from '../log/log.service';
import { SERVICE_KEYS } from '../log/log.tokens';
import type { ServiceKeys } from '../log/service-keys';
import { TrustService } from '../statements/trust.service';
import { parseForeignServices, type ForeignService } from './foreign-services';
import { VerifyRepository } from './verify.repository';

export interface Check {
  check: 'statement_signature' | 'issuer_trusted_at_registration' | 'receipt' | 'receipt_consistent_with_checkpoint';
  ok: boolean;
  code?: string;
  message?: string;
  receipt?: number;
  service?: string;
  treeSize?: number;
  leafIndex?: number;
}

export interface Verdict {
  valid: boolean;
  entryId?: string;
  issuer?: string;
  subject?: string;
  registeredHere: boolean;
  index?: number;
  checks: Check[];
}

/**
 * POST /verify: is this statement genuine, was its issuer trusted when it was registered, is each
 * receipt (ours, or another configured transparency service's) genuine, and is each of our receipts
 * consistent with this log's current checkpoint. Every check is reported with its code.
 */
@Injectable()
export class VerifyService {
  private readonly foreign: ForeignService[];

  constructor(
    private readonly db: Db,
    private readonly log: LogService,
    private readonly trust: TrustService,
    @Inject(SERVICE_KEYS) private readonly keys: ServiceKeys,
    @Inject(APP_CONFIG) private readonly cfg: EnvConfig,
  ) {
    this.foreign = parseForeignServices(cfg.FOREIGN_SERVICES);
  }

  /** `application/cose`: a (transparent) statement; `application/cbor`: [statement, receipt, ...]. */
  split(body: Uint8Array, cbor: boolean): { statement: Uint8Array; receipts: Uint8Array[] } {
    let statement = body;
    let extra: Uint8Array[] = [];
    if (cbor) {
      let v: unknown;
      try {
        v = decode(body, { maxDepth: 4 } as any);
      } catch {
        throw new LedgerError('MALFORMED_CBOR', 'the body is not CBOR');
      }
      if (!Array.isArray(v) || v.length < 1 || !v.every((x) => x instanceof Uint8Array)) {
        throw new LedgerError('MALFORMED_REQUEST', 'an application/cbor body is an array of byte strings: [statement, receipt, ...]');
      }
      statement = v[0];
      extra = v.slice(1);
    }
    let ex;
    try {
      ex = extractReceipts(statement);
    } catch (e) {
      throw isLedgerError(e) ? e : new LedgerError('MALFORMED_CBOR', 'the statement is not a COSE_Sign1');
    }
    return { statement: ex.registered, receipts: [...ex.receipts, ...extra] };
  }

  async verify(body: Uint8Array, cbor: boolean): Promise<Verdict> {
    const { statement, receipts } = this.split(body, cbor);
    const st = parseSignedStatement(statement, { requireSubject: false, requireAttachedPayload: false });
    const index = await this.log.indexOf(st.entryHash);
    const checks: Check[] = [];
    checks.push(...(await this.issuerChecks(st, index)));
    if (receipts.length === 0) checks.push({ check: 'receipt', ok: false, code: 'NO_RECEIPT', message: 'no receipt to verify (none under label 394, none given)' });
    for (let i = 0; i < receipts.length; i++) checks.push(...(await this.receiptChecks(receipts[i], i, st)));
    return {
      valid: checks.every((c) => c.ok),
      entryId: st.entryHash.toString('hex'),
      issuer: st.iss,
      subject: st.sub,
      registeredHere: index !== undefined,
      index,
      checks,
    };
  }

  /** Issuer keys as they stood just before `index` (from the log's issuer-change entries), or now. */
  private async issuerState(st: ParsedStatement, index: number | undefined): Promise<TrustState> {
    if (index === undefined) return this.trust.state;
    const s = new TrustState(this.trust.policy);
    for (const bytes of await VerifyRepository.issuerHistory(this.db, st.iss, index)) {
      const change = readTrustChange(parseSignedStatement(bytes), this.cfg.SERVICE_ISSUER);
      if (change?.type === 'issuer' && change.action === 'add') s.setIssuer(change.iss, change.keys);
      else if (change?.type === 'issuer' && change.action === 'remove') s.removeIssuer(change.iss);
    }
    return s;
  }

  private async issuerChecks(st: ParsedStatement, index: number | undefined): Promise<Check[]> {
    const state = await this.issuerState(st, index);
    const issuer = state.issuers.get(st.iss);
    const sig: Check = { check: 'statement_signature', ok: false };
    const trusted: Check = { check: 'issuer_trusted_at_registration', ok: false };
    if (!issuer && !(st.x5chain && st.x5chain.length)) {
      sig.code = 'UNKNOWN_ISSUER';
      sig.message = `no key known for issuer ${st.iss}`;
    } else {
      try {
        if (issuer) verifyStatementSignature(st, issuer.imported);
        else state.evaluate(st, 0);
        sig.ok = true;
      } catch (e) {
        sig.code = isLedgerError(e) ? e.code : 'BAD_STATEMENT_SIGNATURE';
        sig.message = (e as Error).message;
      }
    }
    if (index !== undefined) {
      trusted.ok = sig.ok;
      trusted.message = sig.ok ? `registered here at index ${index}; issuer keys then verify it` : `registered here at index ${index}, but no key the issuer had then verifies it`;
      if (!sig.ok) trusted.code = sig.code;
    } else {
      // Registered elsewhere: what this service can say is whether it trusts the issuer now.
      trusted.ok = sig.ok;
      trusted.message = sig.ok ? 'not registered here; the issuer is trusted by this service now' : 'not registered here and the issuer is not trusted by this service';
      if (!sig.ok) trusted.code = sig.code === 'UNKNOWN_ISSUER' ? 'UNKNOWN_ISSUER' : sig.code;
    }
    return [sig, trusted];
  }

  private async receiptChecks(receipt: Uint8Array, i: number, st: ParsedStatement): Promise<Check[]> {
    // Whose receipt is it? Ours when its protected kid is our key's; otherwise a configured foreign service's.
    let kid: Buffer | undefined;
    try {
      const k = decodeSign1(receipt, { requireTag: false }).protectedHeader.get(4);
      if (k instanceof Uint8Array) kid = Buffer.from(k);
    } catch {
      // left to verifyReceipt, which names the decoding failure
    }
    const ours = kid !== undefined && kid.equals(this.keys.kid);
    let v: ReceiptVerdict = verifyReceipt(receipt, { entry: st.entryHash }, (k) => (k && k.equals(this.keys.kid) ? this.keys.receiptPublicKey : undefined));
    let service = 'this';
    if (!ours && this.foreign.length > 0) {
      service = 'unknown';
      let first: ReceiptVerdict | undefined;
      search: for (const f of this.foreign) {
        for (const key of f.keys) {
          const r = verifyReceipt(receipt, { entry: st.entryHash }, (k) => (k && f.byKid.get(k.toString('hex'))) || key, { vds: f.vds });
          first ??= r;
          if (r.ok) {
            first = r;
            service = f.name;
            break search;
          }
        }
      }
      v = first!;
    }
    if (!v.ok) return [{ check: 'receipt', receipt: i, service, ok: false, code: v.code, message: `${v.step}: ${v.message}` }];
    const out: Check[] = [{ check: 'receipt', receipt: i, service, ok: true, treeSize: v.treeSize, leafIndex: v.leafIndex }];
    if (service === 'this') out.push(await this.consistencyCheck(i, v.treeSize, v.root));
    return out;
  }

  /** Our receipt's tree must be a prefix of the tree this log publishes now. */
  private async consistencyCheck(i: number, size: number, root: Buffer): Promise<Check> {
    const c: Check = { check: 'receipt_consistent_with_checkpoint', receipt: i, ok: false };
    try {
      const now = await this.log.latestCheckpoint();
      if (size > now.treeSize) {
        c.code = 'BEYOND_CHECKPOINT';
        c.message = `receipt tree size ${size} is beyond the current checkpoint ${now.treeSize}`;
        return c;
      }
      const proof = await this.log.consistencyProof(size, now.treeSize);
      verifyConsistency(size, now.treeSize, proof, root, now.root);
      c.ok = true;
      c.treeSize = now.treeSize;
    } catch (e) {
      c.code = isLedgerError(e) ? e.code : 'INCONSISTENT';
      c.message = (e as Error).message;
    }
    return c;
  }
}
