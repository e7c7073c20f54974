import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { OciClient } from '../../src/registry/oci-client';
import { pushTestImage } from '../helpers/registry';
import { isCode } from './assert-error';
import { startFakeRegistry, type FakeRegistry } from './fake-registry';

describe('Bearer token flow and redirects (fake registry)', () => {
  const creds = { username: 'robot', password: 's3cret' };
  const fakes: FakeRegistry[] = [];
  after(async () => Promise.all(fakes.map((f) => f.close())));
  const start = async (o: Parameters<typeof startFakeRegistry>[0]) => {
    const f = await startFakeRegistry(o);
    fakes.push(f);
    return f;
  };

  it('caches a token per scope and asks again only for a new scope', async () => {
    const fake = await start({ bearer: creds });
    const client = new OciClient({ host: fake.host, plainHttp: true, ...creds });
    await client.ping();
    assert.deepEqual(fake.tokenRequests.map((t) => t.scope), [[]]);
    assert.equal(fake.tokenRequests[0].service, 'fake-registry');
    assert.equal(fake.tokenRequests[0].authorization, `Basic ${Buffer.from('robot:s3cret').toString('base64')}`);

    const image = await pushTestImage(client, 'team/a'); // pull (HEAD blob) then push scope
    assert.deepEqual(fake.tokenRequests.slice(1).map((t) => t.scope), [['repository:team/a:pull'], ['repository:team/a:pull,push']]);

    const before = fake.tokenRequests.length;
    for (let i = 0; i < 3; i++) assert.ok(await client.getManifest('team/a', image.digest));
    await client.uploadBlob('team/a', new Uint8Array([7, 7, 7]));
    assert.equal(fake.tokenRequests.length, before, 'cached tokens reused for known scopes');

    assert.equal(await client.getManifest('team/b', image.digest), null);
    assert.deepEqual(fake.tokenRequests.at(-1)?.scope, ['repository:team/b:pull']);
    assert.equal(fake.tokenRequests.length, before + 1);
    assert.ok(await client.getManifest('team/a', image.digest));
    assert.equal(fake.tokenRequests.length, before + 1, 'going back to a known scope costs nothing');
    assert.equal(client.auth.tokenRequests, fake.tokenRequests.length);

    // Concurrent first requests for one new scope share one token request.
    await Promise.all(Array.from({ length: 10 }, () => client.blobExists('team/c', image.digest)));
    assert.equal(fake.tokenRequests.length, before + 2);
  });

  it('wrong credentials at the token server: AUTH_FAILED, not retryable', async () => {
    const fake = await start({ bearer: creds });
    const client = new OciClient({ host: fake.host, plainHttp: true, username: 'robot', password: 'nope' });
    await assert.rejects(client.getManifest('team/a', 'latest'), isCode('AUTH_FAILED', false));
  });

  it('a static token is sent as the bearer without any token exchange', async () => {
    const fake = await start({
      intercept: (req, res) => {
        if (req.headers.authorization === 'Bearer static-token') return false;
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token",service="x"' }).end();
        return true;
      },
    });
    await new OciClient({ host: fake.host, plainHttp: true, token: 'static-token' }).ping();
    await assert.rejects(new OciClient({ host: fake.host, plainHttp: true, token: 'other' }).ping(), isCode('AUTH_FAILED', false));
    assert.equal(fake.tokenRequests.length, 0);
  });

  it('never forwards Authorization to another origin on a redirect', async () => {
    const fake = await start({ bearer: creds, redirectBlobs: true });
    const client = new OciClient({ host: fake.host, plainHttp: true, ...creds });
    const image = await pushTestImage(client, 'team/r');
    const manifest = await client.getManifest('team/r', image.digest);
    const config = JSON.parse(Buffer.from(manifest!.bytes).toString('utf8')).config.digest as string;
    const bytes = await client.getBlob('team/r', config);
    assert.ok(bytes.byteLength > 0);
    const toRegistry = fake.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/'));
    assert.ok(toRegistry.some((r) => r.authorization?.startsWith('Bearer ')), 'the registry itself got the token');
    assert.equal(fake.storageRequests.length, 1);
    assert.equal(fake.storageRequests[0].authorization, undefined, 'storage origin got no credentials');
  });

  it('answers a challenge only from the registry origin, and sends Basic only after a Basic challenge', async () => {
    const fake = await start({
      intercept: (req, res, path) => {
        if (path !== '/v2/') return false;
        if (req.headers.authorization === `Basic ${Buffer.from('robot:s3cret').toString('base64')}`) return false;
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
        return true;
      },
    });
    const client = new OciClient({ host: fake.host, plainHttp: true, ...creds });
    await client.ping();
    await client.ping();
    assert.deepEqual(
      fake.requests.map((r) => r.authorization !== undefined),
      [false, true, true],
      'first request anonymous, then Basic preemptively',
    );
  });
});
