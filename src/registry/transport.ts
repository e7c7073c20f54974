import { registryError } from './errors';
import { discard } from './http';

/** The subset of `fetch` the client uses; tests inject their own to observe or refuse requests. */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface SendInit {
  method: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Sent only to this origin: a redirect elsewhere (blob storage, a hostile registry) loses it. */
  authorization?: string;
  credentialOrigin: string;
  timeoutMs: number;
  what: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * One request, following redirects by hand so that credentials are attached per hop and only to
 * `credentialOrigin`. 307/308 keep method and body; 301/302/303 are followed only for GET and HEAD
 * (a registry has no business redirecting a write that way). https→http downgrades are refused.
 * Network failures and timeouts become retryable REGISTRY_UNAVAILABLE.
 */
export async function send(fetchImpl: FetchLike, url: URL, init: SendInit): Promise<{ res: Response; url: URL }> {
  const signal = AbortSignal.timeout(init.timeoutMs);
  let current = url;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { ...init.headers };
    if (init.authorization && current.origin === init.credentialOrigin) headers.authorization = init.authorization;
    let res: Response;
    try {
      res = await fetchImpl(current, { method: init.method, headers, body: init.body, redirect: 'manual', signal });
    } catch (e) {
      const reason = (e as Error).name === 'TimeoutError' ? `no answer within ${init.timeoutMs} ms` : describe(e);
      throw registryError('REGISTRY_UNAVAILABLE', `${init.what}: ${current.host} unreachable (${reason})`, true);
    }
    if (!REDIRECTS.has(res.status)) return { res, url: current };
    const location = res.headers.get('location');
    await discard(res);
    const followable = res.status === 307 || res.status === 308 || init.method === 'GET' || init.method === 'HEAD';
    if (!location || !followable || hop >= MAX_REDIRECTS) {
      throw registryError('REGISTRY_ERROR', `${init.what}: unexpected redirect (${res.status}) from ${current.host}`, false);
    }
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw registryError('REGISTRY_ERROR', `${init.what}: malformed redirect target`, false);
    }
    if ((next.protocol !== 'https:' && next.protocol !== 'http:') || (current.protocol === 'https:' && next.protocol === 'http:')) {
      throw registryError('REGISTRY_ERROR', `${init.what}: refusing redirect to ${next.protocol}//${next.host}`, false);
    }
    current = next;
  }
}

function describe(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return (e as Error).message ?? String(e);
}
