import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { decode } from 'cbor2';
import { importPublicKey, verifyReceipt } from '../../src/core/cose';
import type { RunningApp } from '../../src/bootstrap';
import { createTestDatabase, type TestDatabase } from '../helpers/pg';
import { ADMIN, baseEnv, REPO_ROOT, startInProcess, tempDir } from '../helpers/service';

const run = promisify(execFile);
const cose = require('cose-js');
// cose-js only emits header labels it has names for; teaching it the CWT claims label (15) through its
// exported table is enough for it to sign an RFC 9943 Signed Statement.
require('cose-js/lib/common').HeaderParameters.cwt_claims = 15;

describe('statements made by other tools register: cose-js and the scitt CLI', () => {
  let db: TestDatabase;
  let svc: RunningApp;
  let serviceKey: ReturnType<typeof importPublicKey>;
  const admin = (body: unknown) =>
    fetch(svc.url + '/admin/issuers', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  before(async () => {
    db = await createTestDatabase('interop');
    svc = await startInProcess(baseEnv({ DATABASE_URL: db.url }));
    const set = decode(new Uint8Array(await (await fetch(svc.url + '/.well-known/scitt-keys')).arrayBuffer()), { preferMap: true }) as Map<number, unknown>[];
    serviceKey = importPublicKey(set[0]);
  });
  after(async () => {
    await svc?.close();
    await db?.drop();
  });

  it('a cose-js (ES256) statement registers and its receipt verifies', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
    const priv = privateKey.export({ format: 'jwk' }) as { d: string };
    const iss = 'https://cose-js.example';
    assert.equal((await admin({ iss, keys: [{ ...jwk, kid: 'cosejs-1' }] })).status, 201);
    const headers = {
      p: { alg: 'ES256', content_type: 'application/json', cwt_claims: new Map<number, string>([[1, iss], [2, 'urn:example:artifact:1']]) },
      u: { kid: 'cosejs-1' },
    };
    const signer = { key: { d: Buffer.from(priv.d, 'base64url') } };
    const msg: Buffer = await cose.sign.create(headers, Buffer.from('{"from":"cose-js"}'), signer);
    // cose-js puts kid in the unprotected header; the service needs it protected (RFC 9943), so it
    // goes in protected too.
    const headers2 = { p: { ...headers.p, kid: 'cosejs-1' }, u: {} };
    const msg2: Buffer = await cose.sign.create(headers2, Buffer.from('{"from":"cose-js"}'), signer);
    const rejected = await fetch(svc.url + '/entries', { method: 'POST', body: msg, headers: { 'content-type': 'application/cose' } });
    assert.equal(rejected.status, 400, 'kid only in the unprotected header is not a confirmation the profile accepts');
    const res = await fetch(svc.url + '/entries', { method: 'POST', body: msg2, headers: { 'content-type': 'application/cose' } });
    assert.equal(res.status, 201, await res.clone().text());
    const receipt = new Uint8Array(await res.arrayBuffer());
    const registered = new Uint8Array(await (await fetch(svc.url + res.headers.get('location') + '/statement')).arrayBuffer());
    assert.equal(verifyReceipt(receipt, { statement: registered }, () => serviceKey).ok, true);
  });

  it('the scitt CLI: keygen, issuer add, sign (content type and hash envelope), submit, keys, verify', async () => {
    const dir = tempDir('cli-');
    const env = { ...process.env, SCITT_URL: svc.url, SCITT_ADMIN_TOKEN: ADMIN };
    const scitt = (...args: string[]) => run(process.execPath, [join(REPO_ROOT, 'bin/scitt.js'), ...args], { cwd: dir, env });
    await scitt('keygen', '--alg', 'ES384', '--out', 'k.pem');
    await scitt('issuer', 'add', 'https://cli.example', '--key', 'k.pem.pub.jwk');
    const list = await scitt('issuer', 'list');
    assert.match(list.stdout, /https:\/\/cli\.example\t1 key/);
    await run('sh', ['-c', 'echo "{}" > sbom.json && head -c 100000 /dev/urandom > big.bin'], { cwd: dir });
    const sub = `oci://127.0.0.1:5000/app@sha256:${'cd'.repeat(32)}`;
    await scitt('sign', 'sbom.json', '--key', 'k.pem', '--iss', 'https://cli.example', '--sub', sub, '--content-type', 'application/spdx+json', '-o', 'sbom.cose');
    await scitt('sign', 'big.bin', '--key', 'k.pem', '--iss', 'https://cli.example', '--sub', sub, '--content-type', 'application/octet-stream', '--hash-envelope', '--location', 'https://example/big.bin', '-o', 'big.cose');
    for (const f of ['sbom.cose', 'big.cose']) {
      const out = JSON.parse((await scitt('submit', f)).stdout) as { entryId: string };
      assert.match(out.entryId, /^[0-9a-f]{64}$/);
    }
    await scitt('keys', '-o', 'keys.cbor');
    const ok = await scitt('verify', 'sbom.cose.transparent', '--keys', 'keys.cbor');
    assert.match(ok.stdout, /VALID/);
    const ok2 = await scitt('verify', 'big.cose', '--receipt', 'big.cose.receipt', '--keys', 'keys.cbor', '--issuer-key', 'k.pem.pub.jwk', '--json');
    assert.equal(JSON.parse(ok2.stdout).valid, true);
    // A receipt for another statement does not verify: exit code 1.
    const bad = await scitt('verify', 'sbom.cose', '--receipt', 'big.cose.receipt', '--keys', 'keys.cbor').catch((e) => e);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /INVALID/);
    // Usage errors exit 2.
    const usage = await scitt('verify').catch((e) => e);
    assert.equal(usage.code, 2);
    assert.ok(readFileSync(join(dir, 'sbom.cose.receipt')).length > 0);
  });
});
