import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics (prom-client), one registry per process, served at /metrics. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly registrations = new Counter({
    name: 'scitt_registrations_total',
    help: 'Registration requests by result (accepted, rejected) and reason',
    labelNames: ['result', 'reason'] as const,
    registers: [this.registry],
  });
  readonly treeSize = new Gauge({ name: 'scitt_tree_size', help: 'Size of the newest published checkpoint', registers: [this.registry] });
  readonly lag = new Gauge({ name: 'scitt_sequencer_lag_entries', help: 'Acknowledged entries not yet integrated (upper bound)', registers: [this.registry] });
  readonly leader = new Gauge({ name: 'scitt_sequencer_leader', help: '1 when this process is the log writer', registers: [this.registry] });
  readonly httpDuration = new Histogram({
    name: 'scitt_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  accepted(reason: 'new' | 'duplicate'): void {
    this.registrations.inc({ result: 'accepted', reason });
  }

  rejected(code: string): void {
    this.registrations.inc({ result: 'rejected', reason: code });
  }
}
