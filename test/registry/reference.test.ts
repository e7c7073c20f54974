import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fallbackTag } from '../../src/registry/fallback-index';
import { parseImageReference, parseSubjectReference } from '../../src/registry/reference';
import { findRegistry, isLoopbackHost, parseRegistriesConfig } from '../../src/registry/registries.config';
import { isCode } from './assert-error';

const HEX = 'a'.repeat(64);
const D = `sha256:${HEX}`;

describe('parseSubjectReference', () => {
  it('accepts digest-pinned references with an explicit host', () => {
    assert.deepEqual(parseSubjectReference(`oci://registry.example:5000/team/app@${D}`), { host: 'registry.example:5000', repository: 'team/app', digest: D });
    assert.deepEqual(parseSubjectReference(`127.0.0.1:5000/app@${D}`), { host: '127.0.0.1:5000', repository: 'app', digest: D });
    assert.deepEqual(parseSubjectReference(`localhost/a/b/c@${D}`), { host: 'localhost', repository: 'a/b/c', digest: D });
    assert.deepEqual(parseSubjectReference(`[::1]:5000/app@${D}`), { host: '[::1]:5000', repository: 'app', digest: D });
    assert.deepEqual(parseSubjectReference(`Registry.Example/a.b_c__d--e@${D}`), { host: 'registry.example', repository: 'a.b_c__d--e', digest: D });
  });

  it('refuses everything else', () => {
    for (const s of [
      `library/ubuntu@${D}`, // first component is not a host
      `ubuntu@${D}`,
      `registry.example/app:tag`,
      `registry.example/app:tag@${D}`,
      `registry.example/app@sha256:${'A'.repeat(64)}`,
      `registry.example/app@sha256:${'a'.repeat(63)}`,
      `registry.example/app@sha512:${'a'.repeat(128)}`,
      `registry.example/App@${D}`,
      `registry.example/app/@${D}`,
      `registry.example/-app@${D}`,
      `registry.example/a..b@${D}`,
      `registry.example:99999/app@${D}`,
      `registry.example:/app@${D}`,
      `https://registry.example/app@${D}`,
      `oci://user:pw@registry.example/app@${D}`,
      `registry.example/${'a/'.repeat(130)}a@${D}`,
      `sha256:${HEX}`,
      '',
    ]) {
      assert.equal(parseSubjectReference(s), null, s);
    }
  });
});

describe('parseImageReference', () => {
  it('tags, digests, both, and the latest default', () => {
    assert.deepEqual(parseImageReference('registry.example:5000/team/app:v1.2'), { host: 'registry.example:5000', repository: 'team/app', tag: 'v1.2' });
    assert.deepEqual(parseImageReference(`oci://127.0.0.1:5000/app@${D}`), { host: '127.0.0.1:5000', repository: 'app', digest: D });
    assert.deepEqual(parseImageReference(`localhost:5000/app:v1@${D}`), { host: 'localhost:5000', repository: 'app', tag: 'v1', digest: D });
    assert.deepEqual(parseImageReference('localhost:5000/app'), { host: 'localhost:5000', repository: 'app', tag: 'latest' });
  });
  it('refuses references without a host or with bad parts', () => {
    for (const s of ['app:v1', 'team/app:v1', 'registry.example/app:-bad', `registry.example/app@sha256:${HEX.slice(1)}`, 'registry.example/APP:v1', 'registry.example/app:']) {
      assert.equal(parseImageReference(s), null, s);
    }
  });
});

describe('fallbackTag', () => {
  it('is <alg>-<hex>, the hex cut to 64 characters', () => {
    assert.equal(fallbackTag(D), `sha256-${HEX}`);
    assert.equal(fallbackTag(`sha512:${'b'.repeat(128)}`), `sha512-${'b'.repeat(64)}`);
  });
});

describe('parseRegistriesConfig', () => {
  it('unset or empty: no registries', () => {
    assert.deepEqual(parseRegistriesConfig(undefined), []);
    assert.deepEqual(parseRegistriesConfig('  '), []);
  });

  it('inline JSON and a file path give the same normalised result', () => {
    const value = JSON.stringify([
      { host: 'Registry.Example:5000', username: 'u', password: 'p' },
      { host: '127.0.0.1:5001', plainHttp: true },
      { host: 'ghcr.io', token: 't0k' },
    ]);
    const expected = [
      { host: 'registry.example:5000', username: 'u', password: 'p' },
      { host: '127.0.0.1:5001', plainHttp: true },
      { host: 'ghcr.io', token: 't0k' },
    ];
    assert.deepEqual(parseRegistriesConfig(value), expected);
    const file = join(mkdtempSync(join(tmpdir(), 'scitt-regcfg-')), 'registries.json');
    writeFileSync(file, value);
    assert.deepEqual(parseRegistriesConfig(file), expected);
    assert.deepEqual(findRegistry(expected, 'REGISTRY.example:5000'), expected[0]);
    assert.equal(findRegistry(expected, 'registry.example'), undefined);
    assert.equal(findRegistry(expected, 'evil.example'), undefined);
  });

  it('plainHttp only for loopback hosts', () => {
    for (const host of ['127.0.0.1:5000', '127.8.9.10', 'localhost:5000', '[::1]:5000']) {
      assert.ok(isLoopbackHost(host), host);
      assert.equal(parseRegistriesConfig(JSON.stringify([{ host, plainHttp: true }]))[0].plainHttp, true);
    }
    for (const host of ['registry.example', '10.0.0.1:5000', '128.0.0.1', 'localhost.example', '[::2]:5000']) {
      assert.ok(!isLoopbackHost(host), host);
      assert.throws(() => parseRegistriesConfig(JSON.stringify([{ host, plainHttp: true }])), isCode('BAD_REGISTRY_CONFIG', false));
    }
  });

  it('readable errors that never echo secrets', () => {
    const cases: [string, RegExp][] = [
      ['{not json', /not valid JSON/],
      ['{"host":"a.example"}', /JSON array/],
      ['[{"host":"https://a.example"}]', /host/],
      ['[{"host":"a.example/path"}]', /host/],
      ['[{"username":"u","password":"p"}]', /host is required/],
      ['[{"host":"a.example","username":"u"}]', /both username and password/],
      ['[{"host":"a.example","username":"u","password":"p","token":"t"}]', /choose one/],
      ['[{"host":"a.example","plainHTTP":true}]', /unknown key "plainHTTP"/],
      ['[{"host":"a.example","plainHttp":"yes"}]', /true or false/],
      ['[{"host":"a.example"},{"host":"A.example"}]', /listed twice/],
      ['/nonexistent/registries.json', /not a JSON array and not a readable file/],
    ];
    for (const [value, re] of cases) {
      assert.throws(
        () => parseRegistriesConfig(value),
        (e: unknown) => isCode('BAD_REGISTRY_CONFIG', false)(e) && re.test((e as Error).message) && /^REGISTRIES/.test((e as Error).message),
        value,
      );
    }
    assert.throws(
      () => parseRegistriesConfig('[{"host":"a.example","username":"u","password":"hunter2","extra":1}]'),
      (e: unknown) => !(e as Error).message.includes('hunter2'),
    );
  });
});
