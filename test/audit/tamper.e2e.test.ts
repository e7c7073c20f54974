import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { TreeState } from '../../src/core/merkle';
import { formatCheckpoint, signNote } from '../../src/core/note';
import { LogService } from '../../src/log/log.service';
import type { AuditReport, Finding } from '../../src/audit/replay';
import { makeIssuer, makeStatement } from '../helpers/statements';
import { LogFixture, scitt } from './log-fixture';

const checks = (r: AuditReport) => r.findings.map((f) => `${f.check}@${f.index ?? f.path ?? '-'}`);

/**
 * Tampering with the database behind a running service, one change at a time: each must be
 * detected and named (index or tile path, and check). Every scenario restores the database and
 * ends with a clean audit, so the next one starts from a log that verifies; the one change that
 * cannot be undone (an entry the policy should have refused) comes last.
 */
describe('scitt audit detects and names tampering with the database', () => {
  const fx = new LogFixture();
  let size = 0;

  before(async () => {
    await fx.start('audit_tamper');
    size = await fx.build(10_000);
  });
  after(() => fx.stop());

  const fresh = () => fx.audit(fx.tempDir());
  async function clean(): Promise<void> {
    const r = await fresh();
    assert.equal(r.ok, true, `after restoring: ${checks(r).join(', ')}`);
  }
  async function statementAt(idx: number): Promise<{ hash: Buffer; statement: Buffer }> {
    const { rows } = await fx.pg.query<{ entry_hash: Buffer; statement: Buffer }>(
      'SELECT e.entry_hash, e.statement FROM log_leaves l JOIN entries e USING (entry_hash) WHERE l.idx = $1',
      [idx],
    );
    return { hash: rows[0].entry_hash, statement: rows[0].statement };
  }

  it('one changed statement byte is named at its index (entry bundle and signature), and nowhere else', async () => {
    const i = 4321;
    const { hash, statement } = await statementAt(i);
    const changed = Buffer.from(statement);
    changed[changed.length - 80] ^= 0x01; // inside the payload: still a well-formed statement
    await fx.pg.query('UPDATE entries SET statement = $1 WHERE entry_hash = $2', [changed, hash]);
    try {
      const run = await scitt(['audit', fx.url, '--vkey', fx.vkey, '--state', fx.tempDir()]);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stdout, /FINDING +ENTRY_BUNDLE_MISMATCH at entry 4321:/);
      assert.match(run.stdout, /FINDING +STATEMENT_SIGNATURE at entry 4321:/);
      const r = await fresh();
      assert.deepEqual(checks(r).sort(), ['ENTRY_BUNDLE_MISMATCH@4321', 'STATEMENT_SIGNATURE@4321']);
      assert.equal(r.stateSaved, false);
    } finally {
      await fx.pg.query('UPDATE entries SET statement = $1 WHERE entry_hash = $2', [statement, hash]);
    }
    await clean();
  });

  it('a deleted entry is named MISSING_ENTRY at its index; the rest of the log is still checked', async () => {
    const i = 7001;
    const { hash } = await statementAt(i);
    await fx.pg.query('DELETE FROM log_leaves WHERE idx = $1', [i]);
    try {
      const r = await fresh();
      const missing = r.findings.filter((f) => f.check === 'MISSING_ENTRY');
      assert.deepEqual(missing.map((f) => f.index), [i]);
      // Its entry bundle cannot be served either: named by path.
      const bundle = r.findings.find((f) => f.check === 'MISSING_TILE');
      assert.equal(bundle?.path, 'tile/entries/027');
      assert.deepEqual(checks(r).sort(), ['MISSING_ENTRY@7001', 'MISSING_TILE@6912']);
      assert.equal(r.entriesChecked, size);
      // The service itself says so: a problem when the hole is in the first chunk it reads...
      const near = await fetch(`${fx.url}/log/statements?start=7000&end=7003`, { headers: { accept: 'application/json' } });
      assert.equal(near.status, 500);
      const problem = (await near.json()) as { code: string; detail: string };
      assert.equal(problem.code, 'STORAGE_INCOMPLETE');
      assert.match(problem.detail, /entry 7001/);
      // ...and an aborted stream, never a clean short body, when it is further on.
      const far = await fetch(`${fx.url}/log/statements?start=1000&end=8000`);
      assert.equal(far.status, 200);
      await assert.rejects(far.arrayBuffer());
    } finally {
      await fx.pg.query('INSERT INTO log_leaves (idx, entry_hash) VALUES ($1, $2)', [i, hash]);
    }
    await clean();
  });

  it('a rewritten tile is named TILE_MISMATCH by its path (a full level-0 tile and the level-1 edge)', async () => {
    const { rows } = await fx.pg.query<{ hashes: Buffer }>('SELECT hashes FROM tiles WHERE level = 0 AND idx = 10');
    const original = rows[0].hashes;
    const forged = Buffer.from(original);
    forged[5 * 32 + 7] ^= 0xff;
    const edge = (await fx.pg.query<{ idx: string; hashes: Buffer }>('SELECT idx, hashes FROM tile_edges WHERE level = 1')).rows[0];
    const forgedEdge = Buffer.from(edge.hashes);
    forgedEdge[0] ^= 0x80;
    await fx.pg.query('UPDATE tiles SET hashes = $1 WHERE level = 0 AND idx = 10', [forged]);
    await fx.pg.query('UPDATE tile_edges SET hashes = $1 WHERE level = 1', [forgedEdge]);
    try {
      const r = await fresh();
      const width = Math.floor(size / 256);
      assert.deepEqual(
        r.findings.map((f) => [f.check, f.path, f.index]),
        [
          ['TILE_MISMATCH', `tile/1/000.p/${width}`, 0],
          ['TILE_MISMATCH', 'tile/0/010', 10 * 256 + 5],
        ],
      );
    } finally {
      await fx.pg.query('UPDATE tiles SET hashes = $1 WHERE level = 0 AND idx = 10', [original]);
      await fx.pg.query('UPDATE tile_edges SET hashes = $1 WHERE level = 1', [edge.hashes]);
    }
    await clean();
  });

  it('a checkpoint for a forked tree is a CONSISTENCY finding against the stored state, which stays put', async () => {
    const state = fx.tempDir();
    const before = await fx.audit(state);
    assert.equal(before.ok, true);
    await fx.insertDirect(fx.bulk(fx.a, 100));
    const grown = await fx.drain();
    assert.equal(grown, size + 100);
    // The fork: the same log up to size - 10, then other entries, signed with the service's note key.
    const log = fx.svc.app.get(LogService);
    const fork = await TreeState.load(size - 10, log.tiles.reader(fx.pg, size - 10));
    fork.append(Array.from({ length: grown - (size - 10) }, () => randomBytes(32)));
    const note = signNote(formatCheckpoint({ origin: 'test.example/log', size: grown, rootHash: fork.root() }), fx.svc.runtime.keys.noteSigner);
    const { rows } = await fx.pg.query<{ note: string; root: Buffer }>('SELECT note, root FROM checkpoints WHERE tree_size = $1', [grown]);
    await fx.pg.query('UPDATE checkpoints SET note = $1, root = $2 WHERE tree_size = $3', [note, fork.root(), grown]);
    try {
      await fx.restart(); // the service now serves the forged checkpoint as its latest
      const r = await fx.audit(state);
      assert.equal(r.ok, false);
      const consistency = r.findings.find((f: Finding) => f.check === 'CONSISTENCY');
      assert.ok(consistency, checks(r).join(', '));
      assert.match(consistency.message, new RegExp(`size ${grown} is not consistent with the verified one at size ${size}`));
      assert.equal(r.entriesChecked, 0, 'entries on top of a fork are not replayed');
      // A fresh auditor, with nothing stored, finds that the statements do not lead to that root.
      const fresh = await fx.audit(fx.tempDir());
      assert.deepEqual(checks(fresh), ['ROOT_MISMATCH@-']);
      assert.equal(r.stateSaved, false);
      assert.equal(JSON.parse(readFileSync(join(state, 'state.json'), 'utf8')).checkpoint.size, size, 'the stored state is not advanced');
    } finally {
      await fx.pg.query('UPDATE checkpoints SET note = $1, root = $2 WHERE tree_size = $3', [rows[0].note, rows[0].root, grown]);
      await fx.restart();
    }
    const after = await fx.audit(state);
    assert.equal(after.ok, true, checks(after).join(', '));
    assert.equal(after.entriesChecked, 100);
    size = grown;
  });

  it('a signed checkpoint for more entries than the log holds: the first absent entry is named', async () => {
    const state = fx.tempDir();
    assert.equal((await fx.audit(state)).ok, true);
    const { rows } = await fx.pg.query('SELECT * FROM checkpoints WHERE tree_size = $1', [size]);
    const bigger = size + 5;
    const note = signNote(formatCheckpoint({ origin: 'test.example/log', size: bigger, rootHash: randomBytes(32) }), fx.svc.runtime.keys.noteSigner);
    await fx.pg.query(
      'INSERT INTO checkpoints (tree_size, root, note, receipt_protected, receipt_signature, created_at) VALUES ($1, $2, $3, $4, $5, now())',
      [bigger, randomBytes(32), note, rows[0].receipt_protected, rows[0].receipt_signature],
    );
    try {
      await fx.restart();
      const withState = await fx.audit(state);
      assert.deepEqual(checks(withState), ['CONSISTENCY@-']);
      const r = await fx.audit(fx.tempDir());
      assert.equal(r.ok, false);
      assert.equal(r.findings.find((f) => f.check === 'MISSING_ENTRY')?.index, size);
      assert.ok(r.findings.some((f) => f.check === 'MISSING_TILE' && f.path === `tile/entries/0${Math.floor(size / 256)}.p/${bigger % 256}`), checks(r).join(', '));
      const run = await scitt(['audit', fx.url, '--vkey', fx.vkey, '--state', fx.tempDir()]);
      assert.equal(run.code, 1, 'a finding, not an outage');
    } finally {
      await fx.pg.query('DELETE FROM checkpoints WHERE tree_size = $1', [bigger]);
      await fx.restart();
    }
    assert.equal((await fx.audit(state)).ok, true);
  });

  it('a rolled-back checkpoint is a CONSISTENCY finding against the stored state', async () => {
    const state = fx.tempDir();
    assert.equal((await fx.audit(state)).ok, true);
    // Hide the newest checkpoint: the service then publishes an older tree head as its latest.
    const { rows } = await fx.pg.query('SELECT * FROM checkpoints WHERE tree_size = $1', [size]);
    await fx.pg.query('DELETE FROM checkpoints WHERE tree_size = $1', [size]);
    try {
      await fx.restart();
      const r = await fx.audit(state);
      assert.deepEqual(checks(r), ['CONSISTENCY@-']);
      assert.match(r.findings[0].message, new RegExp(`rollback: .* size ${r.treeSize}, but size ${size} was verified before`));
      assert.ok(r.treeSize < size);
    } finally {
      const cols = Object.keys(rows[0]);
      await fx.pg.query(`INSERT INTO checkpoints (${cols.join(', ')}) VALUES (${cols.map((_, k) => `$${k + 1}`).join(', ')})`, cols.map((c) => rows[0][c]));
      await fx.restart();
    }
    assert.equal((await fx.audit(state)).ok, true);
  });

  it('an entry whose issuer was not trusted at that time is a REGISTRATION_DECISION naming the issuer', async () => {
    const stranger = makeIssuer('https://stranger.example');
    const u = await fx.insertDirect([makeStatement(stranger)]);
    // b was trusted once: its earlier entries are fine, one logged after its removal is not.
    await fx.admin('DELETE', `/issuers/${encodeURIComponent(fx.b.iss)}`);
    const late = await fx.insertDirect([makeStatement(fx.b)]);
    // And a content type the policy in force does not allow, from a trusted issuer.
    const ct = await fx.insertDirect([makeStatement(fx.a, { contentType: 'text/plain' })]);
    const run = await scitt(['audit', fx.url, '--vkey', fx.vkey, '--state', fx.tempDir(), '--json']);
    assert.equal(run.code, 1, run.stderr);
    const r = JSON.parse(run.stdout) as AuditReport;
    assert.deepEqual(checks(r), [`REGISTRATION_DECISION@${u}`, `REGISTRATION_DECISION@${late}`, `REGISTRATION_DECISION@${ct}`]);
    assert.equal(r.findings[0].issuer, stranger.iss);
    assert.equal(r.findings[0].code, 'UNKNOWN_ISSUER');
    assert.match(r.findings[0].message, /https:\/\/stranger\.example/);
    assert.equal(r.findings[1].issuer, fx.b.iss);
    assert.equal(r.findings[1].code, 'UNKNOWN_ISSUER');
    assert.equal(r.findings[2].code, 'CONTENT_TYPE_NOT_ALLOWED');
  });
});
