import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config/env.config';
import { startApp } from './bootstrap';
import { resolveKeysAndToken } from './runtime';

/**
 * WORKERS > 1: a primary forks that many service processes sharing the port. They coordinate the
 * way separate hosts would: one sequencer leads through the advisory lock, the rest register and
 * serve. The primary only supervises (restarts a worker that dies) and forwards signals.
 */
function supervise(workers: number): void {
  for (let i = 0; i < workers; i++) cluster.fork();
  let stopping = false;
  cluster.on('exit', (w, code, signal) => {
    if (stopping) return;
    process.stderr.write(`worker ${w.process.pid} exited (${signal ?? code}); starting another\n`);
    cluster.fork();
  });
  const stop = (sig: NodeJS.Signals) => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill(sig);
    let left = Object.keys(cluster.workers ?? {}).length;
    if (left === 0) process.exit(0);
    cluster.on('exit', () => --left <= 0 && process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (config.WORKERS > 1 && cluster.isPrimary) {
    if (!config.DATABASE_URL) throw new ConfigError('invalid configuration:\n  WORKERS>1 needs DATABASE_URL (the embedded PostgreSQL serves one process)');
    // Keys and the admin token are created once, before the workers race for them.
    resolveKeysAndToken(config);
    return supervise(config.WORKERS);
  }
  const running = await startApp(process.env);
  const { runtime, url } = running;
  const lines = [
    `scitt-ledger listening on ${url}`,
    `  database: ${runtime.embedded ? `embedded PostgreSQL (PGlite) in ${runtime.config.DATA_DIR}` : 'PostgreSQL from DATABASE_URL'}`,
    `  log origin: ${runtime.config.LOG_ORIGIN}`,
    `  checkpoint verifier key: ${runtime.keys.noteVerifierKey}`,
    `  receipt key id (base64url): ${runtime.keys.kid.toString('base64url')}`,
    runtime.adminTokenFile ? `  admin token: in ${runtime.adminTokenFile}` : '  admin token: from ADMIN_TOKEN',
    ...runtime.keys.generated.map((f) => `  generated key file ${f} (mode 0600)`),
  ];
  process.stderr.write(lines.join('\n') + '\n');
  let closing = false;
  const shutdown = async (sig: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`${sig}: shutting down\n`);
    await running.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((e) => {
  if (e instanceof ConfigError) process.stderr.write(`${e.message}\n`);
  else process.stderr.write(`failed to start: ${e?.stack ?? e}\n`);
  process.exit(1);
});
