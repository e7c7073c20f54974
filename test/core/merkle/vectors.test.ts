import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { isLedgerError } from '../../../src/core/errors';
import { verifyConsistency, verifyInclusion } from '../../../src/core/merkle';

// Compiled to dist/test/core/merkle: four levels up is the checkout, ../shared sits beside it.
const REPO = resolve(__dirname, '../../../..');
const PROBES = resolve(REPO, '../shared/vectors/rfc6962-probes');
/** transparency-dev/merkle testdata as shipped in ../shared; a missing folder must not pass silently. */
const EXPECTED_FILES = 196;

interface Probe {
  leafIdx?: number;
  treeSize?: number;
  root?: string;
  leafHash?: string;
  size1?: number;
  size2?: number;
  root1?: string;
  root2?: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? walk(p) : name.endsWith('.json') ? [p] : [];
    })
    .sort();
}

const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64');

function run(kind: 'inclusion' | 'consistency', p: Probe): void {
  const proof = (p.proof ?? []).map(b64);
  if (kind === 'inclusion') verifyInclusion(p.leafIdx!, p.treeSize!, b64(p.leafHash), proof, b64(p.root));
  else verifyConsistency(p.size1!, p.size2!, proof, b64(p.root1), b64(p.root2));
}

describe('RFC 6962 probe vectors (transparency-dev/merkle testdata)', () => {
  const all = { inclusion: walk(join(PROBES, 'inclusion')), consistency: walk(join(PROBES, 'consistency')) };
  let ran = 0;

  for (const kind of ['inclusion', 'consistency'] as const) {
    describe(kind, () => {
      for (const file of all[kind]) {
        const p = JSON.parse(readFileSync(file, 'utf8')) as Probe;
        it(`${relative(PROBES, file)}: ${p.desc} → ${p.wantErr ? 'reject' : 'accept'}`, () => {
          ran++;
          if (!p.wantErr) {
            run(kind, p);
            return;
          }
          assert.throws(
            () => run(kind, p),
            (e: unknown) => isLedgerError(e),
            'must be rejected with a LedgerError',
          );
        });
      }
    });
  }

  it('ran every vector file', () => {
    assert.equal(all.inclusion.length + all.consistency.length, EXPECTED_FILES);
    assert.equal(ran, EXPECTED_FILES);
  });
});
