import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { RunningApp } from '../../src/bootstrap';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { ADMIN, baseEnv, REPO_ROOT, startInProcess, waitFor } from '../helpers/service';
import { makeIssuer, makeStatement } from '../helpers/statements';

type Spec = { paths: Record<string, Record<string, { operationId: string; responses: Record<string, any> }>>; components: any };

function resolveRef(spec: Spec, obj: any): any {
  if (obj && obj.$ref) return obj.$ref.split('/').slice(1).reduce((o: any, k: string) => o[k], spec);
  return obj;
}

/** Fastify route syntax to OpenAPI's. */
function toOpenApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/\*$/, '/{path}');
}

describe('openapi/openapi.yaml matches the running service, both ways', () => {
  let db: TestDatabase;
  let svc: RunningApp;
  const spec = parse(readFileSync(join(REPO_ROOT, 'openapi/openapi.yaml'), 'utf8')) as Spec;
  const ctx: Record<string, string> = {};

  before(async () => {
    db = await createTestDatabase('openapi');
    svc = await startInProcess(baseEnv({ DATABASE_URL: db.url }));
    const issuer = makeIssuer();
    ctx.iss = issuer.iss;
    await fetch(svc.url + '/admin/issuers', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ iss: issuer.iss, keys: [issuer.jwk] }),
    });
    const r = await fetch(svc.url + '/entries', { method: 'POST', body: makeStatement(issuer), headers: { 'content-type': 'application/cose' } });
    ctx.entry = r.headers.get('location')!.split('/').pop()!;
    ctx.statement = makeStatement(issuer).toString('base64');
    const keys = new Uint8Array(await (await fetch(svc.url + '/.well-known/scitt-keys')).arrayBuffer());
    ctx.kid = svc.runtime.keys.kid.toString('base64url');
    void keys;
    await waitFor(async () => ((await fetch(svc.url + '/tlog/checkpoint')).ok ? true : undefined));
  });
  after(async () => {
    await svc?.close();
    await db?.drop();
  });

  it('every route the app serves is documented', () => {
    const documented = new Set<string>();
    for (const [p, ops] of Object.entries(spec.paths)) for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${p}`);
    const served = svc.routes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS').map((r) => `${r.method} ${toOpenApiPath(r.url)}`);
    const missing = [...new Set(served)].filter((s) => !documented.has(s));
    assert.deepEqual(missing, [], `served but not in openapi.yaml: ${missing.join(', ')}`);
  });

  // One concrete request per documented operation; the contract says which statuses may come back.
  const admin = { authorization: `Bearer ${ADMIN}` };
  const requests: Record<string, () => { path: string; init?: RequestInit }> = {
    registerStatement: () => ({ path: '/entries', init: { method: 'POST', body: Buffer.from(ctx.statement, 'base64'), headers: { 'content-type': 'application/cose' } } }),
    getReceipt: () => ({ path: `/entries/${ctx.entry}` }),
    getStatement: () => ({ path: `/entries/${ctx.entry}/statement` }),
    getTransparentStatement: () => ({ path: `/entries/${ctx.entry}/transparent-statement` }),
    getLinks: () => ({ path: `/entries/${ctx.entry}/links` }),
    getKeys: () => ({ path: '/.well-known/scitt-keys' }),
    getKey: () => ({ path: `/.well-known/scitt-keys/${ctx.kid}` }),
    listIssuers: () => ({ path: '/admin/issuers', init: { headers: admin } }),
    addIssuer: () => ({ path: '/admin/issuers', init: { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ iss: 'https://other.example', keys: [makeIssuer().jwk] }) } }),
    removeIssuer: () => ({ path: `/admin/issuers/${encodeURIComponent('https://other.example')}`, init: { method: 'DELETE', headers: admin } }),
    getPolicy: () => ({ path: '/admin/policy', init: { headers: admin } }),
    setPolicy: () => ({ path: '/admin/policy', init: { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ maxStatementBytes: 65536 }) } }),
    getCheckpoint: () => ({ path: '/tlog/checkpoint' }),
    getVerifierKey: () => ({ path: '/tlog/vkey' }),
    getTile: () => ({ path: '/tlog/tile/0/000.p/1' }),
    getStatements: () => ({ path: '/log/statements?start=0&end=1' }),
    getConsistencyProof: () => ({ path: '/log/consistency?from=1&to=1' }),
    getConsistencyReceipt: () => ({ path: '/log/consistency-receipt?from=1&to=1' }),
    verifyStatement: () => ({ path: '/verify', init: { method: 'POST', body: Buffer.from(ctx.statement, 'base64'), headers: { 'content-type': 'application/cose' } } }),
    evaluateArtifact: () => ({ path: `/artifacts/sha256:${'ab'.repeat(32)}/evaluate`, init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ require: [{ contentType: 'a/b', issuers: ['x'] }] }) } }),
    listClaims: () => ({ path: `/artifacts/sha256:${'ab'.repeat(32)}/claims?limit=10` }),
    live: () => ({ path: '/healthz' }),
    ready: () => ({ path: '/readyz' }),
    metrics: () => ({ path: '/metrics' }),
  };

  it('every documented operation answers with a documented status and media type', async () => {
    const seen = new Set<string>();
    for (const [p, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const make = requests[op.operationId];
        assert.ok(make, `no request for documented operation ${op.operationId} (${method.toUpperCase()} ${p})`);
        seen.add(op.operationId);
        const { path, init } = make();
        const res = await fetch(svc.url + path, { method: method.toUpperCase(), ...init });
        const documented = op.responses[String(res.status)];
        assert.ok(documented, `${op.operationId}: status ${res.status} is not documented (${Object.keys(op.responses).join(', ')})`);
        const content = resolveRef(spec, documented).content as Record<string, unknown> | undefined;
        const ct = (res.headers.get('content-type') ?? '').split(';')[0].trim();
        if (content) assert.ok(ct in content, `${op.operationId}: ${res.status} answered ${ct}, documented ${Object.keys(content).join(', ')}`);
        else assert.equal((await res.arrayBuffer()).byteLength, 0, `${op.operationId}: ${res.status} has a body the contract does not describe`);
      }
    }
    assert.deepEqual([...seen].sort(), Object.keys(requests).sort());
  });
});
