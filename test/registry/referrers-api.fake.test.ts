import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createClientResolver } from '../../src/registry/client-resolver';
import { copyImageWithReferrers } from '../../src/registry/copy';
import { fetchClaims, listReferrers } from '../../src/registry/discover';
import { createInProcessSubjectLock, ReferrerLinker } from '../../src/registry/linker';
import { digestOf, encodeJson } from '../../src/registry/descriptor';
import { EMPTY_CONFIG_DIGEST, EMPTY_CONFIG_MEDIA_TYPE, OCI_MANIFEST, SCITT_STATEMENT } from '../../src/registry/media-types';
import { pushTestImage } from '../helpers/registry';
import { startFakeRegistry, type FakeRegistry } from './fake-registry';

const created = '2026-11-22T12:00:00Z';

describe('referrers API path (fake registry serving the API)', () => {
  const fakes: FakeRegistry[] = [];
  after(async () => Promise.all(fakes.map((f) => f.close())));

  async function setup(o: Parameters<typeof startFakeRegistry>[0]) {
    const fake = await startFakeRegistry({ referrersApi: true, ...o });
    fakes.push(fake);
    const resolve = createClientResolver([{ host: fake.host, plainHttp: true }]);
    const client = resolve(fake.host);
    return { fake, client, linker: new ReferrerLinker(resolve, createInProcessSubjectLock()) };
  }

  it('links through the API (no fallback tag), lists every page and fetches the claims', async () => {
    const { fake, client, linker } = await setup({ pageSize: 2, filtersApplied: true });
    const image = await pushTestImage(client, 'api/app');
    const subject = { host: fake.host, repository: 'api/app', digest: image.digest };
    const statements = Array.from({ length: 5 }, (_, i) => new TextEncoder().encode(`statement ${i}`));
    const results = [];
    for (const s of statements) results.push(await linker.link({ subject, transparentStatement: s, annotations: {}, created }));
    assert.ok(results.every((r) => r.via === 'referrers-api'));
    assert.equal(client.servesReferrersApi, true);
    // The probe ran once; no fallback index was read or written.
    assert.equal(fake.requests.filter((r) => r.path.includes('/referrers/')).length, 1);
    assert.equal(fake.requests.filter((r) => r.path.includes('/manifests/sha256-')).length, 0);

    const pagesBefore = fake.requests.filter((r) => r.path.includes('/referrers/')).length;
    const listed = await listReferrers(client, 'api/app', image.digest, { artifactType: SCITT_STATEMENT });
    assert.deepEqual(listed.map((d) => d.digest).sort(), results.map((r) => r.manifestDigest).sort());
    assert.ok(listed.every((d) => d.artifactType === SCITT_STATEMENT));
    assert.equal(fake.requests.filter((r) => r.path.includes('/referrers/')).length - pagesBefore, 3, '5 referrers, 2 a page');

    const claims = await fetchClaims(client, 'api/app', image.digest);
    const byDigest = new Map(results.map((r, i) => [r.manifestDigest, statements[i]]));
    assert.equal(claims.length, 5);
    for (const c of claims) assert.deepEqual(c.statement, byDigest.get(c.manifestDigest));
  });

  it('filters by artifactType itself when the registry did not', async () => {
    const { fake, client, linker } = await setup({ filtersApplied: false });
    const image = await pushTestImage(client, 'api/filter');
    // Another tool's referrer of another artifact type about the same image.
    const sig = encodeJson({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.signature',
      config: { mediaType: EMPTY_CONFIG_MEDIA_TYPE, digest: EMPTY_CONFIG_DIGEST, size: 2 },
      layers: [],
      subject: image,
    });
    const sigDigest = await client.putManifest('api/filter', digestOf(sig), sig, OCI_MANIFEST);
    const r = await linker.link({ subject: { host: fake.host, repository: 'api/filter', digest: image.digest }, transparentStatement: new Uint8Array([1]), annotations: {}, created });
    assert.equal(r.via, 'referrers-api');
    const all = await listReferrers(client, 'api/filter', image.digest);
    assert.deepEqual(all.map((d) => d.digest).sort(), [r.manifestDigest, sigDigest].sort());
    const claimsOnly = await listReferrers(client, 'api/filter', image.digest, { artifactType: SCITT_STATEMENT });
    assert.deepEqual(claimsOnly.map((d) => d.digest), [r.manifestDigest]);
    assert.ok(fake.requests.some((q) => q.path.includes('artifactType=')), 'the filter was asked for');
    assert.deepEqual((await fetchClaims(client, 'api/filter', image.digest)).map((c) => c.manifestDigest), [r.manifestDigest]);
  });

  it('does not follow a pagination Link to another origin', async () => {
    const { fake, client, linker } = await setup({
      intercept: (req, res, path) => {
        if (!path.includes('/referrers/') || !req.url!.includes('hostile')) return false;
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', link: '<http://127.0.0.1:9/next>; rel="next"' });
        res.end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
        return true;
      },
    });
    const image = await pushTestImage(client, 'api/hostile');
    await linker.link({ subject: { host: fake.host, repository: 'api/hostile', digest: image.digest }, transparentStatement: new Uint8Array([2]), annotations: {}, created });
    assert.deepEqual(await listReferrers(client, 'api/hostile', image.digest), []);
  });
});

describe('copy between a registry with the referrers API and one without (fake registries)', () => {
  const fakes: FakeRegistry[] = [];
  after(async () => Promise.all(fakes.map((f) => f.close())));

  it('API → fallback index, and fallback index → API', async () => {
    const api = await startFakeRegistry({ referrersApi: true, pageSize: 1 });
    const plain = await startFakeRegistry({ referrersApi: false });
    fakes.push(api, plain);
    const resolve = createClientResolver([
      { host: api.host, plainHttp: true },
      { host: plain.host, plainHttp: true },
    ]);
    const linker = new ReferrerLinker(resolve, createInProcessSubjectLock());
    const image = await pushTestImage(resolve(api.host), 'c/app', { tag: 'v1' });
    const statements = [new Uint8Array([1]), new Uint8Array([2])];
    for (const s of statements) await linker.link({ subject: { host: api.host, repository: 'c/app', digest: image.digest }, transparentStatement: s, annotations: {}, created });

    const toPlain = await copyImageWithReferrers({ client: resolve(api.host), repository: 'c/app', reference: 'v1' }, { client: resolve(plain.host), repository: 'c/app' });
    assert.equal(toPlain.via, 'tag-fallback');
    assert.equal(toPlain.referrers.length, 2);
    assert.ok(plain.requests.some((r) => r.method === 'PUT' && r.path.endsWith(`/manifests/sha256-${image.digest.slice(7)}`)));

    const back = await copyImageWithReferrers({ client: resolve(plain.host), repository: 'c/app', reference: image.digest }, { client: resolve(api.host), repository: 'c/copy' });
    assert.equal(back.via, 'referrers-api');
    assert.ok(!api.requests.some((r) => r.method === 'PUT' && r.path.includes('/manifests/sha256-')), 'no fallback tag where the API is served');
    const claims = await fetchClaims(resolve(api.host), 'c/copy', image.digest);
    assert.deepEqual(claims.map((c) => c.statement).sort((x, y) => x[0] - y[0]), statements);
  });
});
