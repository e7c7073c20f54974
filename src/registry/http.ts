import { registryError, type RegistryError } from './errors';
import { MAX_JSON_BYTES } from './media-types';

/** Small HTTP helpers for talking to registries: bounded bodies, challenges, Link headers, errors. */

/** Reads at most `max` bytes of a response body; a longer one is cancelled and refused. */
export async function readBody(res: Response, max: number, what: string): Promise<Uint8Array> {
  const declared = res.headers.get('content-length');
  if (declared !== null && Number(declared) > max) {
    await discard(res);
    throw registryError('REGISTRY_ERROR', `${what}: response of ${declared} bytes exceeds the ${max} byte limit`, false);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const r = await reader.read().catch((e: Error) => {
      throw registryError('REGISTRY_UNAVAILABLE', `${what}: connection failed while reading the body (${e.message})`, true);
    });
    if (r.done) break;
    total += r.value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw registryError('REGISTRY_ERROR', `${what}: response exceeds the ${max} byte limit`, false);
    }
    chunks.push(r.value);
  }
  // A plain Uint8Array (not a Buffer), so callers compare it with what they hold as the type says.
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Frees the connection of a response whose body we do not need. */
export async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses WWW-Authenticate (RFC 9110 §11.6.1): one or more `scheme param=value, ...` challenges,
 * values as tokens or quoted strings. Lenient about what it skips, strict about what it returns.
 */
export function parseChallenges(header: string | null): Challenge[] {
  if (!header || header.length > 8192) return [];
  const out: Challenge[] = [];
  const token = /[A-Za-z0-9!#$%&'*+.^_`|~-]+/y;
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < header.length && chars.test(header[i])) i++;
  };
  let current: Challenge | undefined;
  while (i < header.length) {
    skip(/[\s,]/);
    token.lastIndex = i;
    const t = token.exec(header);
    if (!t) break;
    i = token.lastIndex;
    skip(/\s/);
    if (header[i] !== '=') {
      current = { scheme: t[0].toLowerCase(), params: {} };
      out.push(current);
      continue;
    }
    i++;
    skip(/\s/);
    let value = '';
    if (header[i] === '"') {
      for (i++; i < header.length && header[i] !== '"'; i++) value += header[i] === '\\' ? header[++i] ?? '' : header[i];
      i++;
    } else {
      const start = i;
      while (i < header.length && !/[\s,]/.test(header[i])) i++;
      value = header.slice(start, i);
    }
    if (current) current.params[t[0].toLowerCase()] = value;
  }
  return out;
}

/** The target of `Link: <url>; rel="next"` resolved against `base`, or undefined. */
export function nextLink(header: string | null, base: string): URL | undefined {
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (!m) continue;
    if (!/(?:^|;)\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?\s*(?:;|$)/i.test(m[2])) continue;
    try {
      return new URL(m[1], base);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** `Retry-After` in seconds when the registry sent a usable one. */
function retryAfter(res: Response): number | undefined {
  const v = res.headers.get('retry-after');
  if (v === null) return undefined;
  if (/^\d{1,6}$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}

/** The registry's own error codes (`{"errors":[{"code":...}]}`), sanitised for logs. */
async function errorCodes(res: Response): Promise<string[]> {
  try {
    const body = await readBody(res, MAX_JSON_BYTES, 'error body');
    const v = JSON.parse(Buffer.from(body).toString('utf8')) as { errors?: unknown };
    if (!Array.isArray(v.errors)) return [];
    return v.errors
      .slice(0, 5)
      .map((e: unknown) => (e && typeof e === 'object' ? (e as { code?: unknown }).code : undefined))
      .filter((c): c is string => typeof c === 'string' && /^[A-Z0-9_]{1,64}$/.test(c));
  } catch {
    return [];
  }
}

/**
 * The error for an unexpected status: 5xx and 429 are outages worth retrying; 401/403 are
 * credentials (retrying the same ones cannot help); any other status is a refusal of what we sent.
 */
export async function statusError(res: Response, what: string): Promise<RegistryError> {
  const codes = await errorCodes(res);
  const details: Record<string, unknown> = { status: res.status };
  if (codes.length) details.registryCodes = codes;
  const suffix = codes.length ? ` (${codes.join(', ')})` : '';
  if (res.status >= 500 || res.status === 429) {
    const ra = retryAfter(res);
    if (ra !== undefined) details.retryAfterSeconds = ra;
    return registryError('REGISTRY_UNAVAILABLE', `${what}: registry answered ${res.status}${suffix}`, true, details);
  }
  if (res.status === 401 || res.status === 403) {
    return registryError('AUTH_FAILED', `${what}: registry refused the credentials (${res.status})${suffix}`, false, details);
  }
  return registryError('REGISTRY_ERROR', `${what}: registry answered ${res.status}${suffix}`, false, details);
}
