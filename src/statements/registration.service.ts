import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { parseSignedStatement, signatureFailure, statementSignatureJob, type ParsedStatement } from '../core/cose';
import { isLedgerError, LedgerError } from '../core/errors';
import { ENTRY_KIND } from '../core/policy';
import { APP_CONFIG, EnvConfig } from '../config/env.config';
import { Db } from '../db/db';
import { MetricsService } from '../health/metrics.service';
import { LogService } from '../log/log.service';
import { artifactDigestOf } from '../core/artifact';
import { Admission, type AdmissionItem } from './admission';
import type { AdmitRow } from './entries.repository';
import { SignaturePool } from './signature-pool';
import { TrustService } from './trust.service';

export type RegistrationResult =
  | { state: 'integrated'; entryId: string; idx: number }
  | { state: 'pending'; entryId: string };

/** Rejections that a newer issuer/policy state could turn into acceptance. */
const TRUST_CODES = new Set(['UNKNOWN_ISSUER', 'ALG_NOT_ALLOWED', 'CONTENT_TYPE_NOT_ALLOWED', 'SUBJECT_NOT_ALLOWED', 'TOO_LARGE', 'UNTRUSTED_CHAIN', 'BAD_STATEMENT_SIGNATURE']);

/** Entry ids are the lowercase hex SHA-256 of the registered statement: known before sequencing. */
export function parseEntryId(id: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(id)) throw new LedgerError('INVALID_LOCATOR', 'an entry id is 64 hexadecimal digits (the SHA-256 of the registered statement)');
  return Buffer.from(id, 'hex');
}

@Injectable()
export class RegistrationService implements OnModuleDestroy {
  private readonly admission: Admission;
  private readonly signatures: SignaturePool;
  private waiting = 0;
  /** Set by the registry module: where a claim about `sub` gets linked, or why not. */
  linkPlan?: (sub: string | undefined) => AdmitRow['link'];

  constructor(
    db: Db,
    @Inject(APP_CONFIG) private readonly cfg: EnvConfig,
    private readonly trust: TrustService,
    private readonly log: LogService,
    private readonly metrics: MetricsService,
  ) {
    this.admission = new Admission(db, {
      trustVersion: () => this.trust.version,
      refresh: async () => {
        await this.trust.reload();
      },
      reevaluate: (item) => this.trust.state.evaluate(item.parsed, item.size),
    });
    this.signatures = new SignaturePool(cfg.VERIFY_THREADS ?? Math.min(4, availableParallelism() - 1));
  }

  async onModuleDestroy(): Promise<void> {
    await this.signatures.close();
  }

  /** Decodes, checks the profile and the policy, verifies the signature (on the pool). Throws a coded error. */
  async decide(body: Uint8Array): Promise<{ parsed: ParsedStatement; trustVersion: number }> {
    // The rules and keys below are read synchronously from one trust state: this version.
    const trustVersion = this.trust.version;
    const max = this.trust.policy.maxStatementBytes;
    if (body.length > max) throw new LedgerError('TOO_LARGE', `statement is ${body.length} bytes; the policy allows ${max}`);
    const parsed = parseSignedStatement(body, { maxBytes: max, requireAttachedPayload: true, requireSubject: true });
    assertStorableText(parsed);
    const job = statementSignatureJob(parsed, this.trust.state.admissible(parsed, body.length));
    if (!(await this.signatures.verify(job))) throw signatureFailure(job.alg);
    return { parsed, trustVersion };
  }

  /**
   * decide() against the cached trust state; when that rejects on trust grounds and another process
   * has changed issuers or policy since, reload and decide again (one cheap query, rejections only).
   */
  private async decideFresh(body: Uint8Array): Promise<{ parsed: ParsedStatement; trustVersion: number }> {
    try {
      return await this.decide(body);
    } catch (e) {
      if (isLedgerError(e) && TRUST_CODES.has(e.code) && (await this.trust.isStale())) {
        await this.trust.reload();
        return await this.decide(body);
      }
      throw e;
    }
  }

  async register(body: Uint8Array): Promise<RegistrationResult> {
    let parsed: ParsedStatement;
    let trustVersion: number;
    try {
      this.log.assertAccepting();
      ({ parsed, trustVersion } = await this.decideFresh(body));
    } catch (e) {
      this.metrics.rejected(isLedgerError(e) ? e.code : 'INTERNAL');
      throw e;
    }
    const entryId = parsed.entryHash.toString('hex');
    const item: AdmissionItem = {
      parsed,
      size: body.length,
      trustVersion,
      entry: {
        entryHash: parsed.entryHash,
        statement: parsed.registered,
        issuer: parsed.iss,
        subject: parsed.sub,
        contentType: parsed.hashEnvelope ? stringOrUndefined(parsed.hashEnvelope.preimageContentType) : stringOrUndefined(parsed.contentType),
        kind: ENTRY_KIND.claim,
        artifactDigest: artifactDigestOf(parsed.sub),
        link: this.linkPlan?.(parsed.sub),
      },
    };
    let inserted: boolean;
    try {
      inserted = await this.admission.submit(item);
    } catch (e) {
      this.metrics.rejected(isLedgerError(e) ? e.code : 'INTERNAL');
      throw e;
    }
    this.metrics.accepted(inserted ? 'new' : 'duplicate');
    if (!inserted) {
      // Registered before: answer with the same entry (its receipt when it is already in the log).
      const known = await this.log.indexOf(parsed.entryHash);
      if (known !== undefined) return { state: 'integrated', entryId, idx: known };
    }
    if (++this.waiting >= this.cfg.LOG_BATCH_MAX) this.log.sequencer.kick();
    try {
      const idx = await this.log.waitForIntegration(parsed.entryHash, this.cfg.REGISTRATION_WAIT_MS);
      return idx === undefined ? { state: 'pending', entryId } : { state: 'integrated', entryId, idx };
    } finally {
      this.waiting--;
    }
  }
}

/**
 * The issuer, subject and content type are stored as PostgreSQL text, which cannot hold U+0000.
 * Refused here, alone: in the admission batch such a statement would fail every registration
 * sharing its INSERT.
 */
function assertStorableText(p: ParsedStatement): void {
  const nul = (name: string, v: unknown) => {
    if (typeof v === 'string' && v.includes('\u0000')) throw new LedgerError('MALFORMED_REQUEST', `${name} contains U+0000, which the log cannot store`);
  };
  nul('iss', p.iss);
  nul('sub', p.sub);
  nul('content type (3)', p.contentType);
  nul('preimage content type (259)', p.hashEnvelope?.preimageContentType);
}

function stringOrUndefined(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}
