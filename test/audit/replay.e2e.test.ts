import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateNoteKey } from '../../src/core/note';
import { noteKeyName } from '../../src/log/service-keys';
import type { AuditReport } from '../../src/audit/replay';
import { LogFixture, scitt } from './log-fixture';

describe('scitt audit: replaying a real log of 10,000+ entries', () => {
  const fx = new LogFixture();
  let size = 0;
  let state = '';

  before(async () => {
    await fx.start('audit_replay');
    size = await fx.build(10_050);
    assert.ok(size >= 10_000, `log of ${size} entries`);
    state = fx.tempDir();
  });
  after(() => fx.stop());

  it('replays a fresh state from index 0 and verifies everything (CLI, exit 0, JSON report)', async () => {
    const run = await scitt(['audit', fx.url, '--vkey', fx.vkey, '--state', state, '--json']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const r = JSON.parse(run.stdout) as AuditReport;
    assert.equal(r.ok, true);
    assert.deepEqual(r.findings, []);
    assert.equal(r.origin, 'test.example/log');
    assert.equal(r.from, 0);
    assert.equal(r.to, size);
    assert.equal(r.treeSize, size);
    assert.equal(r.entriesChecked, size);
    // The initial policy, two issuers added, one policy change.
    assert.equal(r.trustChanges, 4);
    for (const k of ['checkpointMs', 'downloadMs', 'parseMs', 'hashMs', 'verifyMs', 'treeMs', 'tilesMs', 'totalMs'] as const) assert.equal(typeof r.timings[k], 'number');
    assert.ok(r.timings.verifyMs > 0);
    assert.equal(r.stateSaved, true);
    const saved = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8'));
    assert.equal(saved.checkpoint.size, size);
    assert.equal(saved.trust.issuers.length, 2);
    assert.ok(saved.serviceKeys.length > 0, 'the service keys are pinned');
  });

  it('a second run only processes the entries added since, after proving consistency', async () => {
    await fx.registerHttp(fx.a, 20);
    await fx.insertDirect(fx.bulk(fx.b, 480));
    const grown = await fx.drain();
    assert.equal(grown, size + 500);
    const r = await fx.audit(state);
    assert.equal(r.ok, true, JSON.stringify(r.findings));
    assert.equal(r.from, size);
    assert.equal(r.to, size + 500);
    assert.equal(r.entriesChecked, 500);
    assert.equal(r.trustChanges, 0);
    assert.ok(r.timings.consistencyMs > 0);
    assert.deepEqual(r.previous?.treeSize, size);
    size = grown;
  });

  it('with nothing new, a run checks the checkpoint and replays nothing', async () => {
    const r = await fx.audit(state);
    assert.equal(r.ok, true);
    assert.equal(r.entriesChecked, 0);
    assert.equal(r.from, size);
  });

  it('the worker pool and the single thread reach the same verdict', async () => {
    const inline = await fx.audit(fx.tempDir(), { workers: 0 });
    const pooled = await fx.audit(fx.tempDir(), { workers: 2, batchSize: 97 });
    assert.equal(inline.ok, true);
    assert.equal(pooled.ok, true);
    assert.equal(pooled.workers, 2);
    assert.equal(inline.root, pooled.root);
    assert.equal(inline.trustChanges, pooled.trustChanges);
  });

  it('a checkpoint signed by another key is a CHECKPOINT_SIGNATURE finding (exit 1); the key may come from a file', async () => {
    const other = generateNoteKey(noteKeyName('test.example/log')).verifierKey;
    const file = join(fx.tempDir(), 'vkey');
    writeFileSync(file, other + '\n');
    const dir = fx.tempDir();
    const run = await scitt(['audit', fx.url, '--vkey', file, '--state', dir, '--json']);
    assert.equal(run.code, 1, run.stderr);
    const r = JSON.parse(run.stdout) as AuditReport;
    assert.equal(r.ok, false);
    assert.equal(r.findings[0].check, 'CHECKPOINT_SIGNATURE');
    assert.equal(existsSync(join(dir, 'state.json')), false, 'nothing is stored for an unverified checkpoint');
    const good = join(fx.tempDir(), 'vkey');
    writeFileSync(good, fx.vkey + '\n');
    const ok = await scitt(['audit', fx.url, '--vkey', good, '--state', state]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /^OK/m);
  });

  it('usage errors exit 2 and an unreachable service exits 3', async () => {
    assert.equal((await scitt(['audit', fx.url, '--state', fx.tempDir()])).code, 2, 'no --vkey');
    assert.equal((await scitt(['audit', fx.url, '--vkey', 'not-a-key', '--state', fx.tempDir()])).code, 2);
    assert.equal((await scitt(['audit', fx.url, '--vkey', fx.vkey, '--bogus'])).code, 2);
    const down = await scitt(['audit', 'http://127.0.0.1:9', '--vkey', fx.vkey, '--state', fx.tempDir()]);
    assert.equal(down.code, 3, down.stderr);
  });

  it('the default state directory is per user and per log', async () => {
    const home = fx.tempDir();
    const run = await scitt(['audit', fx.url, '--vkey', fx.vkey, '--json'], { env: { XDG_STATE_HOME: home } });
    assert.equal(run.code, 0, run.stderr);
    const r = JSON.parse(run.stdout) as AuditReport;
    assert.ok(r.stateDir.startsWith(join(home, 'scitt', 'audit', 'test.example_log-')), r.stateDir);
    assert.ok(existsSync(join(r.stateDir, 'state.json')));
  });

  it('--watch reports each new checkpoint and stops on SIGINT', async () => {
    const reports: AuditReport[] = [];
    let grew = false;
    const run = await scitt(['audit', fx.url, '--vkey', fx.vkey, '--state', state, '--watch', '--interval', '0.2', '--json'], {
      onStdout: (out, child) => {
        const lines = out.split('\n').filter((l) => l.trim());
        while (reports.length < lines.length) reports.push(JSON.parse(lines[reports.length]));
        if (reports.length === 1 && !grew) {
          grew = true;
          void fx.insertDirect(fx.bulk(fx.a, 300));
        }
        if (reports.length === 2) child.kill('SIGINT');
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(reports.length, 2);
    assert.equal(reports[0].ok, true);
    assert.equal(reports[1].ok, true);
    assert.equal(reports[1].from, reports[0].treeSize);
    assert.equal(reports[1].treeSize, reports[0].treeSize + 300);
  });
});
