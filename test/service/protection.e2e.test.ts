import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decode } from 'cbor2';
import type { RunningApp } from '../../src/bootstrap';
import { ConfigError, loadConfig } from '../../src/config/env.config';
import { LogService } from '../../src/log/log.service';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { ADMIN, baseEnv, startInProcess, waitFor } from '../helpers/service';
import { makeIssuer, makeStatement } from '../helpers/statements';

const title = async (r: Response) => (decode(new Uint8Array(await r.arrayBuffer()), { preferMap: true }) as Map<number, string>).get(-1);

describe('protection: rate limiting, back-pressure, configuration errors', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('protect');
  });
  after(async () => {
    await db?.drop();
  });

  it('rate limits per client with 429, Retry-After and a problem body; health endpoints are exempt', async () => {
    const svc = await startInProcess(baseEnv({ DATABASE_URL: db.url, RATE_LIMIT_PER_SECOND: '5' }));
    try {
      const codes = await Promise.all(Array.from({ length: 12 }, () => fetch(svc.url + '/.well-known/scitt-keys')));
      const limited = codes.filter((r) => r.status === 429);
      assert.ok(limited.length >= 6, `${limited.length} limited`);
      assert.ok(Number(limited[0].headers.get('retry-after')) >= 1);
      assert.equal(limited[0].headers.get('content-type'), 'application/concise-problem-details+cbor');
      assert.equal(await title(limited[0]), 'Too Many Requests');
      const health = await Promise.all(Array.from({ length: 12 }, () => fetch(svc.url + '/healthz')));
      assert.ok(health.every((r) => r.status === 200));
      // POST /entries is a Fastify route outside Nest's router: the limit applies to it as well.
      const posts = await Promise.all(
        Array.from({ length: 12 }, () => fetch(svc.url + '/entries', { method: 'POST', body: Buffer.from([0xa0]), headers: { 'content-type': 'application/cose' } })),
      );
      const limitedPosts = posts.filter((r) => r.status === 429);
      assert.ok(limitedPosts.length >= 2, `${limitedPosts.length} registrations limited`);
      assert.equal(await title(limitedPosts[0]), 'Too Many Requests');
    } finally {
      await svc.close();
    }
  });

  it('answers 503 + Retry-After when integration falls too far behind, and accepts again once it catches up', async () => {
    const svc: RunningApp = await startInProcess(
      baseEnv({ DATABASE_URL: db.url, LOG_MAX_PENDING: '2', LOG_BATCH_MS: '60000', REGISTRATION_WAIT_MS: '0' }),
    );
    try {
      const issuer = makeIssuer();
      await fetch(svc.url + '/admin/issuers', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ iss: issuer.iss, keys: [issuer.jwk] }) });
      for (let i = 0; i < 4; i++) {
        const r = await fetch(svc.url + '/entries', { method: 'POST', body: makeStatement(issuer), headers: { 'content-type': 'application/cose' } });
        assert.equal(r.status, 202);
      }
      const busy = await waitFor(async () => {
        const r = await fetch(svc.url + '/entries', { method: 'POST', body: makeStatement(issuer), headers: { 'content-type': 'application/cose' } });
        return r.status === 503 ? r : undefined;
      }, 5000, 100);
      assert.ok(Number(busy.headers.get('retry-after')) >= 1);
      assert.equal(await title(busy), 'Service Unavailable');
      svc.app.get(LogService).sequencer.kick();
      await waitFor(async () => {
        const r = await fetch(svc.url + '/entries', { method: 'POST', body: makeStatement(issuer), headers: { 'content-type': 'application/cose' } });
        if (r.status === 503) svc.app.get(LogService).sequencer.kick();
        return r.status === 202 || r.status === 201 ? true : undefined;
      }, 10000, 200);
    } finally {
      await svc.close();
    }
  });

  it('a bad configuration value stops the service with a message naming the variable', async () => {
    assert.throws(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x' }), (e: Error) => e instanceof ConfigError && /PORT="eighty"/.test(e.message) && /DATABASE_URL/.test(e.message));
    assert.throws(() => loadConfig({ ADMIN_TOKEN: 'short' }), /ADMIN_TOKEN/);
    assert.equal(loadConfig({}).PORT, 8080);
    assert.equal(loadConfig({}).REGISTRATION_WAIT_MS, 1000);
    assert.equal(loadConfig({}).LOG_BATCH_MS, 100);
  });
});
