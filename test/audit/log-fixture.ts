import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSignedStatement } from '../../src/core/cose';
import type { RunningApp } from '../../src/bootstrap';
import { Db } from '../../src/db/db';
import { LogService } from '../../src/log/log.service';
import { runAudit, type AuditOptions, type AuditReport } from '../../src/audit/replay';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { ADMIN, baseEnv, REPO_ROOT, startInProcess } from '../helpers/service';
import { makeIssuer, makeStatement, type TestIssuer } from '../helpers/statements';

/**
 * A real service on a real PostgreSQL database with a log worth auditing: trust changes at the
 * start and in the middle (issuers added, a policy change), a few hundred registrations through
 * HTTP, and the bulk as valid statements inserted behind the admission path and integrated by
 * the service's own sequencer.
 */
export class LogFixture {
  db!: TestDatabase;
  svc!: RunningApp;
  env!: Record<string, string | undefined>;
  a = makeIssuer('https://builder-a.example');
  b = makeIssuer('https://builder-b.example');
  private dirs: string[] = [];

  get url(): string {
    return this.svc.url;
  }

  get vkey(): string {
    return this.svc.runtime.keys.noteVerifierKey;
  }

  get pg(): Db {
    return this.svc.app.get(Db);
  }

  async start(label: string): Promise<void> {
    this.db = await createTestDatabase(label);
    this.env = baseEnv({ DATABASE_URL: this.db.url });
    this.svc = await startInProcess(this.env);
  }

  /** Stops the service and starts it again on the same database and keys (drops its caches). */
  async restart(): Promise<void> {
    await this.svc.close();
    this.svc = await startInProcess(this.env);
  }

  async stop(): Promise<void> {
    await this.svc?.close();
    await this.db?.drop();
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }

  tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'scitt-audit-'));
    this.dirs.push(d);
    return d;
  }

  async admin(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(this.url + '/admin' + path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
    assert.ok(res.status === 200 || res.status === 201, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
    return res.json();
  }

  async trust(i: TestIssuer): Promise<void> {
    await this.admin('POST', '/issuers', { iss: i.iss, keys: [i.jwk] });
  }

  async treeSize(): Promise<number> {
    return (await this.svc.app.get(LogService).latestCheckpoint()).treeSize;
  }

  /** Registers through POST /entries, `parallel` at a time. */
  async registerHttp(i: TestIssuer, n: number, parallel = 50): Promise<void> {
    for (let done = 0; done < n; done += parallel) {
      const k = Math.min(parallel, n - done);
      const statuses = await Promise.all(
        Array.from({ length: k }, async () => {
          const res = await fetch(this.url + '/entries', { method: 'POST', body: makeStatement(i), headers: { 'content-type': 'application/cose' } });
          await res.arrayBuffer();
          return res.status;
        }),
      );
      for (const s of statuses) assert.ok(s === 201 || s === 202, `registration answered ${s}`);
    }
  }

  /**
   * Inserts statements straight into entries + pending_entries (what the admission path writes)
   * and lets the sequencer integrate them. Returns the index of the first one.
   */
  async insertDirect(statements: Buffer[]): Promise<number> {
    const first = await this.drain();
    for (let o = 0; o < statements.length; o += 2000) {
      const parsed = statements.slice(o, o + 2000).map((s) => parseSignedStatement(s));
      await this.pg.query(
        `WITH ins AS (
           INSERT INTO entries (entry_hash, statement, issuer, subject, content_type, kind)
           SELECT h, s, i, sub, ct, 0 FROM unnest($1::bytea[], $2::bytea[], $3::text[], $4::text[], $5::text[]) AS t(h, s, i, sub, ct)
           RETURNING entry_hash)
         INSERT INTO pending_entries (entry_hash) SELECT entry_hash FROM ins`,
        [parsed.map((p) => p.entryHash), parsed.map((p) => p.registered), parsed.map((p) => p.iss), parsed.map((p) => p.sub ?? null), parsed.map((p) => String(p.contentType))],
      );
    }
    await this.drain(first + statements.length);
    return first;
  }

  /** Integrates everything pending; with `until`, also waits for that size. Returns the tree size. */
  async drain(until = 0): Promise<number> {
    const seq = this.svc.app.get(LogService).sequencer;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const n = await seq.integrateOnce();
      const size = await this.treeSize();
      if (n === 0 && size >= until) return size;
      if (Date.now() > deadline) throw new Error(`the log did not reach size ${until} (at ${size})`);
      // The service's own sequencer loop may hold the batch: give it a moment.
      if (n === 0) await new Promise((r) => setTimeout(r, 5));
    }
  }

  bulk(i: TestIssuer, n: number): Buffer[] {
    return Array.from({ length: n }, (_, k) => makeStatement(i, { payload: Buffer.from(`{"n":${k},"r":${Math.random()}}`) }));
  }

  /** Builds a log of about `size` entries. */
  async build(size: number): Promise<number> {
    await this.trust(this.a); // entries 0 (initial policy) and 1
    await this.registerHttp(this.a, 200);
    await this.insertDirect(this.bulk(this.a, Math.floor(size / 2)));
    await this.trust(this.b);
    await this.admin('PUT', '/policy', { allowedContentTypes: ['application/spdx+json', 'application/vnd.in-toto+json'], subjectPattern: 'oci://.*' });
    await this.registerHttp(this.b, 100);
    const rest = size - (await this.drain());
    await this.insertDirect([...this.bulk(this.b, Math.floor(rest / 2)), ...this.bulk(this.a, rest - Math.floor(rest / 2))]);
    return this.drain();
  }

  audit(stateDir: string, extra: Partial<AuditOptions> = {}): Promise<AuditReport> {
    return runAudit({ url: this.url, vkey: this.vkey, stateDir, ...extra });
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node dist/src/cli/scitt.js ...` as a child process (asynchronously: the service runs in this process). */
export function scitt(args: string[], opts: { env?: NodeJS.ProcessEnv; onStdout?: (s: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/src/cli/scitt.js'), ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(stdout, child);
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
