import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decode, encode } from 'cbor2';
import { embedReceipts, extractReceipts } from '../../src/core/cose';
import type { RunningApp } from '../../src/bootstrap';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { ADMIN, baseEnv, REPO_ROOT, startInProcess } from '../helpers/service';
import { makeIssuer, makeStatement } from '../helpers/statements';

const VECTORS = join(REPO_ROOT, '../shared/vectors/scitt-cose-v1');
const ids = readdirSync(VECTORS).filter((d) => d.startsWith('valid-') || d.startsWith('fail-'));
const expected = (id: string) => JSON.parse(readFileSync(join(VECTORS, id, 'expected.json'), 'utf8'));

interface Verdict {
  valid: boolean;
  registeredHere: boolean;
  checks: { check: string; ok: boolean; code?: string; service?: string }[];
}

describe('POST /verify', () => {
  let db: TestDatabase;
  let svc: RunningApp;
  const post = async (body: Uint8Array, ct = 'application/cose', accept = 'application/json') => {
    const r = await fetch(svc.url + '/verify', { method: 'POST', body, headers: { 'content-type': ct, accept } });
    return r;
  };

  before(async () => {
    db = await createTestDatabase('verify');
    // Each vector's log is a foreign transparency service; the CCF one speaks vds 2.
    const foreign = ids.map((id) => ({ name: id, keys: [readFileSync(join(VECTORS, id, 'log-key.pub'), 'utf8')], vds: id.includes('ccf') ? [2] : [1] }));
    svc = await startInProcess(baseEnv({ DATABASE_URL: db.url, FOREIGN_SERVICES: JSON.stringify(foreign) }));
    const byIss = new Map<string, object[]>();
    for (const id of ids) {
      const iss = expected(id).protected_header.statement.issuer as string;
      const jwk = createPublicKey(readFileSync(join(VECTORS, id, 'issuer-key.pub'), 'utf8')).export({ format: 'jwk' });
      byIss.set(iss, [...(byIss.get(iss) ?? []), jwk]);
    }
    for (const [iss, keys] of byIss) {
      const r = await fetch(svc.url + '/admin/issuers', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ iss, keys }) });
      assert.equal(r.status, 201, await r.text());
    }
  });
  after(async () => {
    await svc?.close();
    await db?.drop();
  });

  it(`the scitt-cose vectors (${ids.length}) get their expected verdicts and failure codes`, async () => {
    assert.equal(ids.length, 6);
    for (const id of ids) {
      const e = expected(id);
      const statement = readFileSync(join(VECTORS, id, 'statement.cose'));
      const receipt = readFileSync(join(VECTORS, id, 'receipt.cose'));
      const res = await post(Buffer.from(encode([new Uint8Array(statement), new Uint8Array(receipt)])), 'application/cbor');
      assert.equal(res.status, 200, id);
      const v = (await res.json()) as Verdict;
      assert.equal(v.valid, e.result === 'VALID', `${id}: ${JSON.stringify(v.checks)}`);
      if (e.failure_code) assert.ok(v.checks.some((c) => !c.ok && c.code === e.failure_code), `${id}: expected ${e.failure_code}, got ${JSON.stringify(v.checks)}`);
      const r = v.checks.find((c) => c.check === 'receipt');
      if (e.result === 'VALID') assert.equal(r?.service, id);
    }
  });

  it('our own transparent statement: every check passes, including consistency with the current checkpoint; CBOR verdicts on request', async () => {
    const issuer = makeIssuer();
    await fetch(svc.url + '/admin/issuers', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ iss: issuer.iss, keys: [issuer.jwk] }) });
    const reg = await fetch(svc.url + '/entries', { method: 'POST', body: makeStatement(issuer), headers: { 'content-type': 'application/cose' } });
    assert.equal(reg.status, 201);
    const ts = new Uint8Array(await (await fetch(svc.url + reg.headers.get('location') + '/transparent-statement')).arrayBuffer());
    // Grow the log so the receipt's tree is older than the current checkpoint.
    await fetch(svc.url + '/entries', { method: 'POST', body: makeStatement(issuer), headers: { 'content-type': 'application/cose' } });
    const v = (await (await post(ts)).json()) as Verdict;
    assert.equal(v.valid, true, JSON.stringify(v));
    assert.equal(v.registeredHere, true);
    assert.deepEqual(v.checks.map((c) => c.check).sort(), ['issuer_trusted_at_registration', 'receipt', 'receipt_consistent_with_checkpoint', 'statement_signature']);
    const cbor = await post(ts, 'application/cose', 'application/cbor');
    assert.equal(cbor.headers.get('content-type'), 'application/cbor');
    assert.equal((decode(new Uint8Array(await cbor.arrayBuffer())) as { valid: boolean }).valid, true);

    // The issuer removed later: it was still trusted at registration.
    await fetch(`${svc.url}/admin/issuers/${encodeURIComponent(issuer.iss)}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    const later = (await (await post(ts)).json()) as Verdict;
    assert.equal(later.valid, true, JSON.stringify(later));

    // A receipt moved onto another statement fails, with its code.
    const other = makeStatement(issuer);
    const { receipts } = extractReceipts(ts);
    const swapped = (await (await post(embedReceipts(other, receipts))).json()) as Verdict;
    assert.equal(swapped.valid, false);
    assert.ok(swapped.checks.some((c) => c.check === 'receipt' && !c.ok && c.code));
  });

  it('rejects what is not a statement with a problem, and a statement without receipts is not valid', async () => {
    const bad = await post(Buffer.from([0xff, 0x00]));
    assert.equal(bad.status, 400);
    const wrongType = await fetch(svc.url + '/verify', { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
    assert.equal(wrongType.status, 415);
    const v = (await (await post(makeStatement(makeIssuer()))).json()) as Verdict;
    assert.equal(v.valid, false);
    assert.ok(v.checks.some((c) => c.code === 'NO_RECEIPT'));
  });
});

