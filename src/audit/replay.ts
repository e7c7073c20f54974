/**
 * The auditor's replay engine, shared by `scitt audit` and the tests: framework-free, it reads
 * only the log's public endpoints and a local state directory.
 *
 * One run: verify the checkpoint with the pinned note key; prove it consistent with the last
 * verified one (a fork or rollback is a finding); replay the new entries (hashes, tree, tiles,
 * entry bundles, signatures, registration decisions against the trust state replayed from the
 * log); compare the recomputed root; and only when nothing diverged, store the new checkpoint.
 */
import { availableParallelism } from 'node:os';
import { decodeBase64Strict, openCheckpoint, type Checkpoint } from '../core/note';
import { TreeState, verifyConsistency } from '../core/merkle';
import { TrustState } from '../core/policy';
import { LogClient } from './replay-client';
import { parseServiceKeySet, parseVkey, type ServiceKeySet } from './replay-keys';
import { createChecker } from './replay-pool';
import { RangeReplay, ReplayStopped } from './replay-run';
import { captureEdges, loadState, restoreTree, saveState, type AuditState } from './replay-state';
import { restoreTrust, serialiseTrust, TrustReplayer } from './replay-trust';
import { auditError, emptyTimings, type AuditReport, type Finding } from './replay-types';

export * from './replay-types';
export { loadState, STATE_FILE, type AuditState } from './replay-state';

export interface AuditOptions {
  url: string;
  /** The log's C2SP note verifier key (`<name>+<hex id>+<base64>`). */
  vkey: string;
  /** The state directory, or how to name it from the verified checkpoint's origin. */
  stateDir: string | ((origin: string) => string);
  /** A pinned COSE_KeySet of the service (overrides the one pinned in the state). */
  keys?: Uint8Array;
  /** Worker threads re-verifying signatures; 0 checks on this thread. Default: one per core. */
  workers?: number;
  /** Tile and entry bundle requests in flight. Default 6. */
  concurrency?: number;
  /** Entries per batch handed to a worker. Default 512. */
  batchSize?: number;
  /** Findings listed in the report (the rest are counted). Default 1000. */
  maxFindings?: number;
  signal?: AbortSignal;
  /** Called once the range to replay is known. */
  onStart?: (info: { origin: string; from: number; to: number }) => void;
  onProgress?: (done: number, total: number) => void;
}

export async function runAudit(o: AuditOptions): Promise<AuditReport> {
  const t0 = performance.now();
  const verifier = parseVkey(o.vkey);
  const vkeyText = o.vkey.trim().split(/\r?\n/)[0].trim();
  const client = new LogClient(o.url);
  const timings = emptyTimings();
  const findings: Finding[] = [];
  const report = (f: Finding) => void findings.push(f);
  const r: AuditReport = {
    ok: false, url: client.base, origin: '', from: 0, to: 0, treeSize: 0, root: '', entriesChecked: 0, trustChanges: 0, entriesPerSecond: 0,
    workers: 0, timings, findings: [], findingsOmitted: 0, stateDir: typeof o.stateDir === 'string' ? o.stateDir : '', stateSaved: false,
  };
  const finish = (): AuditReport => {
    // Entry findings in log order, then the rest in the order they were found.
    const sorted = findings.map((f, i) => ({ f, i })).sort((a, b) => (a.f.index ?? Infinity) - (b.f.index ?? Infinity) || a.i - b.i);
    const max = o.maxFindings ?? 1000;
    r.findings = sorted.slice(0, max).map((x) => x.f);
    r.findingsOmitted = Math.max(0, sorted.length - max);
    r.ok = findings.length === 0;
    timings.totalMs = performance.now() - t0;
    return r;
  };

  // 1. The checkpoint, verified against the pinned note key before anything else is believed.
  const res = await client.get('/tlog/checkpoint', 'text/plain', 1 << 20);
  timings.checkpointMs = performance.now() - t0;
  if (res.status !== 200) throw auditError('UNREACHABLE', `GET /tlog/checkpoint answered ${res.status}`);
  let cp: Checkpoint;
  try {
    cp = openCheckpoint(res.body, [verifier]);
  } catch (e: any) {
    report({ check: 'CHECKPOINT_SIGNATURE', code: e?.code, message: `the checkpoint does not verify with the pinned key ${verifier.name}: ${e?.message ?? e}` });
    return finish();
  }
  Object.assign(r, { origin: cp.origin, to: cp.size, treeSize: cp.size, root: cp.rootHash.toString('base64') });
  const dir = typeof o.stateDir === 'string' ? o.stateDir : o.stateDir(cp.origin);
  r.stateDir = dir;

  // 2. What the last run verified, if anything, and the keys trust changes must verify with.
  const state = loadState(dir);
  if (state && state.origin !== cp.origin) throw auditError('BAD_STATE', `${dir} holds the audit of ${state.origin}, not ${cp.origin}`);
  if (state && state.vkey !== vkeyText) throw auditError('BAD_STATE', `${dir} was verified with another note key (${state.vkey.split('+')[0]}); use another --state`);
  let tree = TreeState.empty();
  let edge = new Map<string, Buffer>();
  let trust = new TrustState();
  let keys: ServiceKeySet;
  if (state) {
    ({ tree, tiles: edge } = await restoreTree(state));
    try {
      trust = restoreTrust(state.trust);
    } catch (e: any) {
      throw auditError('BAD_STATE', `the stored trust state does not load: ${e?.message ?? e}`);
    }
    keys = parseServiceKeySet(o.keys ?? Buffer.from(state.serviceKeys, 'base64'), o.keys ? 'the --keys file' : 'the pinned service keys');
    r.from = state.checkpoint.size;
    r.previous = { treeSize: state.checkpoint.size, root: state.checkpoint.root };
  } else if (o.keys) {
    keys = parseServiceKeySet(o.keys, 'the --keys file');
  } else {
    const k = await client.get('/.well-known/scitt-keys', 'application/cbor', 1 << 20);
    if (k.status !== 200) throw auditError('UNREACHABLE', `GET /.well-known/scitt-keys answered ${k.status}`);
    keys = parseServiceKeySet(k.body, 'the key set the service serves');
  }

  // 3. Append-only: the new checkpoint must extend the stored one.
  const tc = performance.now();
  let replay = cp.size > r.from;
  let complete = true;
  if (state) {
    const oldRoot = Buffer.from(state.checkpoint.root, 'base64');
    if (cp.size < r.from) {
      report({ check: 'CONSISTENCY', message: `rollback: the log's checkpoint is at size ${cp.size}, but size ${r.from} was verified before` });
      replay = false;
    } else if (cp.size === r.from && !cp.rootHash.equals(oldRoot)) {
      report({ check: 'CONSISTENCY', message: `fork: the checkpoint at size ${cp.size} has root ${r.root}, but root ${state.checkpoint.root} was verified at that size` });
    } else if (cp.size > r.from && r.from > 0) {
      const why = await checkConsistency(client, r.from, cp.size, oldRoot, cp.rootHash);
      if (why) {
        report({ check: 'CONSISTENCY', message: `the checkpoint at size ${cp.size} is not consistent with the verified one at size ${r.from}: ${why}` });
        // The new entries would extend a tree that is not the one verified: nothing to learn from them.
        replay = false;
      }
    }
  }
  timings.consistencyMs = performance.now() - tc;

  // 4. The new entries.
  const replayer = new TrustReplayer(trust, keys, state?.serviceIssuer);
  o.onStart?.({ origin: cp.origin, from: r.from, to: cp.size });
  if (replay) {
    // Starting threads costs more than checking a small range on this one.
    const workers = o.workers ?? (cp.size - r.from < 2048 ? 0 : availableParallelism());
    r.workers = workers;
    const checker = createChecker(workers, serialiseTrust(trust));
    const tr = performance.now();
    const range = new RangeReplay({
      client, from: r.from, to: cp.size, tree, edge, trust: replayer, checker, timings, report, signal: o.signal, onProgress: o.onProgress,
      batchSize: o.batchSize ?? 512, concurrency: o.concurrency ?? 6,
    });
    try {
      await range.run();
    } catch (e) {
      if (!(e instanceof ReplayStopped)) throw e;
      report(e.finding);
      complete = false;
    } finally {
      await checker.close();
    }
    r.entriesChecked = range.checked;
    r.entriesPerSecond = r.entriesChecked / Math.max(1e-3, (performance.now() - tr) / 1000);
  }
  // (A fresh audit of an empty log checks the empty root too.)
  if (complete && (replay || !state) && !tree.root().equals(cp.rootHash)) {
    report({ check: 'ROOT_MISMATCH', message: `the root recomputed from the log's entries is ${tree.root().toString('base64')}, but the checkpoint at size ${cp.size} says ${r.root}` });
  }
  r.trustChanges = replayer.changes;

  // 5. Only a fully verified checkpoint becomes the new starting point.
  if (findings.length === 0) {
    const next: AuditState = {
      version: 1, origin: cp.origin, vkey: vkeyText, url: client.base,
      checkpoint: { size: cp.size, root: r.root, note: res.body.toString('utf8') },
      edges: captureEdges(cp.size, edge), trust: serialiseTrust(replayer.state), serviceIssuer: replayer.serviceIssuer,
      serviceKeys: keys.bytes.toString('base64'), trustChanges: (state?.trustChanges ?? 0) + replayer.changes, updatedAt: new Date().toISOString(),
    };
    saveState(dir, next);
    r.stateSaved = true;
  }
  return finish();
}

/** Fetches and verifies the RFC 9162 consistency proof; returns why it fails, or undefined. */
async function checkConsistency(client: LogClient, from: number, to: number, oldRoot: Buffer, newRoot: Buffer): Promise<string | undefined> {
  const res = await client.get(`/log/consistency?from=${from}&to=${to}`, 'application/json', 1 << 20);
  if (res.status !== 200) return `the log does not serve a consistency proof (HTTP ${res.status})`;
  let proof: Buffer[];
  try {
    const j = JSON.parse(res.body.toString('utf8'));
    if (j?.from !== from || j?.to !== to || !Array.isArray(j.proof) || j.proof.length > 128) throw new Error('unexpected shape');
    proof = j.proof.map((p: unknown) => {
      const b = typeof p === 'string' ? decodeBase64Strict(p) : undefined;
      if (!b) throw new Error('a proof hash is not base64');
      return b;
    });
  } catch (e: any) {
    return `the consistency proof is malformed: ${e?.message ?? e}`;
  }
  try {
    verifyConsistency(from, to, proof, oldRoot, newRoot);
    return undefined;
  } catch (e: any) {
    return `${e?.code ?? 'BAD_PROOF'}: ${e?.message ?? e}`;
  }
}
