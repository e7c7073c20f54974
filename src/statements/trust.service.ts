import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { LedgerError } from '../core/errors';
import { parseSignedStatement } from '../core/cose';
import { DEFAULT_POLICY, ENTRY_KIND, normalisePolicy, signTrustChange, TrustState, type RegistrationPolicy, type TrustChange } from '../core/policy';
import { APP_CONFIG, EnvConfig } from '../config/env.config';
import { Db } from '../db/db';
import { LogService } from '../log/log.service';
import { SERVICE_KEYS } from '../log/log.tokens';
import type { ServiceKeys } from '../log/service-keys';
import { EntriesRepository } from './entries.repository';
import { TrustRepository } from './trust.repository';

/**
 * Issuer trust and registration policy. The tables are a cache of the log: every change is first a
 * service-signed statement admitted to the log in the same transaction that updates the tables.
 */
@Injectable()
export class TrustService implements OnModuleInit {
  private readonly logger = new Logger('trust');
  state = new TrustState();
  version = -1;

  constructor(
    private readonly db: Db,
    @Inject(APP_CONFIG) private readonly cfg: EnvConfig,
    @Inject(SERVICE_KEYS) private readonly keys: ServiceKeys,
    private readonly log: LogService,
  ) {}

  async onModuleInit(): Promise<void> {
    const policyDoc = await this.reload();
    if (policyDoc === undefined) {
      const initial = this.cfg.POLICY_FILE ? normalisePolicy(JSON.parse(readFileSync(this.cfg.POLICY_FILE, 'utf8'))) : DEFAULT_POLICY;
      await this.apply({ type: 'policy', policy: initial }, true);
      this.logger.log('recorded the initial registration policy in the log');
    }
  }

  /** Rebuilds the cached state from the tables; returns the stored policy document (undefined when none yet). */
  async reload(): Promise<unknown> {
    const all = await TrustRepository.loadAll(this.db);
    const s = new TrustState(all.policy ? normalisePolicy(all.policy) : DEFAULT_POLICY);
    for (const i of all.issuers) s.setIssuer(i.iss, i.keys);
    this.state = s;
    this.version = all.version;
    return all.policy;
  }

  /** True when another process changed issuers or policy after this one last loaded them. */
  async isStale(): Promise<boolean> {
    return (await TrustRepository.version(this.db)) !== this.version;
  }

  get policy(): RegistrationPolicy {
    return this.state.policy;
  }

  listIssuers(): { iss: string; keys: Record<string, unknown>[] }[] {
    return [...this.state.issuers.values()].map((i) => ({ iss: i.iss, keys: i.keys })).sort((a, b) => a.iss.localeCompare(b.iss));
  }

  async addIssuer(iss: string, keys: Record<string, unknown>[]): Promise<string> {
    // Import now so a bad key is a 400 before anything is logged.
    new TrustState().setIssuer(iss, keys);
    return this.apply({ type: 'issuer', action: 'add', iss, keys });
  }

  async removeIssuer(iss: string): Promise<string> {
    if (!this.state.issuers.has(iss)) {
      await this.reload();
      if (!this.state.issuers.has(iss)) throw new LedgerError('NOT_FOUND', `issuer ${JSON.stringify(iss)} is not registered`);
    }
    return this.apply({ type: 'issuer', action: 'remove', iss });
  }

  async setPolicy(doc: unknown): Promise<string> {
    return this.apply({ type: 'policy', policy: normalisePolicy(doc) });
  }

  /** Logs the change and updates the tables atomically; returns the entry id of the change statement. */
  private async apply(change: TrustChange, onlyIfNoPolicy = false): Promise<string> {
    const bytes = signTrustChange(change, { issuer: this.cfg.SERVICE_ISSUER, kid: this.keys.kid, key: this.keys.receiptKey });
    const st = parseSignedStatement(bytes, { requireSubject: true, requireAttachedPayload: true });
    const kind = change.type === 'policy' ? ENTRY_KIND.policyChange : ENTRY_KIND.issuerChange;
    await this.db.tx(async (c) => {
      await TrustRepository.lockExclusive(c);
      if (onlyIfNoPolicy) {
        const { rows } = await c.query('SELECT 1 FROM policy WHERE id = 1');
        if (rows.length > 0) return; // another process bootstrapped first
      }
      await EntriesRepository.admit(c, [
        { entryHash: st.entryHash, statement: st.registered, issuer: st.iss, subject: st.sub, contentType: String(st.contentType), kind },
      ]);
      if (change.type === 'policy') await TrustRepository.setPolicy(c, change.policy, st.entryHash);
      else if (change.action === 'add') await TrustRepository.upsertIssuer(c, change.iss, change.keys, st.entryHash);
      else await TrustRepository.deleteIssuer(c, change.iss);
      await TrustRepository.bumpVersion(c);
    });
    await this.reload();
    this.log.sequencer.kick();
    return st.entryHash.toString('hex');
  }
}
