import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { RunningApp } from '../../src/bootstrap';
import { createClientResolver } from '../../src/registry';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { pushTestImage, startRegistry, type TestRegistry } from '../helpers/registry';
import { ADMIN, baseEnv, REPO_ROOT, startInProcess, waitFor, tempDir } from '../helpers/service';

const run = promisify(execFile);

/**
 * The supply chain end to end, through the scitt CLI as users would run it: a publisher's image on
 * registry A with provenance, SBOM and vulnerability claims; the claims as referrers; the image and
 * its referrers copied to registry B; a consumer verifying offline against B with only pinned keys;
 * an approval that makes the gate allow, and a revocation that makes it deny.
 */
describe('supply chain: publish, link, copy, verify offline, gate', () => {
  let db: TestDatabase;
  let svc: RunningApp;
  let A: TestRegistry;
  let B: TestRegistry;
  let dir: string;
  let scitt: (...args: string[]) => Promise<{ stdout: string; stderr: string }>;

  before(async () => {
    db = await createTestDatabase('chain');
    A = await startRegistry();
    B = await startRegistry({ auth: { username: 'consumer', password: 'pw-b-registry' } });
    const registries = JSON.stringify([A.config, B.config]);
    svc = await startInProcess(baseEnv({ DATABASE_URL: db.url, REGISTRIES: registries, LINK_MAX_BACKOFF_SECONDS: '1' }));
    dir = tempDir('chain-');
    const env = { ...process.env, SCITT_URL: svc.url, SCITT_ADMIN_TOKEN: ADMIN, SCITT_REGISTRIES: registries };
    scitt = (...args) => run(process.execPath, [join(REPO_ROOT, 'bin/scitt.js'), ...args], { cwd: dir, env });
  });
  after(async () => {
    await svc?.close();
    await A?.stop();
    await B?.stop();
    await db?.drop();
  });

  it('goes from publisher to consumer', async () => {
    // The publisher pushes an image to A.
    const image = await pushTestImage(createClientResolver([A.config])(A.host), 'shop/web', { tag: '1.0' });
    const subject = `oci://${A.host}/shop/web@${image.digest}`;
    // Builder, scanner and consumer identities, trusted by the ledger.
    for (const who of ['builder', 'scanner', 'consumer']) {
      await scitt('keygen', '--out', `${who}.pem`);
      await scitt('issuer', 'add', `https://${who}.example`, '--key', `${who}.pem.pub.jwk`);
    }
    const claim = async (who: string, file: string, body: object, contentType: string, sub = subject) => {
      writeFileSync(join(dir, file), JSON.stringify(body));
      await scitt('sign', file, '--key', `${who}.pem`, '--iss', `https://${who}.example`, '--sub', sub, '--content-type', contentType, '-o', `${file}.cose`);
      return JSON.parse((await scitt('submit', `${file}.cose`)).stdout).entryId as string;
    };
    const ids = [
      await claim('builder', 'provenance.json', { buildType: 'ci' }, 'application/vnd.in-toto+json'),
      await claim('builder', 'sbom.json', { spdxVersion: 'SPDX-2.3' }, 'application/spdx+json'),
      await claim('scanner', 'vex.json', { vulnerabilities: [{ id: 'CVE-2026-1', severity: 'low' }] }, 'application/vnd.cyclonedx+json'),
    ];
    // The transparent claims appear as referrers on A.
    for (const id of ids) {
      await waitFor(async () => {
        const l = (await (await fetch(`${svc.url}/entries/${id}/links`)).json()) as { links: { status: string }[] };
        return l.links[0]?.status === 'linked' ? true : undefined;
      }, 30000, 100);
    }
    const onA = JSON.parse((await scitt('discover', `${A.host}/shop/web:1.0`, '--json')).stdout);
    assert.equal(onA.claims.length, 3);

    // Copy image + referrers to B; the consumer pins the service keys and verifies offline against B.
    await scitt('copy', `${A.host}/shop/web:1.0`, `${B.host}/mirror/web:1.0`);
    await scitt('keys', '-o', 'service-keys.cbor');
    const verified = JSON.parse((await scitt('verify', '--image', `${B.host}/mirror/web@${image.digest}`, '--keys', 'service-keys.cbor', '--json')).stdout);
    assert.equal(verified.valid, true);
    assert.equal(verified.claims.length, 3);

    const policy = {
      require: [
        { name: 'provenance', contentType: 'application/vnd.in-toto+json', issuers: ['https://builder.example'] },
        { name: 'sbom', contentType: 'application/spdx+json', issuers: ['https://builder.example'] },
        { name: 'approval', contentType: 'application/vnd.example.approval+json', issuers: ['https://consumer.example'] },
      ],
      forbid: [
        { name: 'revocation', contentType: 'application/vnd.example.revocation+json', issuers: ['https://builder.example'] },
        { name: 'vulnerabilities', contentType: 'application/vnd.cyclonedx+json', issuers: ['https://scanner.example'], minSeverity: 'high' },
      ],
    };
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
    const gate = () => scitt('gate', `${B.host}/mirror/web@${image.digest}`, '--policy', 'policy.json', '--keys', 'service-keys.cbor').catch((e) => e);
    const denied = await gate();
    assert.equal(denied.code, 1, 'no approval yet: deny');
    assert.match(denied.stdout, /required approval: no/);

    // The consumer approves the image as it sits in B; the claim is linked into B.
    const approval = await claim('consumer', 'approval.json', { approved: true }, 'application/vnd.example.approval+json', `oci://${B.host}/mirror/web@${image.digest}`);
    await waitFor(async () => {
      const l = (await (await fetch(`${svc.url}/entries/${approval}/links`)).json()) as { links: { status: string }[] };
      return l.links[0]?.status === 'linked' ? true : undefined;
    }, 30000, 100);
    const allowed = await gate();
    assert.equal(allowed.code ?? 0, 0, allowed.stdout ?? allowed.message);
    assert.match(allowed.stdout, /ALLOW/);

    // The publisher revokes the image on A; copying again brings the revocation to B; the gate denies.
    await claim('builder', 'revocation.json', { reason: 'compromised builder' }, 'application/vnd.example.revocation+json');
    await waitFor(async () => ((await (await fetch(`${svc.url}/artifacts/${image.digest}/claims`)).json()) as { items: unknown[] }).items.length === 5 ? true : undefined);
    await waitFor(async () => {
      const out = JSON.parse((await scitt('discover', `${A.host}/shop/web@${image.digest}`, '--json')).stdout);
      return out.claims.length === 4 ? true : undefined;
    }, 30000, 200);
    await scitt('copy', `${A.host}/shop/web@${image.digest}`, `${B.host}/mirror/web:1.0`);
    const revoked = await gate();
    assert.equal(revoked.code, 1);
    assert.match(revoked.stdout, /forbidden revocation/);
    // The service's own gate agrees.
    const server = (await (await fetch(`${svc.url}/artifacts/${image.digest}/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(policy) })).json()) as { decision: string };
    assert.equal(server.decision, 'deny');
  });
});
