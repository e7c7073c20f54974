import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createClientResolver } from '../../src/registry/client-resolver';
import { digestOf, encodeJson } from '../../src/registry/descriptor';
import { fetchClaims } from '../../src/registry/discover';
import { fallbackTag } from '../../src/registry/fallback-index';
import { createInProcessSubjectLock, ReferrerLinker } from '../../src/registry/linker';
import { EMPTY_CONFIG_DIGEST, EMPTY_CONFIG_MEDIA_TYPE, OCI_INDEX, OCI_MANIFEST, SCITT_STATEMENT } from '../../src/registry/media-types';
import { OciClient } from '../../src/registry/oci-client';
import { pushTestImage } from '../helpers/registry';
import { isCode } from './assert-error';
import { startFakeRegistry, type FakeOptions, type FakeRegistry } from './fake-registry';

const created = '2026-11-22T12:00:00Z';

describe('hostile or failing registry answers (fake registry)', () => {
  const fakes: FakeRegistry[] = [];
  after(async () => Promise.all(fakes.map((f) => f.close())));
  async function setup(o: FakeOptions = {}, timeoutMs?: number) {
    const fake = await startFakeRegistry(o);
    fakes.push(fake);
    const resolve = createClientResolver([{ host: fake.host, plainHttp: true }], { timeoutMs });
    return { fake, client: resolve(fake.host), linker: new ReferrerLinker(resolve, createInProcessSubjectLock()) };
  }
  /** Lets a test switch the hostile behaviour on after setting things up honestly. */
  function switchable() {
    const state: { on?: FakeOptions['intercept'] } = {};
    const intercept: FakeOptions['intercept'] = (req, res, path) => state.on?.(req, res, path) ?? false;
    return { state, intercept };
  }

  it('content that does not match its digest is refused', async () => {
    const { state, intercept } = switchable();
    const { client } = await setup({ intercept });
    const image = await pushTestImage(client, 'h/app');
    state.on = (_req, res) => {
      res.writeHead(200, { 'content-type': OCI_MANIFEST }).end('{"schemaVersion":2}');
      return true;
    };
    await assert.rejects(client.getManifest('h/app', image.digest), isCode('REGISTRY_ERROR', false));
    await assert.rejects(client.getBlob('h/app', EMPTY_CONFIG_DIGEST), isCode('REGISTRY_ERROR', false));
  });

  it('bodies beyond the limits are refused, declared or streamed', async () => {
    const { state, intercept } = switchable();
    const { client } = await setup({ intercept });
    state.on = (req, res) => {
      const big = Buffer.alloc(5 * 1024 * 1024, 0x20);
      if (req.url!.includes('declared')) res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': big.length }).end(big);
      else {
        res.writeHead(200, { 'content-type': OCI_MANIFEST, 'transfer-encoding': 'chunked' });
        res.write(big.subarray(0, 3 * 1024 * 1024));
        res.end(big.subarray(3 * 1024 * 1024));
      }
      return true;
    };
    await assert.rejects(client.getManifest('h/declared', 'v1'), isCode('REGISTRY_ERROR', false));
    await assert.rejects(client.getManifest('h/streamed', 'v1'), isCode('REGISTRY_ERROR', false));
  });

  it('5xx and 429 are retryable REGISTRY_UNAVAILABLE with Retry-After; a hung registry times out', async () => {
    const { state, intercept } = switchable();
    const { client } = await setup({ intercept }, 300);
    state.on = (req, res) => {
      if (req.url!.includes('slow')) return true; // never answers
      res.writeHead(req.url!.includes('busy') ? 429 : 503, { 'retry-after': '7' }).end('{"errors":[{"code":"TOOMANYREQUESTS"}]}');
      return true;
    };
    for (const repo of ['h/busy', 'h/down']) {
      await assert.rejects(client.getManifest(repo, 'v1'), (e: unknown) => {
        isCode('REGISTRY_UNAVAILABLE', true)(e);
        assert.equal((e as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds, 7);
        return true;
      });
    }
    await assert.rejects(client.getManifest('h/slow', 'v1'), isCode('REGISTRY_UNAVAILABLE', true));
  });

  it('an unreadable fallback index aborts the link instead of being overwritten', async () => {
    const { state, intercept } = switchable();
    const { fake, client, linker } = await setup({ intercept });
    const image = await pushTestImage(client, 'h/index');
    const tag = fallbackTag(image.digest);
    const req = { subject: { host: fake.host, repository: 'h/index', digest: image.digest }, transparentStatement: new Uint8Array([1]), annotations: {}, created };
    const puts = () => fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/manifests/${tag}`)).length;

    state.on = (req2, res, path) => {
      if (!path.endsWith(`/manifests/${tag}`) || req2.method !== 'GET') return false;
      res.writeHead(500).end();
      return true;
    };
    await assert.rejects(linker.link(req), isCode('REGISTRY_UNAVAILABLE', true));

    // Something that is not an OCI index under the tag (an image manifest; a malformed index).
    const notIndex = encodeJson({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: EMPTY_CONFIG_MEDIA_TYPE, digest: EMPTY_CONFIG_DIGEST, size: 2 }, layers: [] });
    const badIndex = encodeJson({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: 'md5:abc', size: 1 }] });
    for (const [bytes, type] of [[notIndex, OCI_MANIFEST], [badIndex, OCI_INDEX]] as const) {
      state.on = (req2, res, path) => {
        if (!path.endsWith(`/manifests/${tag}`) || req2.method !== 'GET') return false;
        res.writeHead(200, { 'content-type': type }).end(Buffer.from(bytes));
        return true;
      };
      await assert.rejects(linker.link(req), isCode('REGISTRY_ERROR', false));
    }
    assert.equal(puts(), 0);
    state.on = undefined;
    assert.equal((await linker.link(req)).via, 'tag-fallback');
    assert.equal(puts(), 1);
  });

  it('discover ignores a listed manifest whose subject is another image', async () => {
    const { fake, client, linker } = await setup();
    const image = await pushTestImage(client, 'h/discover');
    const elsewhere = await pushTestImage(client, 'h/discover', { seed: 'elsewhere' });
    const mine = await linker.link({ subject: { host: fake.host, repository: 'h/discover', digest: image.digest }, transparentStatement: new Uint8Array([1]), annotations: {}, created });
    const foreign = await linker.link({ subject: { host: fake.host, repository: 'h/discover', digest: elsewhere.digest }, transparentStatement: new Uint8Array([2]), annotations: {}, created });
    // Someone lists the claim about `elsewhere` in `image`'s index.
    const listed = await client.getManifest('h/discover', fallbackTag(image.digest));
    const index = JSON.parse(Buffer.from(listed!.bytes).toString('utf8'));
    index.manifests.push({ mediaType: OCI_MANIFEST, digest: foreign.manifestDigest, size: 1, artifactType: SCITT_STATEMENT });
    const bytes = encodeJson(index);
    await client.putManifest('h/discover', fallbackTag(image.digest), bytes, OCI_INDEX);
    assert.notEqual(digestOf(bytes), listed!.descriptor.digest);
    assert.deepEqual((await fetchClaims(client, 'h/discover', image.digest)).map((c) => c.manifestDigest), [mine.manifestDigest]);
  });

  it('a token endpoint answering without a token is AUTH_FAILED', async () => {
    const { state, intercept } = switchable();
    const { fake } = await setup({ intercept });
    state.on = (req, res, path) => {
      if (path === '/token') res.writeHead(200, { 'content-type': 'application/json' }).end('{"nothing":true}');
      else res.writeHead(401, { 'www-authenticate': `Bearer realm="${fake.origin}/token",service="s"` }).end();
      return true;
    };
    await assert.rejects(new OciClient({ host: fake.host, plainHttp: true, username: 'u', password: 'p' }).ping(), isCode('AUTH_FAILED', false));
  });
});
