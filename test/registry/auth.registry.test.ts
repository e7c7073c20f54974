import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClientResolver } from '../../src/registry/client-resolver';
import { fetchClaims } from '../../src/registry/discover';
import { readFallbackIndex } from '../../src/registry/fallback-index';
import { createInProcessSubjectLock, ReferrerLinker } from '../../src/registry/linker';
import { OciClient } from '../../src/registry/oci-client';
import { pushTestImage, startRegistry, type TestRegistry } from '../helpers/registry';
import { isCode } from './assert-error';

describe('docker-registry 2.8 with htpasswd Basic auth', () => {
  let reg: TestRegistry;
  const auth = { username: 'ledger', password: 'correct horse battery staple' };

  before(async () => {
    reg = await startRegistry({ auth });
  });
  after(async () => reg?.stop());

  it('pushes, links and discovers with the configured credentials', async () => {
    const resolve = createClientResolver([reg.config]);
    const client = resolve(reg.host);
    await client.ping();
    const image = await pushTestImage(client, 'secure/app', { tag: 'v1' });
    const linker = new ReferrerLinker(resolve, createInProcessSubjectLock());
    const statement = new TextEncoder().encode('a statement behind basic auth');
    const r = await linker.link({
      subject: { host: reg.host, repository: 'secure/app', digest: image.digest },
      transparentStatement: statement,
      annotations: { 'org.example.entry': 'e1' },
      created: '2026-11-22T12:00:00Z',
    });
    assert.equal(r.via, 'tag-fallback');
    assert.deepEqual((await readFallbackIndex(client, 'secure/app', image.digest))?.manifests.map((m) => m.digest), [r.manifestDigest]);
    const claims = await fetchClaims(client, 'secure/app', image.digest);
    assert.deepEqual(claims.map((c) => c.statement), [statement]);
    // Credentials are learnt from the first Basic challenge and sent preemptively afterwards.
    assert.equal(client.auth.tokenRequests, 0);
  });

  it('without credentials: AUTH_FAILED, not retryable', async () => {
    const anonymous = new OciClient({ host: reg.host, plainHttp: true });
    await assert.rejects(anonymous.ping(), isCode('AUTH_FAILED', false));
    await assert.rejects(anonymous.getManifest('secure/app', 'v1'), isCode('AUTH_FAILED', false));
  });

  it('wrong password: AUTH_FAILED, not retryable, for reads, uploads and links', async () => {
    const wrong = { ...reg.config, password: 'wrong' };
    const client = new OciClient(wrong);
    await assert.rejects(client.ping(), isCode('AUTH_FAILED', false));
    await assert.rejects(client.uploadBlob('secure/app', new Uint8Array([1, 2, 3])), isCode('AUTH_FAILED', false));
    const linker = new ReferrerLinker(createClientResolver([wrong]), createInProcessSubjectLock());
    await assert.rejects(
      linker.link({
        subject: { host: reg.host, repository: 'secure/app', digest: `sha256:${'b'.repeat(64)}` },
        transparentStatement: new Uint8Array([1]),
        annotations: {},
        created: '2026-11-22T12:00:00Z',
      }),
      isCode('AUTH_FAILED', false),
    );
  });
});
