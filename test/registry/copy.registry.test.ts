import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClientResolver } from '../../src/registry/client-resolver';
import { copyImageWithReferrers } from '../../src/registry/copy';
import { digestOf, encodeJson } from '../../src/registry/descriptor';
import { fetchClaims, listReferrers } from '../../src/registry/discover';
import { readFallbackIndex } from '../../src/registry/fallback-index';
import { createInProcessSubjectLock, ReferrerLinker } from '../../src/registry/linker';
import { OCI_INDEX } from '../../src/registry/media-types';
import type { OciClient } from '../../src/registry/oci-client';
import { pushTestImage, startRegistry, type TestRegistry } from '../helpers/registry';

describe('copyImageWithReferrers between two docker-registry instances', () => {
  let a: TestRegistry;
  let b: TestRegistry;
  let clientA: OciClient;
  let clientB: OciClient;
  let linker: ReferrerLinker;
  const created = '2026-11-22T12:00:00Z';

  before(async () => {
    [a, b] = await Promise.all([startRegistry(), startRegistry({ auth: { username: 'mirror', password: 'mirror-pass' } })]);
    const resolve = createClientResolver([a.config, b.config]);
    clientA = resolve(a.host);
    clientB = resolve(b.host);
    linker = new ReferrerLinker(resolve, createInProcessSubjectLock());
  });
  after(async () => Promise.all([a?.stop(), b?.stop()]));

  it('copies an image and its claims; the claims are discoverable at B', async () => {
    const image = await pushTestImage(clientA, 'src/app', { tag: 'v1' });
    const statements = ['one', 'two', 'three'].map((s) => new TextEncoder().encode(`claim ${s}`));
    const links = [];
    for (const s of statements) {
      links.push(await linker.link({ subject: { host: a.host, repository: 'src/app', digest: image.digest }, transparentStatement: s, annotations: {}, created }));
    }
    const result = await copyImageWithReferrers({ client: clientA, repository: 'src/app', reference: 'v1' }, { client: clientB, repository: 'mirror/app', tag: 'v1' });
    assert.equal(result.descriptor.digest, image.digest);
    assert.equal(result.via, 'tag-fallback');
    assert.deepEqual(result.referrers.map((r) => r.digest), links.map((l) => l.manifestDigest));
    assert.ok(result.manifests.includes(image.digest));
    assert.equal((await clientB.headManifest('mirror/app', 'v1'))?.digest, image.digest);

    const claims = await fetchClaims(clientB, 'mirror/app', image.digest);
    assert.deepEqual(claims.map((c) => c.statement), statements);

    // Copying again changes nothing and uploads nothing.
    const again = await copyImageWithReferrers({ client: clientA, repository: 'src/app', reference: image.digest }, { client: clientB, repository: 'mirror/app' });
    assert.deepEqual(again.blobs, []);
    assert.equal((await readFallbackIndex(clientB, 'mirror/app', image.digest))?.manifests.length, 3);
  });

  it('copies an image index with its child manifests, keeping referrers already at B', async () => {
    const amd = await pushTestImage(clientA, 'src/multi', { seed: 'amd64' });
    const arm = await pushTestImage(clientA, 'src/multi', { seed: 'arm64' });
    const indexBytes = encodeJson({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { ...amd, platform: { architecture: 'amd64', os: 'linux' } },
        { ...arm, platform: { architecture: 'arm64', os: 'linux' } },
      ],
    });
    const indexDigest = await clientA.putManifest('src/multi', 'latest', indexBytes, OCI_INDEX);
    assert.equal(indexDigest, digestOf(indexBytes));
    const atA = await linker.link({ subject: { host: a.host, repository: 'src/multi', digest: indexDigest }, transparentStatement: new Uint8Array([1, 2, 3]), annotations: {}, created });

    // B already has the index and a claim about it that A does not have.
    await copyImageWithReferrers({ client: clientA, repository: 'src/multi', reference: 'latest' }, { client: clientB, repository: 'mirror/multi' });
    const onlyB = await linker.link({ subject: { host: b.host, repository: 'mirror/multi', digest: indexDigest }, transparentStatement: new Uint8Array([9]), annotations: {}, created });

    const result = await copyImageWithReferrers({ client: clientA, repository: 'src/multi', reference: 'latest' }, { client: clientB, repository: 'mirror/multi' });
    assert.equal(result.descriptor.digest, indexDigest);
    assert.ok((await clientB.getManifest('mirror/multi', amd.digest)) !== null);
    assert.ok((await clientB.getManifest('mirror/multi', arm.digest)) !== null);
    const listed = (await listReferrers(clientB, 'mirror/multi', indexDigest)).map((d) => d.digest).sort();
    assert.deepEqual(listed, [atA.manifestDigest, onlyB.manifestDigest].sort());
  });
});
