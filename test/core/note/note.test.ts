import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ed25519VerifierKey,
  generateNoteKey,
  MAX_SIGNATURES,
  noteKeyId,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifierKeyFromSigner,
  type NoteVerifier,
} from '../../../src/core/note';

// Published vectors from Go's golang.org/x/mod/sumdb/note (package doc and note_test.go).
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_B64 = 'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=';
const ENOCH_B64 = 'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=';
const PETER_SIG = `— PeterNeumann ${PETER_B64}\n`;
const ENOCH_SIG = `— EnochRoot ${ENOCH_B64}\n`;
const peter = { name: 'PeterNeumann', keyId: 0xc74f20a3, base64: PETER_B64 };
const enoch = { name: 'EnochRoot', keyId: 0xaf0cfe78, base64: ENOCH_B64 };

const code = (c: string) => ({ code: c });
/** Go's tests splice "ABCD" in at byte 60 of a signature line; the em dash is 3 bytes there, 1 char here. */
const at60 = (line: string, ins: string) => line.slice(0, 58) + ins + line.slice(58);

describe('note keys', () => {
  it('parses the Go example keys and derives matching IDs', () => {
    const s = parseSignerKey(PETER_SKEY);
    const v = parseVerifierKey(PETER_VKEY);
    assert.equal(s.name, 'PeterNeumann');
    assert.equal(s.keyId, 0xc74f20a3);
    assert.equal(v.keyId, 0xc74f20a3);
    assert.equal(verifierKeyFromSigner(s), PETER_VKEY);
    assert.equal(ed25519VerifierKey('PeterNeumann', s.publicKey), PETER_VKEY);
    assert.equal(noteKeyId('PeterNeumann', s.publicKey), 0xc74f20a3);
    assert.equal(parseVerifierKey(ENOCH_VKEY).keyId, 0xaf0cfe78);
  });

  it('rejects every truncation and every single-byte change of the Go keys (as Go tests do)', () => {
    for (const [key, parse] of [
      [PETER_VKEY, parseVerifierKey],
      [PETER_SKEY, parseSignerKey],
    ] as const) {
      const b = Buffer.from(key);
      for (let i = 0; i <= b.length; i++) {
        for (let j = i + 1; j <= b.length; j++) {
          if (i !== 0 || j !== b.length) assert.throws(() => parse(b.subarray(i, j).toString()), code('BAD_KEY'), b.subarray(i, j).toString());
        }
      }
      for (let i = 0; i < b.length; i++) {
        b[i]++;
        assert.throws(() => parse(b.toString()), code('BAD_KEY'), b.toString());
        b[i]--;
      }
    }
    // Wrong key length and unknown algorithm, each with a key ID adjusted to match (from Go's tests).
    assert.throws(() => parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='), code('BAD_KEY'));
    assert.throws(() => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), code('BAD_KEY'));
  });

  it('generates keys in Go’s formats that round-trip', () => {
    const { signerKey, verifierKey } = generateNoteKey('log.example/scitt');
    assert.match(signerKey, /^PRIVATE\+KEY\+log\.example\/scitt\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    assert.match(verifierKey, /^log\.example\/scitt\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    assert.equal(Buffer.from(verifierKey.split('+')[2], 'base64')[0], 1, 'algorithm byte');
    const s = parseSignerKey(signerKey);
    assert.equal(verifierKeyFromSigner(s), verifierKey);
    assert.equal(verifierKey.split('+')[1], signerKey.split('+')[3]);
    const v = parseVerifierKey(verifierKey);
    const sig = s.sign(Buffer.from('hi'));
    assert.equal(sig.length, 64);
    assert.ok(v.verify(Buffer.from('hi'), sig));
    assert.ok(!v.verify(Buffer.from('ho'), sig));
    sig[0] ^= 1;
    assert.ok(!v.verify(Buffer.from('hi'), sig));
    assert.notEqual(generateNoteKey('x').signerKey, generateNoteKey('x').signerKey);
  });

  it('enforces key name rules', () => {
    for (const bad of ['', 'a+b', 'a b', 'a\tb', 'a\u00a0b', 'a\u2028b', 'a\u0085b', 'a\nb', 'a\u0001b']) {
      assert.throws(() => generateNoteKey(bad), code('BAD_KEY'), JSON.stringify(bad));
    }
    assert.doesNotThrow(() => generateNoteKey('log.example/path_ok-ü'));
  });

  it('never puts the key material in error messages', () => {
    const mangled = PETER_SKEY.replace('c74f20a3', 'c74f20a4');
    try {
      parseSignerKey(mangled);
      assert.fail('should throw');
    } catch (e) {
      assert.ok(!String((e as Error).message).includes('AYEKFALV'));
      assert.ok(!JSON.stringify((e as { details?: unknown }).details ?? {}).includes('AYEKFALV'));
    }
  });
});

describe('signed notes', () => {
  const pv = parseVerifierKey(PETER_VKEY);
  const ev = parseVerifierKey(ENOCH_VKEY);

  it('signs the Go example byte for byte', () => {
    assert.equal(signNote(TEXT, parseSignerKey(PETER_SKEY)), `${TEXT}\n${PETER_SIG}`);
  });

  it('opens the Go example notes', () => {
    const msg = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    assert.deepEqual(openNote(msg, [pv]), { text: TEXT, sigs: [peter], unverifiedSigs: [enoch] });
    assert.deepEqual(openNote(msg, [pv, ev]), { text: TEXT, sigs: [peter, enoch], unverifiedSigs: [] });
    assert.deepEqual(openNote(Buffer.from(msg), [ev]), { text: TEXT, sigs: [enoch], unverifiedSigs: [peter] });
    // Repeated lines: one verification per known key, identical unknown lines collapsed.
    const enochABCD = { ...enoch, base64: 'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n' + 'ABCD' + '2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=' };
    const dup = `${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${at60(ENOCH_SIG, 'ABCD')}`;
    assert.deepEqual(openNote(dup, [pv]), { text: TEXT, sigs: [peter], unverifiedSigs: [enoch, enochABCD] });
  });

  it('round-trips with generated keys and several signers', () => {
    const a = parseSignerKey(generateNoteKey('a.example').signerKey);
    const b = parseSignerKey(generateNoteKey('b.example').signerKey);
    const text = 'hello\nwörld ✓\n';
    const note = signNote(text, [a, b]);
    const va = parseVerifierKey(verifierKeyFromSigner(a));
    const vb = parseVerifierKey(verifierKeyFromSigner(b));
    const opened = openNote(note, [vb, va]);
    assert.equal(opened.text, text);
    assert.deepEqual(opened.sigs.map((s) => s.name), ['a.example', 'b.example']);
  });

  it('rejects only-unknown signatures, bad signatures and ambiguous verifiers', () => {
    const msg = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    assert.throws(() => openNote(msg, []), code('UNKNOWN_KEY'));
    assert.throws(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [pv]), code('UNKNOWN_KEY'));
    // A signature by the right key over different text.
    assert.throws(() => openNote(`${TEXT}x\n\n${PETER_SIG}`, [pv]), code('BAD_SIGNATURE'));
    // The Go test's tampered signature (key ID intact, signature bytes changed).
    assert.throws(() => openNote(`${TEXT}\n${at60(PETER_SIG, 'ABCD')}`, [pv]), code('BAD_SIGNATURE'));
    // A short signature by a known key.
    assert.throws(() => openNote(`${TEXT}\n— PeterNeumann ${Buffer.from([0xc7, 0x4f, 0x20, 0xa3, 1]).toString('base64')}\n`, [pv]), code('BAD_SIGNATURE'));
    // Same name, same ID, another key: must not be attributable.
    const impostor: NoteVerifier = { name: 'PeterNeumann', keyId: 0xc74f20a3, verify: () => true };
    assert.throws(() => openNote(`${TEXT}\n${PETER_SIG}`, [pv, impostor]), code('AMBIGUOUS_KEY'));
    assert.doesNotThrow(() => openNote(`${TEXT}\n${PETER_SIG}`, [ev, pv, ev]), 'an unused duplicate does not matter');
    // Text signed by Peter but the verifier is for another name with the same key.
    const s = parseSignerKey(PETER_SKEY);
    assert.throws(() => openNote(`${TEXT}\n${PETER_SIG.replace('PeterNeumann', 'CarmenSandiego')}`, [pv]), code('UNKNOWN_KEY'));
    assert.throws(() => openNote(signNote(TEXT, s), [parseVerifierKey(ed25519VerifierKey('Other', s.publicKey))]), code('UNKNOWN_KEY'));
  });

  it('rejects malformed notes (Go’s list and more)', () => {
    const bad = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\x01${TEXT}\n${PETER_SIG}`,
      `${TEXT}\r\n${PETER_SIG}`,
      `\ud800${TEXT}\n${PETER_SIG}`,
      `${TEXT}\n— Bad Name ${PETER_B64}`,
      `${TEXT}\n— Bad Name ${PETER_B64}\n`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
      `${TEXT}\n${PETER_SIG}\n`,
      `${TEXT}\n- PeterNeumann ${PETER_B64}\n`,
      `${TEXT}\n—  PeterNeumann ${PETER_B64}\n`,
      `${TEXT}\n— PeterNeumann  ${PETER_B64}\n`,
      `${TEXT}\n— PeterNeumann ${PETER_B64.slice(0, -1)}\n`,
      `${TEXT}\n— PeterNeumann ${PETER_B64.replace(/\//g, '_')}\n`,
      `${TEXT}\n— PeterNeumann\n`,
      `${TEXT}\n— PeterNeumann \n`,
      `${TEXT}\n— PeterNeumann xwg=\n`,
      `${TEXT}\n— Peter+Neumann ${PETER_B64}\n`,
      `${TEXT}\n${PETER_SIG.repeat(MAX_SIGNATURES + 1)}`,
      'x'.repeat((1 << 20) + 1),
    ];
    for (const msg of bad) assert.throws(() => openNote(msg, [pv]), code('BAD_NOTE'), JSON.stringify(msg.slice(0, 200)));
    assert.throws(() => openNote(Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${PETER_SIG}`)]), [pv]), code('BAD_NOTE'));
    assert.throws(() => openNote(42 as unknown as string, [pv]), code('BAD_NOTE'));
    // Exactly 100 signatures is still fine.
    assert.doesNotThrow(() => openNote(`${TEXT}\n${PETER_SIG.repeat(MAX_SIGNATURES)}`, [pv]));
  });

  it('refuses to sign text it could not open again', () => {
    const s = parseSignerKey(PETER_SKEY);
    for (const t of ['', 'abc', 'a\r\n', 'tab\there\n', '\udc00\n']) assert.throws(() => signNote(t, s), code('BAD_NOTE'), JSON.stringify(t));
    assert.throws(() => signNote(TEXT, []), code('BAD_NOTE'));
    assert.throws(() => signNote(TEXT, { ...s, name: 'bad name', sign: s.sign }), code('BAD_KEY'));
  });
});
