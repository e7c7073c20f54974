import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningApp } from '../../src/bootstrap';
import { ClaimsRepository } from '../../src/claims/claims.repository';
import { Db } from '../../src/db/db';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { ADMIN, baseEnv, startInProcess } from '../helpers/service';
import { makeIssuer, makeStatement, type TestIssuer } from '../helpers/statements';

const DIGEST = `sha256:${'5e'.repeat(32)}`;
const SUB = `oci://registry.example/shop/app@${DIGEST}`;
const T = {
  provenance: 'application/vnd.in-toto+json',
  sbom: 'application/spdx+json',
  vuln: 'application/vnd.cyclonedx+json',
  approval: 'application/vnd.example.approval+json',
  revocation: 'application/vnd.example.revocation+json',
};

interface Page {
  items: { entryId: string; issuer: string; contentType: string; registeredAt: string; status: string }[];
  next: string | null;
}

describe('claims by artifact and the trusted-artifact gate', () => {
  let db: TestDatabase;
  let svc: RunningApp;
  let builder: TestIssuer, scanner: TestIssuer, consumer: TestIssuer, stranger: TestIssuer;
  const register = async (i: TestIssuer, contentType: string, payload: object, sub = SUB) => {
    const r = await fetch(svc.url + '/entries', { method: 'POST', body: makeStatement(i, { sub, contentType, payload: Buffer.from(JSON.stringify(payload)) }), headers: { 'content-type': 'application/cose' } });
    assert.equal(r.status, 201, await r.clone().text());
    return r.headers.get('location')!.split('/').pop()!;
  };
  const evaluate = async (policy: object) => {
    const r = await fetch(`${svc.url}/artifacts/${DIGEST}/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(policy) });
    return { status: r.status, body: (await r.json()) as { decision: string; reasons: string[]; evidence: { rule: string; kind: string; entryId: string; receipt?: string }[] } };
  };

  before(async () => {
    db = await createTestDatabase('claims');
    svc = await startInProcess(baseEnv({ DATABASE_URL: db.url }));
    [builder, scanner, consumer, stranger] = ['https://builder.example', 'https://scanner.example', 'https://consumer.example', 'https://stranger.example'].map((i) => makeIssuer(i));
    for (const i of [builder, scanner, consumer, stranger]) {
      await fetch(svc.url + '/admin/issuers', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ iss: i.iss, keys: [i.jwk] }) });
    }
  });
  after(async () => {
    await svc?.close();
    await db?.drop();
  });

  it('lists claims about a digest with filters and a cursor; other artifacts stay out', async () => {
    await register(builder, T.provenance, { builder: 'ci' });
    await register(builder, T.sbom, { packages: [] });
    await register(scanner, T.vuln, { vulnerabilities: [{ id: 'CVE-1', severity: 'low' }] });
    await register(builder, T.sbom, { other: true }, `oci://registry.example/shop/other@sha256:${'77'.repeat(32)}`);
    const all = (await (await fetch(`${svc.url}/artifacts/${DIGEST}/claims`)).json()) as Page;
    assert.equal(all.items.length, 3);
    assert.equal(all.next, null);
    assert.ok(all.items.every((i) => i.status === 'integrated'));
    const byIssuer = (await (await fetch(`${svc.url}/artifacts/${DIGEST}/claims?issuer=${encodeURIComponent(scanner.iss)}`)).json()) as Page;
    assert.deepEqual(byIssuer.items.map((i) => i.contentType), [T.vuln]);
    const byType = (await (await fetch(`${svc.url}/artifacts/${DIGEST}/claims?contentType=${encodeURIComponent(T.sbom)}`)).json()) as Page;
    assert.equal(byType.items.length, 1);
    const future = (await (await fetch(`${svc.url}/artifacts/${DIGEST}/claims?since=${new Date(Date.now() + 60000).toISOString()}`)).json()) as Page;
    assert.equal(future.items.length, 0);
    // Pages of one, following the cursor, give the same list in the same order.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p = (await (await fetch(`${svc.url}/artifacts/${DIGEST}/claims?limit=1${cursor ? `&cursor=${cursor}` : ''}`)).json()) as Page;
      seen.push(...p.items.map((i) => i.entryId));
      cursor = p.next;
    } while (cursor);
    assert.deepEqual(seen, all.items.map((i) => i.entryId));
    assert.equal((await fetch(`${svc.url}/artifacts/not-a-digest/claims`)).status, 400);
    assert.equal((await fetch(`${svc.url}/artifacts/${DIGEST}/claims?cursor=bogus`)).status, 400);
    assert.equal((await fetch(`${svc.url}/artifacts/${DIGEST}/claims?limit=0`)).status, 400);
  });

  it('the index can be rebuilt from the log and comes out the same', async () => {
    const dbh = svc.app.get(Db);
    const claims = 'SELECT entry_hash, artifact_digest, issuer, content_type FROM entries WHERE artifact_digest IS NOT NULL ORDER BY entry_hash';
    const before = (await dbh.query(claims)).rows;
    assert.ok(before.length > 0);
    const n = await dbh.tx((c) => ClaimsRepository.rebuild(c));
    const after = (await dbh.query(claims)).rows;
    assert.equal(n, before.length);
    assert.deepEqual(after, before);
  });

  it('the gate: allow with evidence when required claims are there, deny on a missing one, a revocation or a severe report', async () => {
    const policy = {
      require: [
        { name: 'provenance', contentType: T.provenance, issuers: [builder.iss] },
        { name: 'sbom', contentType: T.sbom, issuers: [builder.iss] },
        { name: 'approval', contentType: T.approval, issuers: [consumer.iss] },
      ],
      forbid: [
        { name: 'revocation', contentType: T.revocation, issuers: [builder.iss] },
        { name: 'vulnerabilities', contentType: T.vuln, issuers: [scanner.iss], minSeverity: 'high' },
      ],
      maxAgeSeconds: 3600,
    };
    const before = await evaluate(policy);
    assert.equal(before.status, 200);
    assert.equal(before.body.decision, 'deny');
    assert.ok(before.body.reasons.some((r) => r.startsWith('required approval: no')));
    // An approval from someone the consumer does not trust does not count.
    await register(stranger, T.approval, { approved: true });
    assert.equal((await evaluate(policy)).body.decision, 'deny');
    const approval = await register(consumer, T.approval, { approved: true });
    const allowed = await evaluate(policy);
    assert.equal(allowed.body.decision, 'allow', JSON.stringify(allowed.body.reasons));
    assert.ok(allowed.body.evidence.some((e) => e.rule === 'approval' && e.entryId === approval && e.receipt));
    assert.ok(allowed.body.reasons.some((r) => r.includes('severity low, below high')));
    // Too old under a tighter age limit.
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await evaluate({ ...policy, maxAgeSeconds: 1 })).body.decision, 'deny');
    // A severe vulnerability report from the trusted scanner denies.
    await register(scanner, T.vuln, { vulnerabilities: [{ id: 'CVE-2', ratings: [{ severity: 'critical' }] }] });
    const vuln = await evaluate(policy);
    assert.equal(vuln.body.decision, 'deny');
    assert.ok(vuln.body.reasons.some((r) => r.includes('severity critical')));
    // Without the severity rule, a revocation from the publisher denies as well.
    const noVuln = { ...policy, forbid: [policy.forbid[0]] };
    assert.equal((await evaluate(noVuln)).body.decision, 'allow');
    const revocation = await register(builder, T.revocation, { reason: 'key compromise' });
    const revoked = await evaluate(noVuln);
    assert.equal(revoked.body.decision, 'deny');
    assert.ok(revoked.body.evidence.some((e) => e.kind === 'forbidden' && e.entryId === revocation));
  });

  it('a filter PostgreSQL cannot hold (U+0000) is a 400 problem, not a server error', async () => {
    for (const q of ['issuer=a%00b', 'contentType=application%2Fjson%00']) {
      const res = await fetch(`${svc.url}/artifacts/${DIGEST}/claims?${q}`);
      assert.equal(res.status, 400, q);
    }
  });

  it('a bad consumer policy is a 400 problem', async () => {
    for (const p of [{}, { require: [{ contentType: 'x' }] }, { require: [], forbid: [], extra: 1 }, { forbid: [{ contentType: 'x', issuers: ['a'], minSeverity: 'dire' }] }]) {
      assert.equal((await evaluate(p)).status, 400, JSON.stringify(p));
    }
  });
});
