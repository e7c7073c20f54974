import { Injectable } from '@nestjs/common';
import { decodeSign1 } from '../core/cose';
import { evaluateGate, parseConsumerPolicy, type GateClaim, type GateDecision } from '../core/gate';
import { LedgerError } from '../core/errors';
import { Db } from '../db/db';
import { LogService } from '../log/log.service';
import { EntriesRepository } from '../statements/entries.repository';
import { ClaimsRepository } from './claims.repository';

const MAX_CLAIMS = 10000;

/** The trusted-artifact gate: a consumer policy evaluated over the claims registered about a digest. */
@Injectable()
export class GateService {
  constructor(
    private readonly db: Db,
    private readonly log: LogService,
  ) {}

  async evaluate(digest: string, policyDoc: unknown, now = new Date()): Promise<GateDecision & { digest: string; claimsConsidered: number }> {
    const policy = parseConsumerPolicy(policyDoc);
    const rows = [];
    let after: { at: Date; hash: Buffer } | undefined;
    for (;;) {
      const page = await ClaimsRepository.find(this.db, { digest, after, limit: 1000 });
      rows.push(...page.filter((r) => r.idx !== null));
      if (page.length < 1000) break;
      if (rows.length > MAX_CLAIMS) throw new LedgerError('MALFORMED_REQUEST', `more than ${MAX_CLAIMS} claims about ${digest}; narrow the question`);
      after = { at: page[page.length - 1].registeredAt, hash: page[page.length - 1].entryHash };
    }
    // Payloads only for the claims a severity rule reads.
    const readTypes = new Set(policy.forbid.filter((f) => f.minSeverity !== undefined).map((f) => f.contentType));
    const claims: GateClaim[] = [];
    for (const r of rows) {
      let payload: Uint8Array | undefined;
      if (r.contentType && readTypes.has(r.contentType)) {
        const e = await EntriesRepository.get(this.db, r.entryHash);
        payload = e ? (decodeSign1(e.statement).payload ?? undefined) : undefined;
      }
      claims.push({ entryId: r.entryHash.toString('hex'), issuer: r.issuer, contentType: r.contentType ?? undefined, registeredAt: r.registeredAt, payload });
    }
    const decision = evaluateGate(policy, claims, now);
    const byId = new Map(rows.map((r) => [r.entryHash.toString('hex'), r.idx!]));
    for (const e of decision.evidence) {
      const idx = byId.get(e.entryId);
      if (idx !== undefined) e.receipt = (await this.log.receiptForIndex(idx)).receipt.toString('base64');
    }
    return { digest, claimsConsidered: claims.length, ...decision };
  }
}
