import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runAudit } from '../../src/audit/replay';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { ADMIN, baseEnv, spawnService, tempDir, waitFor, type ChildService } from '../helpers/service';
import { makeIssuer, makeStatement } from '../helpers/statements';

const COSE = { 'content-type': 'application/cose' };
const auth = { authorization: `Bearer ${ADMIN}` };

/**
 * Registrations race issuer removals and re-additions made through another process. Whatever the
 * interleaving, every entry in the log must be one the trust state in force at its place in the log
 * accepts: the auditor replays every decision and must find nothing.
 */
describe('registrations racing trust changes across processes', () => {
  let db: TestDatabase;
  let a: ChildService;
  let b: ChildService;
  before(async () => {
    db = await createTestDatabase('trustrace');
    const env = baseEnv({ DATABASE_URL: db.url, LOG_BATCH_MS: '10' });
    a = await spawnService(env);
    b = await spawnService(env);
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
    await db?.drop();
  });

  it('no entry is logged after a change that would have rejected it', async () => {
    const issuer = makeIssuer();
    const add = () =>
      fetch(b.url + '/admin/issuers', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ iss: issuer.iss, keys: [issuer.jwk] }) });
    const remove = () => fetch(b.url + `/admin/issuers/${encodeURIComponent(issuer.iss)}`, { method: 'DELETE', headers: auth });
    assert.equal((await add()).status, 201);

    let stop = false;
    const outcomes = { accepted: 0, unknown: 0, other: [] as string[] };
    const locations: string[] = [];
    const client = async (url: string) => {
      while (!stop) {
        const r = await fetch(url + '/entries', { method: 'POST', body: makeStatement(issuer), headers: COSE });
        if (r.status === 201 || r.status === 202) {
          outcomes.accepted++;
          locations.push(r.headers.get('location')!);
        } else if (r.status === 403 || r.status === 400) {
          const body = await r.text();
          if (body.includes('UNKNOWN_ISSUER') || body.includes('unknown issuer') || body.includes('not registered')) outcomes.unknown++;
          else outcomes.other.push(`${r.status} ${body}`);
          continue;
        } else outcomes.other.push(`${r.status} ${await r.text()}`);
        await r.arrayBuffer().catch(() => undefined);
      }
    };
    const clients = Array.from({ length: 12 }, (_, i) => client(i % 2 ? a.url : b.url));
    try {
      for (let round = 0; round < 8; round++) {
        await new Promise((r) => setTimeout(r, 60));
        assert.equal((await remove()).status, 200);
        await new Promise((r) => setTimeout(r, 40));
        assert.equal((await add()).status, 201);
      }
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    assert.deepEqual(outcomes.other, [], 'only acceptances and unknown-issuer rejections');
    assert.ok(outcomes.accepted > 50, `accepted ${outcomes.accepted}`);
    assert.ok(outcomes.unknown > 0, `some registrations met a removed issuer (${outcomes.unknown})`);

    // Everything acknowledged gets integrated, then the auditor replays every decision.
    for (const l of locations) await waitFor(async () => ((await fetch(a.url + l)).status === 200 ? true : undefined), 20000);
    const vkey = await (await fetch(a.url + '/tlog/vkey')).text();
    const report = await runAudit({ url: a.url, vkey, stateDir: tempDir('scitt-audit-'), workers: 0 });
    assert.deepEqual(report.findings, []);
    assert.equal(report.ok, true);
    assert.ok(report.trustChanges >= 17, `trust changes replayed: ${report.trustChanges}`);
    assert.ok(report.entriesChecked >= outcomes.accepted);
  });
});
