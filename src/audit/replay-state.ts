import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, TreeState, type TileKey } from '../core/merkle';
import type { SerialTrust } from './replay-trust';
import { auditError } from './replay-types';

export const STATE_FILE = 'state.json';
const STATE_VERSION = 1;

/**
 * Everything the next run needs to continue where this one stopped, and nothing it could get
 * wrong by trusting the log: the last verified checkpoint, the tree's right edge at that size
 * (the partial tile of each level, under 8 KiB each), the trust state replayed up to it, and the
 * pinned service keys. The edge is checked against the stored root when it is loaded back.
 */
export interface AuditState {
  version: number;
  origin: string;
  /** The note verifier key the checkpoints were verified with. */
  vkey: string;
  url: string;
  checkpoint: { size: number; root: string; note: string };
  edges: { level: number; index: number; hashes: string }[];
  trust: SerialTrust;
  serviceIssuer?: string;
  /** Pinned COSE_KeySet, base64. */
  serviceKeys: string;
  trustChanges: number;
  updatedAt: string;
}

export function loadState(dir: string): AuditState | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, STATE_FILE), 'utf8');
  } catch (e: any) {
    if (e?.code === 'ENOENT') return undefined;
    throw auditError('BAD_STATE', `cannot read the audit state in ${dir}: ${e?.code ?? e?.message}`);
  }
  let s: AuditState;
  try {
    s = JSON.parse(text);
  } catch {
    throw auditError('BAD_STATE', `${join(dir, STATE_FILE)} is not JSON; move it away to replay from index 0`);
  }
  const ok =
    s &&
    s.version === STATE_VERSION &&
    typeof s.origin === 'string' &&
    typeof s.vkey === 'string' &&
    Number.isSafeInteger(s.checkpoint?.size) &&
    s.checkpoint.size >= 0 &&
    typeof s.checkpoint.root === 'string' &&
    Array.isArray(s.edges) &&
    s.trust &&
    typeof s.serviceKeys === 'string';
  if (!ok) throw auditError('BAD_STATE', `${join(dir, STATE_FILE)} is not an audit state this version understands`);
  return s;
}

/** Write to a temporary file, fsync, rename over the old state: a crash leaves the old or the new state, never half of one. */
export function saveState(dir: string, s: AuditState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${STATE_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, JSON.stringify(s, null, 1) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, STATE_FILE));
  } catch (e: any) {
    rmSync(tmp, { force: true });
    throw auditError('BAD_STATE', `cannot write the audit state in ${dir}: ${e?.code ?? e?.message}`);
  }
  try {
    // Make the rename itself durable; not every platform lets a directory be opened.
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // best effort
  }
}

/** The right-edge tile keys (and their widths) of a tree of `size` leaves: what TreeState.load reads. */
export function edgeKeys(size: number): (TileKey & { width: number })[] {
  const out: (TileKey & { width: number })[] = [];
  for (let level = 0; Math.floor(size / 2 ** (TILE_HEIGHT * level)) >= 1; level++) {
    const nodes = Math.floor(size / 2 ** (TILE_HEIGHT * level));
    if (nodes % TILE_WIDTH > 0) out.push({ level, index: Math.floor(nodes / TILE_WIDTH), width: nodes % TILE_WIDTH });
  }
  return out;
}

/** The edge tiles of `size` out of the latest tile contents seen (keyed "level/index"). */
export function captureEdges(size: number, latest: Map<string, Buffer>): AuditState['edges'] {
  return edgeKeys(size).map((k) => {
    const data = latest.get(`${k.level}/${k.index}`);
    if (!data || data.length < k.width * HASH_SIZE) throw new Error(`internal: edge tile ${k.level}/${k.index} was not recorded`);
    return { level: k.level, index: k.index, hashes: data.subarray(0, k.width * HASH_SIZE).toString('base64') };
  });
}

/** Rebuilds the tree at the stored size from its edge, and proves it by recomputing the stored root. */
export async function restoreTree(s: AuditState): Promise<{ tree: TreeState; tiles: Map<string, Buffer> }> {
  const tiles = new Map<string, Buffer>();
  for (const e of s.edges) tiles.set(`${e.level}/${e.index}`, Buffer.from(e.hashes, 'base64'));
  let tree: TreeState;
  try {
    tree = await TreeState.load(s.checkpoint.size, { getTiles: async (keys) => keys.map((k) => tiles.get(`${k.level}/${k.index}`)) });
  } catch (e: any) {
    throw auditError('BAD_STATE', `the stored tree edge does not load: ${e?.message ?? e}`);
  }
  if (!tree.root().equals(Buffer.from(s.checkpoint.root, 'base64'))) {
    throw auditError('BAD_STATE', 'the stored tree edge does not hash to the stored root; the state file was altered');
  }
  return { tree, tiles };
}
