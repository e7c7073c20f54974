/**
 * C2SP tlog-tiles paths: `tile/<L>/<N>[.p/<W>]` for hash tiles and `tile/entries/<N>[.p/<W>]`
 * for entry bundles. <N> is written in 3-digit groups, every group but the last prefixed with
 * `x` (1234067 → x001/x234/067), as Go's golang.org/x/mod/sumdb/tlog does. The `.p/<W>` suffix
 * marks a partial tile of W < 256 hashes.
 *
 * Paths arrive from HTTP requests, so parsing is strict: exactly one spelling per tile is
 * accepted (the one tilePath produces), which keeps caches and storage keys unambiguous.
 */
import { merkleError } from './errors';
import { TILE_WIDTH } from './tiles';

/** Highest level C2SP allows; 64 levels of 8 would cover far more than 2^53 leaves anyway. */
const MAX_LEVEL = 63;
/** No canonical path comes close; longer input is rejected before splitting. */
const MAX_PATH_LENGTH = 64;

export interface ParsedTilePath {
  level: number | 'entries';
  index: number;
  /** 1..256; 256 is a full tile. */
  width: number;
}

function encodeIndex(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw merkleError('BAD_TILE_PATH', 'tile index must be a non-negative safe integer', { index });
  let n = index;
  let s = String(n % 1000).padStart(3, '0');
  while (n >= 1000) {
    n = Math.floor(n / 1000);
    s = `x${String(n % 1000).padStart(3, '0')}/${s}`;
  }
  return s;
}

function suffix(width: number): string {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw merkleError('BAD_TILE_PATH', `tile width must be 1..${TILE_WIDTH}`, { width });
  }
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** Path of hash tile (level, index) holding `width` hashes (default: full). */
export function tilePath(level: number, index: number, width: number = TILE_WIDTH): string {
  if (!Number.isInteger(level) || level < 0 || level > MAX_LEVEL) throw merkleError('BAD_TILE_PATH', `tile level must be 0..${MAX_LEVEL}`, { level });
  return `tile/${level}/${encodeIndex(index)}${suffix(width)}`;
}

/** Path of entry bundle `index` holding `width` entries (default: full). */
export function entriesTilePath(index: number, width: number = TILE_WIDTH): string {
  return `tile/entries/${encodeIndex(index)}${suffix(width)}`;
}

function bad(path: string): never {
  throw merkleError('BAD_TILE_PATH', 'not a canonical tile path', { path: path.slice(0, MAX_PATH_LENGTH) });
}

/**
 * Parses a tile path (without any log prefix). Rejects every non-canonical spelling: leading
 * zeros, x-groups that should not be there, `.p/0`, `.p/256`, widths with leading zeros, levels
 * above 63, indices beyond 2^53 - 1.
 */
export function parseTilePath(path: string): ParsedTilePath {
  if (typeof path !== 'string' || path.length > MAX_PATH_LENGTH) bad(String(path));
  const f = path.split('/');
  if (f.length < 3 || f[0] !== 'tile') bad(path);
  let level: number | 'entries';
  if (f[1] === 'entries') level = 'entries';
  else if (/^(0|[1-9][0-9]?)$/.test(f[1])) level = Number(f[1]);
  else bad(path);
  if (typeof level === 'number' && level > MAX_LEVEL) bad(path);

  let groups = f.slice(2);
  let width = TILE_WIDTH;
  const dotP = groups.length >= 2 ? groups[groups.length - 2] : '';
  if (dotP.endsWith('.p')) {
    const w = groups[groups.length - 1];
    if (!/^[1-9][0-9]{0,2}$/.test(w)) bad(path);
    width = Number(w);
    if (width >= TILE_WIDTH) bad(path);
    groups = [...groups.slice(0, -2), dotP.slice(0, -2)];
  }
  let index = 0;
  groups.forEach((g, i) => {
    const last = i === groups.length - 1;
    if (!(last ? /^[0-9]{3}$/ : /^x[0-9]{3}$/).test(g)) bad(path);
    index = index * 1000 + Number(last ? g : g.slice(1));
  });
  if (!Number.isSafeInteger(index)) bad(path);
  // Round trip: only the spelling tilePath would produce is accepted (catches x000/ prefixes).
  const canonical = level === 'entries' ? entriesTilePath(index, width) : tilePath(level, index, width);
  if (canonical !== path) bad(path);
  return { level, index, width };
}
