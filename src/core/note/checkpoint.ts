/**
 * C2SP tlog-checkpoint v1: the text of a signed note with
 *   <origin>\n<tree size, decimal>\n<base64 root hash>\n[<extension line>\n]*
 * parseCheckpoint is strict so that one tree head has exactly one textual form: no leading
 * zeros, canonical base64, a 32-byte root, no empty lines.
 */
import { noteError } from './errors';
import type { NoteVerifier } from './keys';
import { openNote, type OpenedNote } from './note';
import { decodeBase64Strict, isNoteSafe } from './text';

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
  extensions?: string[];
}

function bad(message: string): never {
  throw noteError('BAD_CHECKPOINT', message);
}

function checkLine(what: string, line: unknown): asserts line is string {
  if (typeof line !== 'string' || line.length === 0 || line.includes('\n') || !isNoteSafe(line)) {
    bad(`${what} must be a non-empty line of printable text`);
  }
}

/** The checkpoint text (unsigned). Preconditions: origin and extensions single non-empty lines, size a safe integer, rootHash 32 bytes. */
export function formatCheckpoint(c: { origin: string; size: number; rootHash: Uint8Array; extensions?: string[] }): string {
  checkLine('origin', c.origin);
  if (!Number.isSafeInteger(c.size) || c.size < 0) bad('tree size must be a non-negative safe integer');
  if (!(c.rootHash instanceof Uint8Array) || c.rootHash.length !== 32) bad('root hash must be 32 bytes');
  const ext = c.extensions ?? [];
  ext.forEach((e) => checkLine('extension line', e));
  return [c.origin, String(c.size), Buffer.from(c.rootHash).toString('base64'), ...ext].map((l) => `${l}\n`).join('');
}

/** Parses checkpoint text (the note text, already verified or not). Throws BAD_CHECKPOINT. */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string' || !text.endsWith('\n') || text.length > 1 << 16) bad('checkpoint must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) bad('checkpoint needs origin, size and root hash lines');
  const [origin, sizeText, rootText, ...extensions] = lines;
  checkLine('origin', origin);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) bad('tree size must be decimal without leading zeros');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) bad('tree size too large');
  const rootHash = decodeBase64Strict(rootText);
  if (!rootHash || rootHash.length !== 32) bad('root hash must be the base64 of 32 bytes');
  extensions.forEach((e) => checkLine('extension line', e));
  return { origin, size, rootHash, extensions };
}

/**
 * Opens a signed checkpoint: verifies the note (see openNote) and parses its text. When
 * `origin` is given, the checkpoint must be for that log (a valid signature on another log's
 * checkpoint proves nothing about this one).
 */
export function openCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  origin?: string,
): Checkpoint & { note: OpenedNote } {
  const opened = openNote(note, verifiers);
  const cp = parseCheckpoint(opened.text);
  if (origin !== undefined && cp.origin !== origin) bad(`checkpoint is for origin ${JSON.stringify(cp.origin.slice(0, 100))}, want ${JSON.stringify(origin)}`);
  return { ...cp, note: opened };
}
