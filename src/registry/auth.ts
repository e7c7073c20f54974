import { registryError } from './errors';
import { parseChallenges, readBody, statusError, type Challenge } from './http';
import { MAX_JSON_BYTES } from './media-types';
import { isLoopbackHost, type RegistryConfig } from './registries.config';
import { send, type FetchLike } from './transport';

/**
 * Registry authentication: anonymous, Basic, a static bearer token, or the Docker/OCI token flow
 * (401 + `WWW-Authenticate: Bearer realm,service,scope` → GET realm?service&scope → `{token}`).
 * Tokens are cached per challenged scope, so a request for a repository or action we already hold
 * a token for costs no round trip, and a new scope costs exactly one token request.
 */
export type Action = 'pull' | 'push';

interface CachedToken {
  header: string;
  expiresAt: number;
}

/** Tokens without `expires_in` live 60 s (docker's default); renew a little early. */
const DEFAULT_TOKEN_SECONDS = 60;
const EXPIRY_MARGIN_MS = 5_000;
const MAX_TOKEN_CHARS = 16 * 1024;

export class RegistryAuth {
  /** What the registry asked for the last time it challenged us. */
  private scheme: 'unknown' | 'basic' | 'bearer' = 'unknown';
  private readonly tokens = new Map<string, CachedToken>();
  /** `repo|action` → the scope key the registry challenged for it. */
  private readonly scopeOf = new Map<string, string>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  /** Token requests made, for tests and metrics. */
  tokenRequests = 0;

  constructor(
    private readonly config: RegistryConfig,
    private readonly origin: string,
    private readonly fetchImpl: FetchLike,
    private readonly timeoutMs: number,
  ) {}

  static resourceKey(repository: string | undefined, action: Action): string {
    return repository === undefined ? '' : `${repository}|${action}`;
  }

  private basic(): string | undefined {
    const { username, password } = this.config;
    return username !== undefined ? `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` : undefined;
  }

  /** The Authorization header to send preemptively for this resource, if we know one. */
  header(resource: string): string | undefined {
    if (this.config.token !== undefined) return `Bearer ${this.config.token}`;
    if (this.scheme === 'basic') return this.basic();
    if (this.scheme === 'bearer') {
      const t = this.tokens.get(this.scopeOf.get(resource) ?? '\0');
      if (t && t.expiresAt > Date.now()) return t.header;
    }
    return undefined;
  }

  /**
   * Reacts to a 401: true when the request is worth repeating with the header `header(resource)`
   * now returns. `sent` is the header that was just refused; refusing the same credentials twice
   * is a wrong password, not a reason to loop.
   */
  async challenged(res: Response, resource: string, sent: string | undefined): Promise<boolean> {
    if (this.config.token !== undefined) return false;
    const challenges = parseChallenges(res.headers.get('www-authenticate'));
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      const key = `${bearer.params.service ?? ''} ${bearer.params.scope ?? ''}`;
      const cached = this.tokens.get(key);
      // The token we just sent was refused for the very scope it was issued for: expired or revoked
      // early. Drop it and ask once more; a second refusal ends in AUTH_FAILED at the caller.
      if (cached && cached.header === sent) this.tokens.delete(key);
      const usable = cached !== undefined && cached.header !== sent && cached.expiresAt > Date.now();
      if (!usable) await this.token(key, bearer);
      this.scheme = 'bearer';
      this.scopeOf.set(resource, key);
      return true;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const basic = this.basic();
      if (basic === undefined || sent === basic) return false;
      this.scheme = 'basic';
      return true;
    }
    return false;
  }

  private token(key: string, challenge: Challenge): Promise<CachedToken> {
    let p = this.inflight.get(key);
    if (!p) {
      p = this.fetchToken(challenge)
        .then((t) => {
          this.tokens.set(key, t);
          return t;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async fetchToken(challenge: Challenge): Promise<CachedToken> {
    const what = 'token request';
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm ?? '');
    } catch {
      throw registryError('AUTH_FAILED', `${this.config.host} sent a Bearer challenge without a usable realm`, false);
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw registryError('AUTH_FAILED', `${this.config.host} sent a token realm with scheme ${realm.protocol}`, false);
    }
    if (challenge.params.service !== undefined) realm.searchParams.set('service', challenge.params.service);
    // A scope parameter may list several space-separated scopes; each goes as its own parameter.
    for (const s of (challenge.params.scope ?? '').split(' ').filter(Boolean)) realm.searchParams.append('scope', s);
    // Credentials go to the token server the registry names (that is the protocol), but never in clear
    // text across a network: only over https, to the registry's own origin, or to loopback.
    const mayCarry = realm.protocol === 'https:' || realm.origin === this.origin || isLoopbackHost(realm.host);
    this.tokenRequests++;
    const { res } = await send(this.fetchImpl, realm, {
      method: 'GET',
      headers: { accept: 'application/json' },
      authorization: mayCarry ? this.basic() : undefined,
      credentialOrigin: realm.origin,
      timeoutMs: this.timeoutMs,
      what,
    });
    if (res.status !== 200) {
      const e = await statusError(res, `${what} to ${realm.host}`);
      if (!mayCarry && this.config.username !== undefined) e.message += '; credentials were withheld because the realm is plain http on another host';
      throw e;
    }
    const body = await readBody(res, MAX_JSON_BYTES, what);
    let v: unknown;
    try {
      v = JSON.parse(Buffer.from(body).toString('utf8'));
    } catch {
      throw registryError('AUTH_FAILED', `${what}: token endpoint answered something that is not JSON`, false);
    }
    const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
    const token = typeof o.token === 'string' && o.token ? o.token : o.access_token;
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS || !/^[\x21-\x7e]+$/.test(token)) {
      throw registryError('AUTH_FAILED', `${what}: token endpoint answered without a usable token`, false);
    }
    const seconds = typeof o.expires_in === 'number' && o.expires_in > 0 ? Math.min(o.expires_in, 86_400) : DEFAULT_TOKEN_SECONDS;
    return { header: `Bearer ${token}`, expiresAt: Date.now() + seconds * 1000 - EXPIRY_MARGIN_MS };
  }
}
