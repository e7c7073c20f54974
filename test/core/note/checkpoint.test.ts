import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatCheckpoint, generateNoteKey, openCheckpoint, parseCheckpoint, parseSignerKey, parseVerifierKey, signNote } from '../../../src/core/note';

const ROOT = Buffer.from('0e1fa2c1a3f24b5a0a3c0e8fcf1a6f3a8f4e2b7c9d0e1f2a3b4c5d6e7f8091a2', 'hex');
const code = (c: string) => ({ code: c });

describe('checkpoints', () => {
  it('formats the C2SP layout', () => {
    assert.equal(
      formatCheckpoint({ origin: 'example.com/log', size: 42, rootHash: ROOT }),
      `example.com/log\n42\n${ROOT.toString('base64')}\n`,
    );
    assert.equal(
      formatCheckpoint({ origin: 'o', size: 0, rootHash: ROOT, extensions: ['ext one', 'ext two'] }),
      `o\n0\n${ROOT.toString('base64')}\next one\next two\n`,
    );
  });

  it('parses what it formats', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9./-]{1,40}$/),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.stringMatching(/^[ -~]{1,30}$/), { maxLength: 3 }),
        (origin, size, root, extensions) => {
          const text = formatCheckpoint({ origin, size, rootHash: Buffer.from(root), extensions });
          assert.deepEqual(parseCheckpoint(text), { origin, size, rootHash: Buffer.from(root), extensions });
        },
      ),
    );
  });

  it('rejects non-canonical or malformed checkpoints', () => {
    const b64 = ROOT.toString('base64');
    const bad = [
      `o\n42\n${b64}`,
      `o\n042\n${b64}\n`,
      `o\n+42\n${b64}\n`,
      `o\n-1\n${b64}\n`,
      `o\n4.2\n${b64}\n`,
      `o\n 42\n${b64}\n`,
      `o\n9007199254740992\n${b64}\n`,
      `o\n99999999999999999999\n${b64}\n`,
      `o\n42\n${b64.slice(0, -1)}\n`,
      `o\n42\n${ROOT.subarray(0, 31).toString('base64')}\n`,
      `o\n42\n${Buffer.concat([ROOT, ROOT.subarray(0, 1)]).toString('base64')}\n`,
      `o\n42\n${b64.replace(/\+/g, '-').replace(/\//g, '_')}x\n`,
      `\n42\n${b64}\n`,
      `o\n42\n`,
      `o\n\n${b64}\n`,
      `o\n42\n${b64}\n\n`,
      `o\n42\n${b64}\next\n\n`,
      `o\x01\n42\n${b64}\n`,
    ];
    for (const t of bad) assert.throws(() => parseCheckpoint(t), code('BAD_CHECKPOINT'), JSON.stringify(t));
    assert.throws(() => formatCheckpoint({ origin: 'a\nb', size: 1, rootHash: ROOT }), code('BAD_CHECKPOINT'));
    assert.throws(() => formatCheckpoint({ origin: '', size: 1, rootHash: ROOT }), code('BAD_CHECKPOINT'));
    assert.throws(() => formatCheckpoint({ origin: 'o', size: -1, rootHash: ROOT }), code('BAD_CHECKPOINT'));
    assert.throws(() => formatCheckpoint({ origin: 'o', size: 2 ** 53, rootHash: ROOT }), code('BAD_CHECKPOINT'));
    assert.throws(() => formatCheckpoint({ origin: 'o', size: 1, rootHash: ROOT.subarray(1) }), code('BAD_CHECKPOINT'));
    assert.throws(() => formatCheckpoint({ origin: 'o', size: 1, rootHash: ROOT, extensions: [''] }), code('BAD_CHECKPOINT'));
  });

  it('signed checkpoints open, and must be for the expected origin', () => {
    const { signerKey, verifierKey } = generateNoteKey('log.example');
    const note = signNote(formatCheckpoint({ origin: 'log.example', size: 7, rootHash: ROOT }), parseSignerKey(signerKey));
    const v = parseVerifierKey(verifierKey);
    const cp = openCheckpoint(note, [v], 'log.example');
    assert.equal(cp.size, 7);
    assert.deepEqual(cp.rootHash, ROOT);
    assert.equal(cp.note.sigs[0].name, 'log.example');
    assert.throws(() => openCheckpoint(note, [v], 'other.example'), code('BAD_CHECKPOINT'));
    assert.throws(() => openCheckpoint(note.replace('\n7\n', '\n8\n'), [v]), code('BAD_SIGNATURE'));
    const notACheckpoint = signNote('hello\n', parseSignerKey(signerKey));
    assert.throws(() => openCheckpoint(notACheckpoint, [v]), code('BAD_CHECKPOINT'));
  });
});
