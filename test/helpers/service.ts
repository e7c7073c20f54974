import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startApp, type RunningApp } from '../../src/bootstrap';

export const REPO_ROOT = resolve(__dirname, '../../..');
export const ADMIN = 'test-admin-token-0123456789';

const tempDirs: string[] = [];
process.once('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** A temporary directory removed when the test process exits. */
export function tempDir(prefix = 'scitt-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: tempDir('scitt-data-'),
    ADMIN_TOKEN: ADMIN,
    RATE_LIMIT_PER_SECOND: '0',
    LOG_BATCH_MS: '20',
    LOG_LEVEL: 'warn',
    LOG_ORIGIN: 'test.example/log',
    SERVICE_ISSUER: 'https://test.example/ledger',
    ...extra,
  };
}

/** The service in this process (fast; used by most end-to-end tests). */
export async function startInProcess(env: Record<string, string | undefined>): Promise<RunningApp> {
  return startApp(env);
}

export interface ChildService {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** The real `node dist/src/main.js` in a child process: for restarts, kills and several processes on one database. */
export function spawnService(env: Record<string, string | undefined>, timeoutMs = 60000, nodeArgs: string[] = []): Promise<ChildService> {
  const child = spawn(process.execPath, [...nodeArgs, join(REPO_ROOT, 'dist/src/main.js')], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  // Structured logs go to stdout; keep them with stderr so a failing test can show what the service said.
  child.stdout!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not start in ${timeoutMs} ms:\n${err}`));
    }, timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m && timer) {
        clearTimeout(timer);
        resolvePromise({
          url: m[1],
          child,
          stderr: () => err,
          stop: (signal: NodeJS.Signals = 'SIGTERM') =>
            new Promise<void>((r) => {
              if (child.exitCode !== null || child.signalCode !== null) return r();
              child.once('exit', () => r());
              child.kill(signal);
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before listening:\n${err}`));
    });
  });
}

export function readAdminToken(dataDir: string): string {
  return readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
}

export async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 10000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
