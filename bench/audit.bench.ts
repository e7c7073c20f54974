/**
 * Issue 6 target: `scitt audit` replays 1,000,000 entries from a running service with full
 * signature re-verification at >= 10,000 entries/s on a 2-core machine, and says where the time
 * goes. The log is real: ES256 statements pre-signed by an issuer the service trusts (registered
 * through the admin API, so every decision replays as valid), bulk-inserted into entries +
 * pending_entries as the admission path writes them, and integrated by the service's sequencer.
 *
 * BENCH_AUDIT_ENTRIES overrides the size. Needs PostgreSQL (TEST_PG_URL); creates and drops its own database.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAudit } from '../src/audit/replay';
import { startApp } from '../src/bootstrap';
import { publicKeyToJwk, signSign1 } from '../src/core/cose';
import { entryHash } from '../src/core/merkle';
import { Db } from '../src/db/db';
import { LogService } from '../src/log/log.service';
import { createTestDatabase } from '../test/helpers/pg';
import { printTable, type BenchRow } from './report';

const ADMIN = 'bench-admin-token-0123456789';
const ISS = 'https://builder.bench.example';

/** Signs `n` distinct statements of about 400 bytes, as a CI builder would (SPDX claim about an image). */
function sign(n: number, key: ReturnType<typeof generateKeyPairSync>['privateKey'], kid: Buffer, iat: number): Buffer[] {
  const out: Buffer[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const h = new Map<number, unknown>([
      [1, -7],
      [3, 'application/spdx+json'],
      [4, kid],
      [15, new Map<number, unknown>([[1, ISS], [2, `oci://registry.example/app@sha256:${randomBytes(32).toString('hex')}`], [6, iat]])],
    ]);
    out[i] = signSign1({ protectedHeader: h, payload: Buffer.from(`{"spdxVersion":"SPDX-2.3","name":"app","n":${i},"r":"${randomBytes(24).toString('base64')}"}`), key });
  }
  return out;
}

export async function run(opts: { entries?: number } = {}): Promise<BenchRow[]> {
  const N = opts.entries ?? Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
  const tdb = await createTestDatabase('bench_audit');
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-audit-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-audit-state-'));
  const cleanUp = async () => {
    await tdb.drop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  };
  const svc = await startApp({
    PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DATABASE_URL: tdb.url, ADMIN_TOKEN: ADMIN, RATE_LIMIT_PER_SECOND: '0',
    LOG_LEVEL: 'warn', LOG_BATCH_MS: '50', LOG_BATCH_MAX: '16384', LOG_MAX_PENDING: String(N * 2), LOG_ORIGIN: 'bench.example/log', SERVICE_ISSUER: 'https://bench.example/ledger',
  }).catch(async (e) => {
    await cleanUp(); // a service that did not start must not leave its database behind
    throw e;
  });
  const rows: BenchRow[] = [];
  try {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = Buffer.from('builder-key-1');
    const res = await fetch(`${svc.url}/admin/issuers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ iss: ISS, keys: [{ ...publicKeyToJwk(publicKey), kid: kid.toString() }] }),
    });
    if (res.status !== 201) throw new Error(`adding the issuer answered ${res.status}`);

    // Sign a chunk while PostgreSQL stores the previous one.
    const t0 = performance.now();
    const db = svc.app.get(Db);
    const CHUNK = 20000;
    const iat = Math.floor(Date.now() / 1000);
    let insert: Promise<unknown> = Promise.resolve();
    let signMs = 0;
    let bytes = 0;
    for (let done = 0; done < N; done += CHUNK) {
      const ts = performance.now();
      const sts = sign(Math.min(CHUNK, N - done), privateKey, kid, iat);
      signMs += performance.now() - ts;
      for (const s of sts) bytes += s.length;
      await insert;
      insert = db.query(
        `WITH ins AS (INSERT INTO entries (entry_hash, statement, issuer, subject, content_type, kind)
                      SELECT h, s, $3, 'oci://registry.example/app', 'application/spdx+json', 0 FROM unnest($1::bytea[], $2::bytea[]) AS t(h, s) RETURNING entry_hash)
         INSERT INTO pending_entries (entry_hash) SELECT entry_hash FROM ins`,
        [sts.map((s) => entryHash(s)), sts, ISS],
      );
    }
    await insert;
    const setupS = (performance.now() - t0) / 1000;
    rows.push({ bench: 'audit', metric: 'setup: sign + bulk insert', value: setupS, unit: 's', note: `${N} ES256 statements, ${Math.round(bytes / N)} B avg, signing ${(signMs / 1000).toFixed(1)} s` });

    const t1 = performance.now();
    const log = svc.app.get(LogService);
    while ((await log.sequencer.integrateOnce()) > 0);
    const size = (await log.latestCheckpoint()).treeSize;
    if (size !== N + 2) throw new Error(`tree size ${size}, want ${N + 2}`);
    rows.push({ bench: 'audit', metric: 'setup: sequencer drain', value: (performance.now() - t1) / 1000, unit: 's' });

    const r = await runAudit({ url: svc.url, vkey: svc.runtime.keys.noteVerifierKey, stateDir });
    if (!r.ok) throw new Error(`the audit found ${r.findings.length} problem(s): ${JSON.stringify(r.findings.slice(0, 3))}`);
    const cores = availableParallelism();
    const t = r.timings;
    rows.push({
      bench: 'audit',
      metric: `replay ${r.entriesChecked} entries, full re-verification`,
      value: r.entriesPerSecond,
      unit: 'entries/s',
      target: '>= 10,000',
      pass: r.entriesPerSecond >= 10000,
      note: `${(t.totalMs / 1000).toFixed(1)} s on ${cores} cores, ${r.workers} worker threads, service in process`,
    });
    const phase = (metric: string, ms: number, note: string) => rows.push({ bench: 'audit', metric, value: ms / 1000, unit: 's', note });
    phase('  download + split (main)', t.downloadMs, 'waiting for /log/statements');
    phase('  parse (workers)', t.parseMs, 'COSE decode + profile, CPU summed over workers');
    phase('  hashing (workers)', t.hashMs, 'entry + leaf hashes');
    phase('  signature + decision (workers)', t.verifyMs, 'TrustState.evaluate: ES256 verify dominates');
    phase('  tree append (main)', t.treeMs, 'TreeState.append');
    phase('  tile + bundle comparison (main)', t.tilesMs, 'waiting for /tlog tiles and entry bundles');
    phase('  waiting for workers (main)', t.waitWorkersMs, 'main thread idle: verification is the bottleneck when high');
  } finally {
    await svc.close();
    await cleanUp();
  }
  return rows;
}

if (require.main === module) {
  run()
    .then(printTable)
    .catch((e) => {
      process.stderr.write(`${e?.stack ?? e}\n`);
      process.exit(1);
    });
}
