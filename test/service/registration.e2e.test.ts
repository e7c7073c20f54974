import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decode } from 'cbor2';
import { importPublicKey, verifyReceipt, extractReceipts } from '../../src/core/cose';
import type { RunningApp } from '../../src/bootstrap';
import { Db } from '../../src/db/db';
import { LogService } from '../../src/log/log.service';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { ADMIN, baseEnv, startInProcess, waitFor } from '../helpers/service';
import { makeIssuer, makeStatement, type TestIssuer } from '../helpers/statements';

const COSE = { 'content-type': 'application/cose' };

async function problem(res: Response): Promise<{ title: string; detail?: string; code: string }> {
  assert.equal(res.headers.get('content-type'), 'application/concise-problem-details+cbor');
  const m = decode(new Uint8Array(await res.arrayBuffer()), { preferMap: true }) as Map<number | string, string>;
  return { title: m.get(-1)!, detail: m.get(-2), code: m.get('tag:scitt-ledger,2026:code')! };
}

describe('SCRAPI registration against real PostgreSQL', () => {
  let db: TestDatabase;
  let svc: RunningApp;
  let issuer: TestIssuer;
  let url: string;

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(url + path, { ...init, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const post = (body: Uint8Array, headers: Record<string, string> = COSE) => fetch(url + '/entries', { method: 'POST', body, headers });
  const treeSize = async () => (await svc.app.get(LogService).latestCheckpoint()).treeSize;
  const entryCount = async () => Number((await svc.app.get(Db).query('SELECT count(*) AS n FROM entries')).rows[0].n);

  before(async () => {
    db = await createTestDatabase('e2e');
    svc = await startInProcess(baseEnv({ DATABASE_URL: db.url }));
    url = svc.url;
    issuer = makeIssuer();
    const r = await admin('/admin/issuers', { method: 'POST', body: JSON.stringify({ iss: issuer.iss, keys: [issuer.jwk] }) });
    assert.equal(r.status, 201, await r.text());
  });
  after(async () => {
    await svc?.close();
    await db?.drop();
  });

  it('registers a statement: 201 with a receipt that verifies offline against the published key', async () => {
    const st = makeStatement(issuer);
    const res = await post(st);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('content-type'), 'application/cose');
    const loc = res.headers.get('location')!;
    assert.match(loc, /^\/entries\/[0-9a-f]{64}$/);
    const receipt = new Uint8Array(await res.arrayBuffer());
    const keySet = decode(new Uint8Array(await (await fetch(url + '/.well-known/scitt-keys')).arrayBuffer()), { preferMap: true }) as Map<number, unknown>[];
    assert.equal(keySet.length, 1);
    const serviceKey = importPublicKey(keySet[0]);
    const registered = new Uint8Array(await (await fetch(url + loc + '/statement')).arrayBuffer());
    const v = verifyReceipt(receipt, { statement: registered }, () => serviceKey);
    assert.equal(v.ok, true, JSON.stringify(v));
    // GET /entries/{id} serves a receipt too, and the transparent statement carries it under 394.
    const again = await fetch(url + loc);
    assert.equal(again.status, 200);
    const ts = new Uint8Array(await (await fetch(url + loc + '/transparent-statement')).arrayBuffer());
    const ex = extractReceipts(ts);
    assert.equal(ex.receipts.length, 1);
    assert.deepEqual(Buffer.from(ex.registered), Buffer.from(registered));
    assert.equal(verifyReceipt(ex.receipts[0], { statement: ex.registered }, () => serviceKey).ok, true);
  });

  it('answers a duplicate with the same entry and does not grow the log', async () => {
    const st = makeStatement(issuer);
    const a = await post(st);
    assert.equal(a.status, 201);
    const size = await treeSize();
    const b = await post(st);
    assert.equal(b.status, 201);
    assert.equal(b.headers.get('location'), a.headers.get('location'));
    assert.equal(await treeSize(), size);
  });

  it('serves the key set and each key by its thumbprint kid', async () => {
    const set = decode(new Uint8Array(await (await fetch(url + '/.well-known/scitt-keys')).arrayBuffer()), { preferMap: true }) as Map<number, unknown>[];
    const kid = Buffer.from(set[0].get(2) as Uint8Array).toString('base64url');
    const one = await fetch(`${url}/.well-known/scitt-keys/${kid}`);
    assert.equal(one.status, 200);
    const none = await fetch(`${url}/.well-known/scitt-keys/AAAA`);
    assert.equal(none.status, 404);
    assert.equal((await problem(none)).title, 'No such key');
  });

  describe('rejections: precise status and title, and the log unchanged', () => {
    const cases: [string, () => { body: Uint8Array; headers?: Record<string, string> }, number, string][] = [
      ['bad signature', () => {
        const st = makeStatement(issuer);
        st[st.length - 1] ^= 0x01;
        return { body: st };
      }, 400, 'Rejected'],
      ['unknown issuer', () => ({ body: makeStatement(makeIssuer()) }), 400, 'Rejected'],
      ['missing CWT claims', () => ({ body: makeStatement(issuer, { noCwt: true }) }), 400, 'Malformed request'],
      ['missing sub', () => ({ body: makeStatement(issuer, { sub: null }) }), 400, 'Malformed request'],
      // PostgreSQL text cannot hold U+0000: such a statement must be refused alone, not fail the batch it would join.
      ['U+0000 in sub', () => ({ body: makeStatement(issuer, { sub: 'oci://registry.example/app\u0000@sha256:' + 'ab'.repeat(32) }) }), 400, 'Malformed request'],
      ['U+0000 in the content type', () => ({ body: makeStatement(issuer, { contentType: 'application/json\u0000' }) }), 400, 'Malformed request'],
      ['missing payload (detached)', () => ({ body: makeStatement(issuer, { detached: true }) }), 400, 'Payload Missing'],
      ['missing kid', () => ({ body: makeStatement(issuer, { noKid: true }) }), 400, 'Confirmation Missing'],
      ['malformed CBOR', () => ({ body: Buffer.from([0xd2, 0x84, 0x43, 0xa1]) }), 400, 'Malformed request'],
      ['wrong tag', () => {
        const st = makeStatement(issuer);
        st[0] = 0xd1; // tag 17 (COSE_Mac0) instead of 18
        return { body: st };
      }, 400, 'Malformed request'],
      ['wrong content type', () => ({ body: makeStatement(issuer), headers: { 'content-type': 'text/plain' } }), 415, 'Unsupported Media Type'],
      ['oversize body', () => ({ body: Buffer.alloc(2 * 1024 * 1024, 1) }), 413, 'Payload Too Large'],
    ];
    for (const [name, make, status, title] of cases) {
      it(name, async () => {
        const size = await treeSize();
        const count = await entryCount();
        const { body, headers } = make();
        const res = await post(body, headers ?? COSE);
        assert.equal(res.status, status);
        assert.equal((await problem(res)).title, title);
        assert.equal(await entryCount(), count);
        assert.equal(await treeSize(), size);
      });
    }

    it('a disallowed algorithm', async () => {
      const ed = makeIssuer(undefined, -8);
      assert.equal((await admin('/admin/issuers', { method: 'POST', body: JSON.stringify({ iss: ed.iss, keys: [ed.jwk] }) })).status, 201);
      const policy = (await (await admin('/admin/policy')).json()) as Record<string, unknown>;
      const put = await admin('/admin/policy', { method: 'PUT', body: JSON.stringify({ ...policy, allowedAlgorithms: ['ES256'] }) });
      assert.equal(put.status, 200, await put.text());
      const count = await entryCount();
      const res = await post(makeStatement(ed));
      assert.equal(res.status, 400);
      assert.equal((await problem(res)).title, 'Bad Signature Algorithm');
      assert.equal(await entryCount(), count);
      await admin('/admin/policy', { method: 'PUT', body: JSON.stringify(policy) });
    });

    it('problems in JSON (RFC 9457) when the client asks for JSON', async () => {
      const res = await fetch(url + '/entries', { method: 'POST', body: Buffer.from([0xff]), headers: { ...COSE, accept: 'application/json' } });
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type')!, /^application\/problem\+json/);
      const j = (await res.json()) as { title: string; status: number };
      assert.equal(j.title, 'Malformed request');
      assert.equal(j.status, 400);
    });

    it('unauthenticated admin calls', async () => {
      const count = await entryCount();
      for (const auth of [undefined, 'Bearer wrong-token-wrong-token', 'Basic abc']) {
        const res = await fetch(url + '/admin/issuers', {
          method: 'POST',
          body: JSON.stringify({ iss: 'x', keys: [issuer.jwk] }),
          headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        });
        assert.equal(res.status, 401);
        assert.equal((await problem(res)).title, 'Unauthorized');
      }
      assert.equal(await entryCount(), count);
    });

    it('admin input PostgreSQL could not store (U+0000) is refused with a 400 and changes nothing', async () => {
      const count = await entryCount();
      const policy = (await (await admin('/admin/policy')).json()) as Record<string, unknown>;
      const issuerRes = await admin('/admin/issuers', { method: 'POST', body: JSON.stringify({ iss: 'https://a\u0000b.example', keys: [issuer.jwk] }) });
      assert.equal(issuerRes.status, 400);
      assert.equal((await problem(issuerRes)).title, 'Malformed request');
      const policyRes = await admin('/admin/policy', { method: 'PUT', body: JSON.stringify({ ...policy, allowedContentTypes: ['application/json\u0000'] }) });
      assert.equal(policyRes.status, 400);
      assert.deepEqual(await (await admin('/admin/policy')).json(), policy);
      assert.equal(await entryCount(), count);
    });

    it('unknown entry ids and invalid locators', async () => {
      const r404 = await fetch(`${url}/entries/${'00'.repeat(32)}`);
      assert.equal(r404.status, 404);
      const r400 = await fetch(`${url}/entries/not-an-id`);
      assert.equal(r400.status, 400);
      assert.equal((await problem(r400)).title, 'Invalid locator');
    });
  });

  it('issuer and policy changes are themselves log entries', async () => {
    const size = await treeSize();
    const other = makeIssuer();
    const add = await admin('/admin/issuers', { method: 'POST', body: JSON.stringify({ iss: other.iss, keys: [other.jwk] }) });
    assert.equal(add.status, 201);
    const { entryId } = (await add.json()) as { entryId: string };
    const list = (await (await admin('/admin/issuers')).json()) as { issuers: { iss: string }[] };
    assert.ok(list.issuers.some((i: { iss: string }) => i.iss === other.iss));
    const ok = await post(makeStatement(other));
    assert.equal(ok.status, 201);
    const del = await admin(`/admin/issuers/${encodeURIComponent(other.iss)}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    const rejected = await post(makeStatement(other));
    assert.equal(rejected.status, 400);
    await waitFor(async () => ((await treeSize()) >= size + 3 ? true : undefined));
    const change = await fetch(`${url}/entries/${entryId}`);
    assert.equal(change.status, 200);
  });

  it('answers 202 with Location when integration takes longer than REGISTRATION_WAIT_MS, then 204 until the receipt exists', async () => {
    const slowDb = await createTestDatabase('slow');
    const slow = await startInProcess(baseEnv({ DATABASE_URL: slowDb.url, REGISTRATION_WAIT_MS: '0', LOG_BATCH_MS: '300' }));
    try {
      const add = await fetch(slow.url + '/admin/issuers', {
        method: 'POST',
        body: JSON.stringify({ iss: issuer.iss, keys: [issuer.jwk] }),
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      });
      assert.equal(add.status, 201);
      const res = await fetch(slow.url + '/entries', { method: 'POST', body: makeStatement(issuer), headers: COSE });
      assert.equal(res.status, 202);
      assert.ok(res.headers.get('retry-after'));
      const loc = res.headers.get('location')!;
      const first = await fetch(slow.url + loc);
      assert.ok(first.status === 204 || first.status === 200);
      if (first.status === 204) assert.equal(first.headers.get('cache-control'), 'no-store');
      const done = await waitFor(async () => {
        const r = await fetch(slow.url + loc);
        return r.status === 200 ? r : undefined;
      });
      assert.equal(done.headers.get('content-type'), 'application/cose');
    } finally {
      await slow.close();
      await slowDb.drop();
    }
  });

  it('health, readiness and metrics', async () => {
    assert.equal((await fetch(url + '/healthz')).status, 200);
    const ready = await fetch(url + '/readyz');
    assert.equal(ready.status, 200, await ready.clone().text());
    const m = await (await fetch(url + '/metrics')).text();
    assert.match(m, /scitt_registrations_total\{result="accepted",reason="new"\} \d+/);
    assert.match(m, /scitt_registrations_total\{result="rejected",reason="BAD_STATEMENT_SIGNATURE"\} \d+/);
    assert.match(m, /scitt_tree_size \d+/);
    assert.match(m, /scitt_http_request_duration_seconds_bucket/);
  });

  it('every leaf, pending and link-outbox row names a stored entry (they carry no foreign keys: the admission statement writes the entry with its pending and outbox rows, the sequencer leaves only for pending rows)', async () => {
    const db = svc.app.get(Db);
    const { rows } = await db.query(
      `SELECT (SELECT count(*) FROM entries WHERE link_skip IS NOT NULL) AS skips,
              (SELECT count(*) FROM log_leaves) AS leaves,
              (SELECT count(*) FROM log_leaves l WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.entry_hash = l.entry_hash)) +
              (SELECT count(*) FROM pending_entries p WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.entry_hash = p.entry_hash)) +
              (SELECT count(*) FROM link_outbox o WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.entry_hash = o.entry_hash)) AS orphans`,
    );
    assert.ok(Number(rows[0].skips) > 0, 'the registrations above recorded why their claims were not linked');
    assert.ok(Number(rows[0].leaves) > 5, 'the registrations above are in the log');
    assert.equal(Number(rows[0].orphans), 0);
  });
});
