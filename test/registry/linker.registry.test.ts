import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClientResolver } from '../../src/registry/client-resolver';
import { digestOf, encodeJson, parseImageIndex, parseImageManifest } from '../../src/registry/descriptor';
import { fetchClaims, listReferrers } from '../../src/registry/discover';
import { fallbackTag, readFallbackIndex } from '../../src/registry/fallback-index';
import { createInProcessSubjectLock, ReferrerLinker } from '../../src/registry/linker';
import { EMPTY_CONFIG_BYTES, EMPTY_CONFIG_DIGEST, EMPTY_CONFIG_MEDIA_TYPE, OCI_INDEX, OCI_MANIFEST, SCITT_STATEMENT } from '../../src/registry/media-types';
import { OciClient } from '../../src/registry/oci-client';
import { parseSubjectReference } from '../../src/registry/reference';
import { pushTestImage, startRegistry, type TestRegistry } from '../helpers/registry';
import { isCode } from './assert-error';

const CREATED = '2026-11-22T12:00:00Z';

describe('ReferrerLinker against docker-registry 2.8 (tag fallback, no auth)', () => {
  let reg: TestRegistry;
  let client: OciClient;
  let linker: ReferrerLinker;

  before(async () => {
    reg = await startRegistry();
    const resolve = createClientResolver([reg.config]);
    client = resolve(reg.host);
    linker = new ReferrerLinker(resolve, createInProcessSubjectLock());
  });
  after(async () => reg?.stop());

  const statement = (label: string) => new TextEncoder().encode(`transparent statement ${label} ${randomBytes(4).toString('hex')}`);

  it('pings and reports no referrers API', async () => {
    await client.ping();
    const image = await pushTestImage(client, 'probe/app');
    assert.equal(await client.getReferrers('probe/app', image.digest), null);
    assert.equal(client.servesReferrersApi, false);
  });

  it('links claims: the fallback index lists them with subject, artifactType and layer bytes', async () => {
    const image = await pushTestImage(client, 'team/app', { tag: 'v1' });
    const subject = parseSubjectReference(`oci://${reg.host}/team/app@${image.digest}`)!;
    const statements = [statement('a'), statement('b')];
    const results = [];
    for (const [i, s] of statements.entries()) {
      results.push(await linker.link({ subject, transparentStatement: s, annotations: { 'org.example.entry': String(i) }, created: CREATED }));
    }
    for (const r of results) assert.equal(r.via, 'tag-fallback');

    const index = await readFallbackIndex(client, 'team/app', image.digest);
    assert.ok(index);
    assert.equal(index.mediaType, OCI_INDEX);
    assert.deepEqual(index.manifests.map((m) => m.digest), results.map((r) => r.manifestDigest));
    for (const [i, m] of index.manifests.entries()) {
      assert.equal(m.mediaType, OCI_MANIFEST);
      assert.equal(m.artifactType, SCITT_STATEMENT);
      assert.equal(m.annotations?.['org.example.entry'], String(i));
      assert.equal(m.annotations?.['org.opencontainers.image.created'], CREATED);
      const fetched = await client.getManifest('team/app', m.digest);
      assert.ok(fetched);
      assert.equal(fetched.descriptor.size, m.size);
      const manifest = parseImageManifest(fetched.bytes, 'claim');
      assert.equal(manifest.artifactType, SCITT_STATEMENT);
      assert.deepEqual(manifest.subject, { mediaType: image.mediaType, digest: image.digest, size: image.size });
      assert.deepEqual(manifest.config, { mediaType: EMPTY_CONFIG_MEDIA_TYPE, digest: EMPTY_CONFIG_DIGEST, size: 2 });
      assert.deepEqual(await client.getBlob('team/app', EMPTY_CONFIG_DIGEST), EMPTY_CONFIG_BYTES);
      assert.equal(manifest.layers.length, 1);
      assert.equal(manifest.layers[0].mediaType, SCITT_STATEMENT);
      assert.deepEqual(await client.getBlob('team/app', manifest.layers[0].digest), statements[i]);
    }

    const listed = await listReferrers(client, 'team/app', image.digest, { artifactType: SCITT_STATEMENT });
    assert.equal(listed.length, 2);
    const claims = await fetchClaims(client, 'team/app', image.digest);
    assert.deepEqual(claims.map((c) => c.statement), statements);
    assert.deepEqual(claims.map((c) => c.manifestDigest), results.map((r) => r.manifestDigest));
  });

  it('is deterministic and idempotent: the same link twice adds nothing', async () => {
    const image = await pushTestImage(client, 'team/idem');
    const subject = { host: reg.host, repository: 'team/idem', digest: image.digest };
    const req = { subject, transparentStatement: statement('same'), annotations: { b: '2', a: '1' }, created: CREATED };
    const first = await linker.link(req);
    const second = await linker.link({ ...req, annotations: { a: '1', b: '2' } });
    assert.equal(second.manifestDigest, first.manifestDigest);
    const before = await client.getManifest('team/idem', fallbackTag(image.digest));
    await linker.link(req);
    const after = await client.getManifest('team/idem', fallbackTag(image.digest));
    assert.deepEqual(after?.descriptor, before?.descriptor);
    assert.equal(parseImageIndex(after!.bytes, 'index').manifests.length, 1);
  });

  it('keeps a referrer another tool listed beforehand, and its unknown fields', async () => {
    const image = await pushTestImage(client, 'team/shared');
    // Another tool's signature manifest, already listed in the sha256-<hex> index.
    const sig = new TextEncoder().encode('not our signature');
    await client.uploadBlob('team/shared', EMPTY_CONFIG_BYTES);
    await client.uploadBlob('team/shared', sig);
    const other = encodeJson({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.signature',
      config: { mediaType: EMPTY_CONFIG_MEDIA_TYPE, digest: EMPTY_CONFIG_DIGEST, size: 2 },
      layers: [{ mediaType: 'application/vnd.example.sig', digest: digestOf(sig), size: sig.byteLength }],
      subject: image,
    });
    const otherDigest = await client.putManifest('team/shared', digestOf(other), other, OCI_MANIFEST);
    const otherEntry = {
      mediaType: OCI_MANIFEST,
      digest: otherDigest,
      size: other.byteLength,
      artifactType: 'application/vnd.example.signature',
      annotations: { 'org.example.tool': 'other' },
      'org.example.extension': { kept: true },
    };
    const existing = encodeJson({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [otherEntry], annotations: { 'org.example.owner': 'x' } });
    await client.putManifest('team/shared', fallbackTag(image.digest), existing, OCI_INDEX);

    const r = await linker.link({
      subject: { host: reg.host, repository: 'team/shared', digest: image.digest },
      transparentStatement: statement('kept'),
      annotations: {},
      created: CREATED,
    });
    const index = await readFallbackIndex(client, 'team/shared', image.digest);
    assert.deepEqual(index?.manifests[0], otherEntry);
    assert.equal(index?.manifests[1].digest, r.manifestDigest);
    assert.equal(index?.manifests.length, 2);
    assert.deepEqual(index?.annotations, { 'org.example.owner': 'x' });
    // discover lists both, but only ours is a claim.
    assert.equal((await listReferrers(client, 'team/shared', image.digest)).length, 2);
    assert.deepEqual((await fetchClaims(client, 'team/shared', image.digest)).map((c) => c.manifestDigest), [r.manifestDigest]);
  });

  it('50 concurrent links about one image: the index lists exactly those 50 plus what was there', async () => {
    const image = await pushTestImage(client, 'team/busy');
    const subject = { host: reg.host, repository: 'team/busy', digest: image.digest };
    const prior = await linker.link({ subject, transparentStatement: statement('prior'), annotations: {}, created: CREATED });
    const requests = Array.from({ length: 50 }, (_, i) => ({
      subject,
      transparentStatement: statement(`c${i}`),
      annotations: { 'org.example.i': String(i) },
      created: CREATED,
    }));
    const results = await Promise.all(requests.map((r) => linker.link(r)));
    // And each of them once more, concurrently: nothing doubles.
    await Promise.all(requests.slice(0, 10).map((r) => linker.link(r)));
    const index = await readFallbackIndex(client, 'team/busy', image.digest);
    const digests = index!.manifests.map((m) => m.digest);
    assert.equal(new Set(digests).size, digests.length);
    assert.deepEqual(new Set(digests), new Set([prior.manifestDigest, ...results.map((r) => r.manifestDigest)]));
    assert.equal(digests.length, 51);
  });

  it('a subject missing from the registry is SUBJECT_NOT_FOUND (retryable), and links once pushed', async () => {
    const pending = await pushTestImage(client, 'other/where', { seed: 'late' });
    const subject = { host: reg.host, repository: 'team/late', digest: pending.digest };
    const req = { subject, transparentStatement: statement('late'), annotations: {}, created: CREATED };
    await assert.rejects(linker.link(req), isCode('SUBJECT_NOT_FOUND', true));
    await pushTestImage(client, 'team/late', { seed: 'late' });
    assert.equal((await linker.link(req)).via, 'tag-fallback');
  });

  it('registry stopped: REGISTRY_UNAVAILABLE (retryable); started again: the link succeeds', async () => {
    const image = await pushTestImage(client, 'team/outage');
    const req = {
      subject: { host: reg.host, repository: 'team/outage', digest: image.digest },
      transparentStatement: statement('outage'),
      annotations: {},
      created: CREATED,
    };
    await reg.stop();
    try {
      await assert.rejects(linker.link(req), isCode('REGISTRY_UNAVAILABLE', true));
    } finally {
      await reg.start();
    }
    const r = await linker.link(req);
    const index = await readFallbackIndex(client, 'team/outage', image.digest);
    assert.deepEqual(index?.manifests.map((m) => m.digest), [r.manifestDigest]);
  });

  it('refuses a subject on a host that is not configured without any network request', async () => {
    const calls: string[] = [];
    const recording = async (input: string | URL, init?: RequestInit) => {
      calls.push(String(input));
      return fetch(input, init);
    };
    const l = new ReferrerLinker(createClientResolver([reg.config], { fetch: recording }), createInProcessSubjectLock());
    const digest = `sha256:${'a'.repeat(64)}`;
    for (const host of ['evil.example:5000', '127.0.0.2:5000', `localhost:${reg.host.split(':')[1]}`]) {
      await assert.rejects(
        l.link({ subject: { host, repository: 'team/app', digest }, transparentStatement: statement('x'), annotations: {}, created: CREATED }),
        isCode('REGISTRY_NOT_CONFIGURED', false),
      );
    }
    assert.throws(() => new OciClient(reg.config, { host: 'evil.example', fetch: recording }), isCode('REGISTRY_NOT_CONFIGURED', false));
    assert.throws(() => new OciClient(undefined, { host: 'evil.example', fetch: recording }), isCode('REGISTRY_NOT_CONFIGURED', false));
    assert.deepEqual(calls, []);
  });
});
