import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { coseKeyThumbprint, publicKeyToCoseKey, signSign1 } from '../../src/core/cose';
import { encodeCbor } from '../../src/core/cbor';
import { entryHash, leafHash, TreeState } from '../../src/core/merkle';
import { DEFAULT_POLICY, signTrustChange, TrustState } from '../../src/core/policy';
import { checkBatch, FLAG, packBatch, RESULT_STRIDE } from '../../src/audit/replay-check';
import { parseServiceKeySet, parseVkey } from '../../src/audit/replay-keys';
import { captureEdges, loadState, restoreTree, saveState, type AuditState } from '../../src/audit/replay-state';
import { serialiseTrust, TrustReplayer } from '../../src/audit/replay-trust';
import { defaultStateDir } from '../../src/cli/audit';
import { makeIssuer, makeStatement } from '../helpers/statements';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'scitt-audit-unit-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A tree grown in random steps, with the latest content of every tile it wrote (what the replay keeps). */
function grow(size: number, step: number): { tree: TreeState; latest: Map<string, Buffer> } {
  const tree = TreeState.empty();
  const latest = new Map<string, Buffer>();
  while (tree.size < size) {
    const n = Math.min(step, size - tree.size);
    for (const t of tree.append(Array.from({ length: n }, () => randomBytes(32))).tiles) latest.set(`${t.level}/${t.index}`, t.data);
  }
  return { tree, latest };
}

function stateOf(tree: TreeState, latest: Map<string, Buffer>): AuditState {
  return {
    version: 1, origin: 'o', vkey: 'k', url: 'http://x', checkpoint: { size: tree.size, root: tree.root().toString('base64'), note: '' },
    edges: captureEdges(tree.size, latest), trust: serialiseTrust(new TrustState()), serviceKeys: '', trustChanges: 0, updatedAt: '',
  };
}

describe('audit state', () => {
  it('the stored right edge rebuilds the tree exactly: same root now and after further appends', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 70_000 }), fc.integer({ min: 1, max: 3000 }), async (size, step) => {
        const { tree, latest } = grow(size, step);
        const { tree: back } = await restoreTree(stateOf(tree, latest));
        assert.deepEqual(back.root(), tree.root());
        const more = Array.from({ length: 300 }, () => randomBytes(32));
        assert.deepEqual(back.append(more).root, tree.append(more).root);
      }),
      { numRuns: 25 },
    );
  });

  it('saves atomically (no temporary file left) and loads back; refuses corrupt or altered state', async () => {
    const dir = join(temp(), 'nested', 'state');
    const { tree, latest } = grow(1000, 300);
    const s = stateOf(tree, latest);
    saveState(dir, s);
    assert.deepEqual(readdirSync(dir), ['state.json']);
    assert.deepEqual(loadState(dir), s);
    assert.equal(loadState(temp()), undefined, 'a fresh directory has no state');
    const altered = { ...s, edges: s.edges.map((e) => ({ ...e, hashes: randomBytes(Buffer.from(e.hashes, 'base64').length).toString('base64') })) };
    await assert.rejects(restoreTree(altered), { code: 'BAD_STATE' });
    writeFileSync(join(dir, 'state.json'), '{"version": 1');
    assert.throws(() => loadState(dir), { code: 'BAD_STATE' });
  });

  it('the default directory is per user (XDG_STATE_HOME) and per log (origin and note key), safe as a file name', () => {
    const a = defaultStateDir('example.com/log', 'k1', { XDG_STATE_HOME: '/x/state' });
    assert.match(a, /^\/x\/state\/scitt\/audit\/example\.com_log-[0-9a-f]{12}$/);
    assert.equal(defaultStateDir('example.com/log', 'k1\n', { XDG_STATE_HOME: '/x/state' }), a);
    assert.notEqual(defaultStateDir('example.com_log', 'k1', { XDG_STATE_HOME: '/x/state' }), a, 'origins that sanitise alike stay apart');
    assert.notEqual(defaultStateDir('example.com/log', 'k2', { XDG_STATE_HOME: '/x/state' }), a, 'another key is another log');
    assert.match(defaultStateDir('../../etc', 'k', { HOME: '/h' }), /^\/h\/\.local\/state\/scitt\/audit\/etc-[0-9a-f]{12}$/);
  });
});

describe('keys', () => {
  it('parses a COSE_KeySet and indexes keys by kid and by thumbprint; refuses junk as a usage error', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = coseKeyThumbprint(publicKey);
    const set = parseServiceKeySet(Buffer.concat([Buffer.from([0x81]), publicKeyToCoseKey(publicKey, { kid, alg: -7 })]));
    assert.ok(set.byKid.get(kid.toString('hex')));
    assert.throws(() => parseServiceKeySet(Buffer.from('not cbor at all \xff')), { code: 'BAD_USAGE' });
    assert.throws(() => parseServiceKeySet(encodeCbor([1, 2])), { code: 'BAD_USAGE' });
    assert.throws(() => parseVkey('nope'), { code: 'BAD_USAGE' });
  });
});

describe('trust replay and batch checks', () => {
  const service = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = coseKeyThumbprint(service.publicKey);
  const keys = parseServiceKeySet(Buffer.concat([Buffer.from([0x81]), publicKeyToCoseKey(service.publicKey, { kid, alg: -7 })]));
  const signer = { issuer: 'https://ledger.example', kid, key: service.privateKey };
  const issuer = makeIssuer('https://builder.example');

  it('applies changes signed by the pinned service key, and refuses forged ones', () => {
    const r = new TrustReplayer(new TrustState(), keys, undefined);
    assert.equal(r.examine(0, makeStatement(issuer)).kind, 'claim');
    assert.equal(r.examine(1, signTrustChange({ type: 'policy', policy: DEFAULT_POLICY }, signer)).kind, 'change');
    assert.equal(r.serviceIssuer, 'https://ledger.example');
    const add = signTrustChange({ type: 'issuer', action: 'add', iss: issuer.iss, keys: [issuer.jwk] }, signer);
    assert.equal(r.examine(2, add).kind, 'change');
    assert.ok(r.state.issuers.has(issuer.iss));
    // Same kid and issuer name, another key: not the service.
    const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = r.examine(3, signTrustChange({ type: 'issuer', action: 'remove', iss: issuer.iss }, { ...signer, key: forger }));
    assert.equal(forged.kind, 'rejected');
    assert.equal(forged.kind === 'rejected' && forged.finding.check, 'STATEMENT_SIGNATURE');
    const otherKid = r.examine(4, signTrustChange({ type: 'issuer', action: 'remove', iss: issuer.iss }, { ...signer, kid: Buffer.from('x'), key: forger }));
    assert.equal(otherKid.kind === 'rejected' && otherKid.finding.check, 'TRUST_CHANGE');
    assert.ok(r.state.issuers.has(issuer.iss), 'neither forgery changed trust');
    assert.equal(r.changes, 2);
  });

  it('hashes every entry and names each statement the policy in force must refuse', () => {
    const trust = new TrustState();
    trust.setIssuer(issuer.iss, [issuer.jwk]);
    const good = makeStatement(issuer);
    const stranger = makeStatement(makeIssuer('https://stranger.example'));
    const badSig = Buffer.from(good);
    badSig[badSig.length - 1] ^= 1;
    const unprotected = makeStatement(issuer, { unprotected: new Map([[99, 'x']]) });
    const items = [good, stranger, badSig, unprotected, Buffer.from('junk'), Buffer.alloc(0)];
    const flags = Uint8Array.from([FLAG.claim, FLAG.claim, FLAG.claim, FLAG.claim, FLAG.claim, FLAG.missing]);
    const r = checkBatch(packBatch(7, 100, items, flags), trust);
    assert.equal(r.seq, 7);
    assert.deepEqual(Buffer.from(r.hashes.subarray(0, 32)), entryHash(good));
    assert.deepEqual(Buffer.from(r.hashes.subarray(32, 64)), leafHash(entryHash(good)));
    assert.deepEqual(Buffer.from(r.hashes.subarray(5 * RESULT_STRIDE)), Buffer.alloc(64), 'missing entries are left for the caller');
    assert.deepEqual(
      r.findings.map((f) => [f.index, f.check, f.code]),
      [
        [101, 'REGISTRATION_DECISION', 'UNKNOWN_ISSUER'],
        [102, 'STATEMENT_SIGNATURE', 'BAD_STATEMENT_SIGNATURE'],
        [103, 'STATEMENT_FORMAT', undefined],
        [104, 'STATEMENT_FORMAT', 'MALFORMED_CBOR'],
      ],
    );
    assert.equal(r.findings[0].issuer, 'https://stranger.example');
  });

  it('a trust-change content type hidden from the main thread by a non-canonical encoding is named', () => {
    const trust = new TrustState();
    // An indefinite-length text string (0x7f ... 0xff) splits the media type into chunks.
    const ct = 'application/vnd.scitt-ledger.policy+json';
    const protectedBytes = Buffer.concat([
      Buffer.from([0xa4, 0x01, 0x26, 0x03, 0x7f]),
      encodeCbor(ct.slice(0, 10)),
      encodeCbor(ct.slice(10)),
      Buffer.from([0xff, 0x04]),
      encodeCbor(kid),
      Buffer.from([0x0f]),
      encodeCbor(new Map<number, unknown>([[1, 'https://ledger.example'], [2, 'urn:scitt-ledger:policy']])),
    ]);
    const st = signSign1({ protectedHeader: new Map<number, unknown>([[1, -7]]), payload: Buffer.from('{}'), key: service.privateKey });
    // Re-wrap with the hand-made protected header (the signature need not verify for this check).
    const bytes = Buffer.concat([Buffer.from([0xd2, 0x84]), encodeCbor(protectedBytes), Buffer.from([0xa0]), encodeCbor(Buffer.from('{}')), st.subarray(st.length - 66)]);
    const r = checkBatch(packBatch(0, 5, [bytes], Uint8Array.from([FLAG.claim])), trust);
    assert.deepEqual(r.findings.map((f) => f.check), ['TRUST_CHANGE']);
  });
});
