import { Controller, Get, Inject, Res } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, EnvConfig } from '../config/env.config';
import { LogService } from '../log/log.service';
import { MetricsService } from './metrics.service';

/** Liveness, readiness (terminus) and Prometheus metrics. */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly log: LogService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly cfg: EnvConfig,
  ) {}

  @Get('healthz')
  live() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 2000 }),
      () => {
        const s = this.log.sequencer;
        const staleMs = Date.now() - s.lastTickAt;
        const ok = s.lastTickAt > 0 && staleMs < Math.max(5000, 20 * this.cfg.LOG_BATCH_MS) && !s.lastError;
        const session = this.indicators.check('sequencer');
        const data = { leader: s.isLeader, lastTickMsAgo: staleMs, lag: this.log.lag };
        return ok ? session.up(data) : session.down({ ...data, error: s.lastError ? String((s.lastError as Error).message ?? s.lastError) : 'not ticking' });
      },
    ]);
  }

  @Get('metrics')
  async prometheus(@Res() reply: FastifyReply) {
    const cp = await this.log.latestCheckpoint().catch(() => undefined);
    if (cp) this.metrics.treeSize.set(cp.treeSize);
    this.metrics.lag.set(this.log.lag);
    this.metrics.leader.set(this.log.sequencer.isLeader ? 1 : 0);
    reply.header('content-type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
