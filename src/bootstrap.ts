import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import rateLimit from '@fastify/rate-limit';
import { AppModule } from './app.module';
import { loadConfig, type EnvConfig } from './config/env.config';
import { createRootLogger, PinoNestLogger } from './config/logger';
import { MetricsService } from './health/metrics.service';
import { resolveRuntime, type Runtime } from './runtime';
import { LedgerError } from './core/errors';

export interface RunningApp {
  app: NestFastifyApplication;
  /** Every route the HTTP server serves (method, Fastify path), for the OpenAPI contract test. */
  routes: { method: string; url: string }[];
  runtime: Runtime;
  url: string;
  close(): Promise<void>;
}

/** Builds and starts the service. Used by main.ts, the tests and the benchmarks alike. */
export async function startApp(env: Record<string, string | undefined>, opts: { listen?: boolean } = {}): Promise<RunningApp> {
  const config: EnvConfig = loadConfig(env);
  const root = createRootLogger(config.LOG_LEVEL);
  const runtime = await resolveRuntime(config);
  const adapter = new FastifyAdapter({
    bodyLimit: config.MAX_BODY_BYTES,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: 65000,
    logger: false,
    // No Nest middleware is used: without @fastify/middie no request pays for its hook.
    skipMiddie: true,
  });
  const fastify = adapter.getInstance();
  const routes: { method: string; url: string }[] = [];
  fastify.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) routes.push({ method: String(m), url: r.url ?? r.path });
  });
  // Signed statements arrive as raw bytes: every type but JSON is read as a Buffer (never decoded
  // as text), with the body limit enforced while reading, before anything is parsed.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: config.MAX_BODY_BYTES }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(body as string);
    } catch {
      return done(Object.assign(new LedgerError('MALFORMED_REQUEST', 'the JSON body does not parse'), { statusCode: 400 }), undefined);
    }
    // PostgreSQL text and jsonb cannot hold U+0000: refused here, before it could fail a write.
    if (holdsNul(value)) return done(Object.assign(new LedgerError('MALFORMED_REQUEST', 'a string in the JSON body contains U+0000'), { statusCode: 400 }), undefined);
    done(null, value);
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.MAX_BODY_BYTES }, (_req, body, done) => done(null, body));
  // Errors Fastify raises before a route runs (body limit, rate limit) reach Nest's handler and so
  // the one ProblemFilter.
  if (config.RATE_LIMIT_PER_SECOND > 0) {
    await fastify.register(rateLimit as any, {
      global: true,
      max: config.RATE_LIMIT_PER_SECOND,
      timeWindow: 1000,
      allowList: (req: any) => /^\/(healthz|readyz|metrics)\b/.test(req.url),
      errorResponseBuilder: (_req: unknown, ctx: { ttl: number }) => {
        const retry = Math.max(1, Math.ceil(ctx.ttl / 1000));
        return Object.assign(new LedgerError('RATE_LIMITED', `rate limit exceeded; retry in ${retry}s`, { retryAfter: retry }), { statusCode: 429 });
      },
    });
  }
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(runtime), adapter, {
    logger: new PinoNestLogger(root),
    abortOnError: false,
    bodyParser: false,
  });
  app.enableShutdownHooks();
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = (req as any).routeOptions?.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  await app.init();
  let url = '';
  if (opts.listen !== false) {
    await app.listen({ port: config.PORT, host: config.HOST });
    const addr = fastify.server.address();
    url = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : '';
  }
  return {
    app,
    runtime,
    url,
    routes,
    async close() {
      await app.close();
      await runtime.embedded?.stop();
    },
  };
}

/** True when a string (or an object key) anywhere in a parsed JSON value contains U+0000. */
function holdsNul(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (Array.isArray(v)) return v.some(holdsNul);
  if (v !== null && typeof v === 'object') return Object.entries(v).some(([k, x]) => k.includes('\u0000') || holdsNul(x));
  return false;
}
