import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { verifyStoredLog } from '../log/log-check';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { ADMIN, baseEnv, readAdminToken, spawnService, waitFor, tempDir } from '../helpers/service';
import { makeIssuer, makeStatement } from '../helpers/statements';

const COSE = { 'content-type': 'application/cose' };

async function addIssuer(url: string, token: string, issuer: ReturnType<typeof makeIssuer>) {
  const r = await fetch(url + '/admin/issuers', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ iss: issuer.iss, keys: [issuer.jwk] }),
  });
  assert.equal(r.status, 201, await r.text());
}

describe('the service as real processes', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('procs');
  });
  after(async () => {
    await db?.drop();
  });

  it('a restart keeps everything; two processes on one database register and serve together', async () => {
    const env = baseEnv({ DATABASE_URL: db.url });
    const issuer = makeIssuer();
    let a = await spawnService(env);
    await addIssuer(a.url, ADMIN, issuer);
    const first = await fetch(a.url + '/entries', { method: 'POST', body: makeStatement(issuer), headers: COSE });
    assert.equal(first.status, 201);
    const loc = first.headers.get('location')!;
    await a.stop();
    a = await spawnService(env);
    assert.equal((await fetch(a.url + loc)).status, 200, 'receipt served after restart');

    // A second process on the same database (its own data dir, same keys via the files of the first).
    const b = await spawnService({ ...env, DATA_DIR: env.DATA_DIR });
    try {
      const locs: string[] = [];
      await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const url = i % 2 ? a.url : b.url;
          const r = await fetch(url + '/entries', { method: 'POST', body: makeStatement(issuer), headers: COSE });
          assert.ok(r.status === 201 || r.status === 202, `status ${r.status} ${Buffer.from(await r.arrayBuffer()).toString()}`);
          locs.push(r.headers.get('location')!);
        }),
      );
      // Each process serves every receipt, whichever process registered it.
      for (const l of locs) {
        for (const url of [a.url, b.url]) {
          await waitFor(async () => ((await fetch(url + l)).status === 200 ? true : undefined));
        }
      }
      // An issuer change made through one process is enforced by the other.
      const other = makeIssuer();
      await addIssuer(b.url, ADMIN, other);
      const viaA = await fetch(a.url + '/entries', { method: 'POST', body: makeStatement(other), headers: COSE });
      assert.ok(viaA.status === 201 || viaA.status === 202, `status ${viaA.status}`);
    } finally {
      await b.stop();
      await a.stop();
    }
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const size = await verifyStoredLog(c as any, 20);
      assert.ok(size >= 63);
    } finally {
      await c.end();
    }
  });

  it('the embedded default: no DATABASE_URL, register, restart, receipt still served', async () => {
    const dataDir = tempDir('scitt-embedded-');
    const env = { ...baseEnv({ DATA_DIR: dataDir }), ADMIN_TOKEN: undefined };
    let s = await spawnService(env);
    try {
      assert.match(s.stderr(), /embedded PostgreSQL/);
      assert.match(s.stderr(), /admin token: in .*admin-token/);
      const token = readAdminToken(dataDir);
      const issuer = makeIssuer();
      await addIssuer(s.url, token, issuer).catch((e) => assert.fail(`${e.message}\n${s.stderr()}`));
      const r = await fetch(s.url + '/entries', { method: 'POST', body: makeStatement(issuer), headers: COSE });
      assert.equal(r.status, 201, s.stderr());
      const loc = r.headers.get('location')!;
      await s.stop();
      s = await spawnService(env);
      const again = await fetch(s.url + loc);
      assert.equal(again.status, 200, s.stderr());
      assert.equal(again.headers.get('content-type'), 'application/cose');
    } finally {
      await s.stop();
    }
  });
});
