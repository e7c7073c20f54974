import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decode } from 'cbor2';
import { extractReceipts, importPublicKey, verifyReceipt } from '../../src/core/cose';
import type { RunningApp } from '../../src/bootstrap';
import { createClientResolver, fetchClaims, readFallbackIndex, type OciClient } from '../../src/registry';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { pushTestImage, startRegistry, type TestRegistry } from '../helpers/registry';
import { ADMIN, baseEnv, startInProcess, waitFor } from '../helpers/service';
import { makeIssuer, makeStatement, type TestIssuer } from '../helpers/statements';

interface Links {
  entryId: string;
  notLinked?: string;
  links: { registry: string; status: string; manifestDigest?: string; reason?: string; nextAttemptAt?: string; attempts: number }[];
}

describe('claims linked into their registries as OCI referrers (docker-registry 2.8, tag fallback)', () => {
  let db: TestDatabase;
  let svc: RunningApp;
  let open: TestRegistry;
  let locked: TestRegistry;
  let trap: Server;
  let trapHits = 0;
  let trapHost: string;
  let issuer: TestIssuer;
  let openClient: OciClient;
  let lockedClient: OciClient;

  const register = async (sub: string) => {
    const r = await fetch(svc.url + '/entries', { method: 'POST', body: makeStatement(issuer, { sub }), headers: { 'content-type': 'application/cose' } });
    assert.ok(r.status === 201 || r.status === 202, `status ${r.status}`);
    return r.headers.get('location')!.split('/').pop()!;
  };
  const links = async (id: string) => (await (await fetch(`${svc.url}/entries/${id}/links`)).json()) as Links;
  const linked = (id: string, timeoutMs = 30000) =>
    waitFor(async () => {
      const l = await links(id);
      return l.links.length > 0 && l.links.every((x) => x.status === 'linked') ? l : undefined;
    }, timeoutMs, 100);

  before(async () => {
    db = await createTestDatabase('links');
    open = await startRegistry();
    locked = await startRegistry({ auth: { username: 'ci', password: 's3cret-pw' } });
    // A host nobody configured: any connection to it is a bug.
    trap = createServer((s) => {
      trapHits++;
      s.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', () => r()));
    trapHost = `127.0.0.1:${(trap.address() as { port: number }).port}`;
    svc = await startInProcess(
      baseEnv({ DATABASE_URL: db.url, REGISTRIES: JSON.stringify([open.config, locked.config]), LINK_MAX_BACKOFF_SECONDS: '1', REGISTRATION_WAIT_MS: '2000' }),
    );
    issuer = makeIssuer();
    await fetch(svc.url + '/admin/issuers', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ iss: issuer.iss, keys: [issuer.jwk] }) });
    const resolve = createClientResolver([open.config, locked.config]);
    openClient = resolve(open.host);
    lockedClient = resolve(locked.host);
  });
  after(async () => {
    await svc?.close();
    await open?.stop();
    await locked?.stop();
    trap?.close();
    await db?.drop();
  });

  it('a registered claim appears as a referrer with the right subject, artifactType and a layer that verifies', async () => {
    const image = await pushTestImage(openClient, 'shop/app', { tag: 'v1' });
    const id = await register(`oci://${open.host}/shop/app@${image.digest}`);
    const l = await linked(id);
    assert.equal(l.links[0].registry, open.host);
    const index = await readFallbackIndex(openClient, 'shop/app', image.digest);
    assert.ok(index);
    const entry = index.manifests.find((m) => m.digest === l.links[0].manifestDigest);
    assert.ok(entry, 'listed in the sha256-<hex> index');
    assert.equal(entry.artifactType, 'application/scitt-statement+cose');
    assert.equal(entry.annotations?.['dev.scitt.entry-id'], id);
    const claims = await fetchClaims(openClient, 'shop/app', image.digest);
    assert.equal(claims.length, 1);
    const { registered, receipts } = extractReceipts(claims[0].statement);
    const keySet = decode(new Uint8Array(await (await fetch(svc.url + '/.well-known/scitt-keys')).arrayBuffer()), { preferMap: true }) as Map<number, unknown>[];
    assert.equal(verifyReceipt(receipts[0], { statement: registered }, () => importPublicKey(keySet[0])).ok, true);
  });

  it('a referrer another tool put there first is kept; 50 concurrent claims are each listed exactly once', async () => {
    const image = await pushTestImage(openClient, 'shop/busy');
    // Another tool's referrer, written by the same linker machinery with a foreign artifact.
    const { ReferrerLinker, createInProcessSubjectLock } = require('../../src/registry') as typeof import('../../src/registry');
    const other = await new ReferrerLinker(createClientResolver([open.config]), createInProcessSubjectLock()).link({
      subject: { host: open.host, repository: 'shop/busy', digest: image.digest },
      transparentStatement: Buffer.from('not ours'),
      annotations: { 'org.example.tool': 'someone-else' },
      created: '2026-01-01T00:00:00Z',
    });
    const ids = await Promise.all(Array.from({ length: 50 }, () => register(`oci://${open.host}/shop/busy@${image.digest}`)));
    assert.equal(new Set(ids).size, 50);
    for (const id of ids) await linked(id, 60000);
    const index = (await readFallbackIndex(openClient, 'shop/busy', image.digest))!;
    const digests = index.manifests.map((m) => m.digest);
    assert.equal(digests.length, 51);
    assert.equal(new Set(digests).size, 51);
    assert.ok(digests.includes(other.manifestDigest));
  });

  it('Basic auth registries link too', async () => {
    const image = await pushTestImage(lockedClient, 'secure/app');
    const id = await register(`${locked.host}/secure/app@${image.digest}`);
    await linked(id);
    assert.equal((await fetchClaims(lockedClient, 'secure/app', image.digest)).length, 1);
  });

  it('the registry down while claims are registered: links wait with a reason, then every one is delivered once', async () => {
    const image = await pushTestImage(openClient, 'shop/outage');
    await open.stop();
    const ids = await Promise.all(Array.from({ length: 5 }, () => register(`oci://${open.host}/shop/outage@${image.digest}`)));
    const waiting = await waitFor(async () => {
      const l = await links(ids[0]);
      return l.links[0]?.attempts > 0 ? l : undefined;
    }, 20000, 100);
    assert.notEqual(waiting.links[0].status, 'linked');
    assert.ok(waiting.links[0].reason, 'says why');
    assert.ok(waiting.links[0].nextAttemptAt, 'says when it tries again');
    await open.start();
    for (const id of ids) await linked(id, 60000);
    const index = (await readFallbackIndex(openClient, 'shop/outage', image.digest))!;
    assert.equal(index.manifests.length, 5);
  });

  it('claims that are not linked say why, and an unconfigured host is never contacted', async () => {
    const id = await register(`oci://${trapHost}/evil/app@sha256:${'ee'.repeat(32)}`);
    const l = await links(id);
    assert.equal(l.links.length, 0);
    assert.match(l.notLinked ?? '', /not configured/);
    const plain = await register('urn:example:not-an-image');
    assert.match((await links(plain)).notLinked ?? '', /not a digest-pinned OCI reference/);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(trapHits, 0);
  });
});
