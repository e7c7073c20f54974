import { ConfigError } from './config/env.config';
import { startApp } from './bootstrap';

async function main(): Promise<void> {
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
