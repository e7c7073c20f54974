/**
 * C2SP signed-note v1 (the format of Go's golang.org/x/mod/sumdb/note):
 *
 *   <text, ending in "\n">
 *   <blank line>
 *   — <key name> <base64(key ID (4 bytes, big-endian) || signature)>\n   (one or more)
 *
 * The signature covers the text including its final newline. Notes arrive from the network
 * (witnesses, other logs, CLI input), so openNote checks size, encoding and syntax before any
 * signature is verified, and fails closed.
 */
import { noteError } from './errors';
import type { NoteSigner, NoteVerifier } from './keys';
import { decodeBase64Strict, isNoteSafe, isValidKeyName } from './text';

/** Notes are short (a checkpoint is ~200 bytes); anything this large is hostile. */
export const MAX_NOTE_LENGTH = 1 << 20;
/** As in Go: bounds the work a note with endless signature lines can cause. */
export const MAX_SIGNATURES = 100;

const SIG_PREFIX = '\u2014 '; // em dash, space

export interface NoteSignature {
  name: string;
  keyId: number;
  /** The base64 of key ID || signature, as it appeared on the line. */
  base64: string;
}

export interface OpenedNote {
  /** The signed text, ending in "\n". */
  text: string;
  /** Signatures by known keys, all verified. Never empty. */
  sigs: NoteSignature[];
  /** Signatures by keys not among the verifiers (not checked), for cosigning or diagnostics. */
  unverifiedSigs: NoteSignature[];
}

function badNote(message: string, details?: Record<string, unknown>): never {
  throw noteError('BAD_NOTE', message, details);
}

/**
 * Signs `text` with one or more signers. Preconditions: text is non-empty, ends in "\n", and
 * has no control characters besides newline (else BAD_NOTE). Output: text, blank line, one
 * signature line per signer, in order.
 */
export function signNote(text: string, signer: NoteSigner | readonly NoteSigner[]): string {
  const signers = Array.isArray(signer) ? signer : [signer as NoteSigner];
  if (typeof text !== 'string' || text.length === 0 || !text.endsWith('\n')) badNote('note text must end with a newline');
  if (!isNoteSafe(text)) badNote('note text must be valid UTF-8 without control characters other than newline');
  if (signers.length === 0) badNote('at least one signer is required');
  const msg = Buffer.from(text, 'utf8');
  const lines = signers.map((s) => {
    if (!isValidKeyName(s.name)) throw noteError('BAD_KEY', 'invalid signer name');
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.keyId >>> 0);
    return `${SIG_PREFIX}${s.name} ${Buffer.concat([id, s.sign(msg)]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/** Indexes verifiers by (name, key ID); a pair listed twice is ambiguous and poisoned. */
function indexVerifiers(verifiers: readonly NoteVerifier[]): Map<string, NoteVerifier | 'ambiguous'> {
  const m = new Map<string, NoteVerifier | 'ambiguous'>();
  for (const v of verifiers) {
    const k = `${v.name}+${v.keyId >>> 0}`;
    m.set(k, m.has(k) ? 'ambiguous' : v);
  }
  return m;
}

/**
 * Parses a signed note and verifies its signatures against `verifiers`.
 *
 * Succeeds only if at least one signature is by a known key and every signature by a known key
 * verifies (a bad signature by a key we trust is an attack, not noise: BAD_SIGNATURE). Signatures
 * by unknown keys are returned unverified; if there are only those, UNKNOWN_KEY. Repeated
 * signatures by one known key are skipped after the first, and identical unknown lines are
 * collapsed, as Go does. Accepts bytes (checked to be valid UTF-8) or a string.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  let s: string;
  if (typeof note === 'string') s = note;
  else if (note instanceof Uint8Array) {
    if (note.length > MAX_NOTE_LENGTH) badNote('note too large');
    try {
      s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
    } catch {
      badNote('note is not valid UTF-8');
    }
  } else badNote('note must be a string or bytes');
  if (s.length > MAX_NOTE_LENGTH) badNote('note too large');
  if (!isNoteSafe(s)) badNote('note must be valid UTF-8 without control characters other than newline');

  // The signature block follows the last blank line and ends with a newline.
  const split = s.lastIndexOf('\n\n');
  if (split < 0) badNote('note has no signature block');
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) badNote('signature block must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) badNote(`more than ${MAX_SIGNATURES} signatures`);

  const known = indexVerifiers(verifiers);
  const msg = Buffer.from(text, 'utf8');
  const sigs: NoteSignature[] = [];
  const unverifiedSigs: NoteSignature[] = [];
  const seenKnown = new Set<string>();
  const seenUnknown = new Set<string>();
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) badNote('malformed signature line');
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? rest : rest.slice(0, sp);
    const b64 = sp < 0 ? '' : rest.slice(sp + 1);
    const raw = decodeBase64Strict(b64);
    if (!isValidKeyName(name) || b64 === '' || !raw || raw.length < 5) badNote('malformed signature line');
    const keyId = raw.readUInt32BE(0);
    const sig = { name, keyId, base64: b64 };
    const k = `${name}+${keyId}`;
    const v = known.get(k);
    if (v === undefined) {
      if (!seenUnknown.has(rest)) unverifiedSigs.push(sig);
      seenUnknown.add(rest);
      continue;
    }
    if (v === 'ambiguous') throw noteError('AMBIGUOUS_KEY', `two verifiers share key ${name}+${keyId.toString(16).padStart(8, '0')}`);
    if (seenKnown.has(k)) continue;
    seenKnown.add(k);
    if (!v.verify(msg, raw.subarray(4))) {
      throw noteError('BAD_SIGNATURE', `invalid signature for key ${name}+${keyId.toString(16).padStart(8, '0')}`, { name });
    }
    sigs.push(sig);
  }
  if (sigs.length === 0) {
    throw noteError('UNKNOWN_KEY', 'note has no signature by a known key', { signers: unverifiedSigs.map((u) => u.name).slice(0, 10) });
  }
  return { text, sigs, unverifiedSigs };
}
