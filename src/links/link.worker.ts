import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { embedReceipts } from '../core/cose';
import { isLedgerError } from '../core/errors';
import { APP_CONFIG, EnvConfig } from '../config/env.config';
import { Db } from '../db/db';
import { LogService } from '../log/log.service';
import { EntriesRepository, type LinkPlan } from '../statements/entries.repository';
import { RegistrationService } from '../statements/registration.service';
import { createClientResolver, findRegistry, inProcessSubjectLock, parseRegistriesConfig, parseSubjectReference, ReferrerLinker, type RegistryConfig } from '../registry';
import { LinksRepository, type OutboxRow } from './links.repository';

const LEASE_SECONDS = 120;

/** 2s, 4s, 8s, ... capped (an hour by default), with jitter so a recovering registry is not hit all at once. */
export function backoffSeconds(attempts: number, max: number): number {
  const base = Math.min(max, 2 ** Math.min(attempts + 1, 20));
  return Math.max(1, Math.round(base * (0.75 + Math.random() * 0.5)));
}

/**
 * Delivers the link outbox: each integrated claim about a digest-pinned image on a configured
 * registry becomes an OCI referrer of that image. Rows are leased, not locked across network calls,
 * so any number of processes can run workers; a registry outage or a restart delays links and loses
 * none; the manifest is deterministic (first covering receipt, registration time as its creation
 * time), so a retry after a half-done attempt pushes the same bytes and the index lists it once.
 */
@Injectable()
export class LinkWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('links');
  private readonly registries: RegistryConfig[];
  private readonly linker: ReferrerLinker;
  private timer?: NodeJS.Timeout;
  private running = false;
  private busy?: Promise<void>;

  constructor(
    private readonly db: Db,
    private readonly log: LogService,
    registration: RegistrationService,
    @Inject(APP_CONFIG) private readonly cfg: EnvConfig,
  ) {
    this.registries = parseRegistriesConfig(cfg.REGISTRIES);
    registration.linkPlan = (sub) => this.plan(sub);
    this.linker = new ReferrerLinker(createClientResolver(this.registries), db.embedded ? inProcessSubjectLock : (key, fn) => this.pgSubjectLock(key, fn));
  }

  /** Which registry a claim links into, or why it does not (kept for GET /entries/{id}/links). */
  plan(sub: string | undefined): LinkPlan {
    const ref = sub ? parseSubjectReference(sub) : null;
    if (!ref) return { skip: 'the subject is not a digest-pinned OCI reference ([oci://]host/repository@sha256:...)' };
    if (!findRegistry(this.registries, ref.host)) return { skip: `registry ${ref.host} is not configured in REGISTRIES` };
    return { registry: ref.host, repository: ref.repository, digest: ref.digest };
  }

  /** Serialises fallback-index updates per subject across every process sharing the database. */
  private async pgSubjectLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const k = createHash('sha256').update(key).digest().readBigInt64BE(0).toString();
    const c = await this.db.pool.connect();
    try {
      await c.query('SELECT pg_advisory_lock($1::bigint)', [k]);
      try {
        return await fn();
      } finally {
        await c.query('SELECT pg_advisory_unlock($1::bigint)', [k]);
      }
    } finally {
      c.release();
    }
  }

  onApplicationBootstrap(): void {
    if (this.registries.length === 0) return;
    this.running = true;
    const tick = () => {
      if (!this.running) return;
      this.busy = this.drain()
        .then(() => undefined)
        .catch((e) => this.logger.warn(`link worker: ${e?.message ?? e}`))
        .finally(() => {
          if (this.running) this.timer = setTimeout(tick, 500);
        });
    };
    tick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.busy;
  }

  /** Delivers every due row; returns how many were attempted. */
  async drain(): Promise<number> {
    let n = 0;
    for (;;) {
      const rows = await LinksRepository.lease(this.db, 8, LEASE_SECONDS);
      if (rows.length === 0) return n;
      n += rows.length;
      await Promise.all(rows.map((r) => this.deliver(r)));
    }
  }

  private async deliver(r: OutboxRow): Promise<void> {
    try {
      const entry = await EntriesRepository.get(this.db, r.entryHash);
      if (!entry) throw new Error('entry vanished');
      const { receipt, checkpoint } = await this.log.firstReceiptForIndex(r.idx);
      const ts = embedReceipts(entry.statement, [receipt]);
      const out = await this.linker.link({
        subject: { host: r.registry, repository: r.repository, digest: r.subjectDigest },
        transparentStatement: ts,
        created: r.registeredAt.toISOString(),
        annotations: {
          'dev.scitt.entry-id': r.entryHash.toString('hex'),
          'dev.scitt.log-origin': this.cfg.LOG_ORIGIN,
          'dev.scitt.tree-size': String(checkpoint.treeSize),
          'dev.scitt.issuer': entry.issuer,
          ...(entry.contentType ? { 'dev.scitt.content-type': entry.contentType } : {}),
        },
      });
      await LinksRepository.linked(this.db, r.id, out.manifestDigest, out.via);
    } catch (e) {
      const retryable = !isLedgerError(e) || e.details?.retryable !== false;
      const wait = backoffSeconds(r.attempts, this.cfg.LINK_MAX_BACKOFF_SECONDS);
      await LinksRepository.failed(this.db, r.id, (e as Error).message ?? String(e), retryable ? wait : this.cfg.LINK_MAX_BACKOFF_SECONDS, !retryable);
      this.logger.warn(`link ${r.entryHash.toString('hex')} -> ${r.registry}/${r.repository}: ${(e as Error).message}; next attempt in ${wait}s`);
    }
  }
}
