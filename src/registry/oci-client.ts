import { isDigest } from '../core/artifact';
import { RegistryAuth, type Action } from './auth';
import { digestOf, isMediaType, parseImageIndex, verifyDigest, type Descriptor, type ImageIndex } from './descriptor';
import { registryError } from './errors';
import { discard, nextLink, readBody, statusError } from './http';
import { MANIFEST_ACCEPT, MAX_BLOB_BYTES, MAX_MANIFEST_BYTES, OCI_INDEX } from './media-types';
import { isRepositoryName, normalizeHost } from './reference';
import { type RegistryConfig } from './registries.config';
import { send, type FetchLike } from './transport';

export type { FetchLike } from './transport';

export interface OciClientOptions {
  /** Replaces global fetch (tests record or refuse requests with it). */
  fetch?: FetchLike;
  /** The host the caller means to contact; refused unless it is the configuration's host. */
  host?: string;
  /** Per request, including reading the body. */
  timeoutMs?: number;
  /** Largest blob `getBlob` buffers. */
  maxBlobBytes?: number;
}

export interface FetchedManifest {
  /** mediaType, digest (verified) and size of exactly these bytes. */
  descriptor: Descriptor;
  bytes: Uint8Array;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const MAX_REFERRER_PAGES = 100;

/**
 * A client for one configured registry (OCI distribution-spec v1.1). Every answer is treated as
 * hostile: bodies are size-limited, documents validated, content checked against its digest.
 * Failures are LedgerError<RegistryErrorCode> with `details.retryable`.
 */
export class OciClient {
  readonly host: string;
  readonly origin: string;
  readonly auth: RegistryAuth;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  private readonly maxBlobBytes: number;
  /** Whether the registry serves the referrers API; learnt once per client by probing. */
  private referrersApi: boolean | undefined;

  constructor(config: RegistryConfig | undefined, options: OciClientOptions | FetchLike = {}) {
    const opts = typeof options === 'function' ? { fetch: options } : options;
    if (!config) throw registryError('REGISTRY_NOT_CONFIGURED', `registry ${opts.host ?? ''} is not configured`.trim(), false);
    const host = normalizeHost(config.host);
    if (!host) throw registryError('BAD_REGISTRY_CONFIG', `registry host ${JSON.stringify(config.host)} is not host[:port]`, false);
    if (opts.host !== undefined && normalizeHost(opts.host) !== host) {
      throw registryError('REGISTRY_NOT_CONFIGURED', `registry ${opts.host} is not configured (this configuration is for ${host})`, false);
    }
    this.host = host;
    this.origin = `${config.plainHttp ? 'http' : 'https'}://${host}`;
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.maxBlobBytes = opts.maxBlobBytes ?? MAX_BLOB_BYTES;
    this.auth = new RegistryAuth(config, this.origin, this.fetchImpl, this.timeoutMs);
  }

  /** What the referrers probe found: true, false, or undefined before the first probe. */
  get servesReferrersApi(): boolean | undefined {
    return this.referrersApi;
  }

  /** Sends a request to this registry, answering one authentication challenge if there is one. */
  private async request(
    method: string,
    target: string | URL,
    o: { repository?: string; action?: Action; headers?: Record<string, string>; body?: Uint8Array; what: string },
  ): Promise<{ res: Response; url: URL }> {
    const url = typeof target === 'string' ? new URL(target, this.origin) : target;
    const resource = RegistryAuth.resourceKey(o.repository, o.action ?? (method === 'GET' || method === 'HEAD' ? 'pull' : 'push'));
    for (let attempt = 0; ; attempt++) {
      const authorization = this.auth.header(resource);
      const r = await send(this.fetchImpl, url, {
        method,
        headers: o.headers,
        body: o.body,
        authorization,
        credentialOrigin: this.origin,
        timeoutMs: this.timeoutMs,
        what: o.what,
      });
      // Only a challenge from the registry itself may make us send credentials.
      if (r.res.status !== 401 || attempt > 0 || r.url.origin !== this.origin) return r;
      if (!(await this.auth.challenged(r.res, resource, authorization))) return r;
      await discard(r.res);
    }
  }

  private checkRepo(repository: string): void {
    if (!isRepositoryName(repository)) {
      throw registryError('NOT_OCI_REFERENCE', `${JSON.stringify(repository.slice(0, 300))} is not a repository name`, false);
    }
  }

  private checkRef(ref: string): void {
    if (!isDigest(ref) && !TAG.test(ref)) throw registryError('NOT_OCI_REFERENCE', `${JSON.stringify(ref.slice(0, 200))} is neither a tag nor a digest`, false);
  }

  private checkDigest(digest: string): void {
    if (!isDigest(digest)) throw registryError('NOT_OCI_REFERENCE', `${JSON.stringify(digest.slice(0, 200))} is not a sha256/sha512 digest`, false);
  }

  /** API version check: resolves when /v2/ answers 200 (after authenticating if asked). */
  async ping(): Promise<void> {
    const { res } = await this.request('GET', '/v2/', { what: `ping ${this.host}` });
    if (res.status !== 200) throw await statusError(res, `ping ${this.host}`);
    await discard(res);
  }

  /** The manifest's descriptor as the registry states it (HEAD), or null when it is unknown. */
  async headManifest(repository: string, reference: string): Promise<Descriptor | null> {
    this.checkRepo(repository);
    this.checkRef(reference);
    const what = `HEAD ${repository}:${reference}`;
    const { res } = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, { repository, headers: { accept: MANIFEST_ACCEPT }, what });
    await discard(res);
    if (res.status === 404) return null;
    if (res.status !== 200) throw await statusError(res, what);
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    const digest = res.headers.get('docker-content-digest') ?? '';
    const size = Number(res.headers.get('content-length') ?? 'NaN');
    // A HEAD carries no content to check, so an incomplete or contradictory answer costs a GET.
    if (!isMediaType(mediaType) || !isDigest(digest) || !Number.isSafeInteger(size) || (isDigest(reference) && digest !== reference)) {
      return (await this.getManifest(repository, reference))?.descriptor ?? null;
    }
    return { mediaType, digest, size };
  }

  /** The manifest bytes and their verified descriptor, or null when the registry has none. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest | null> {
    this.checkRepo(repository);
    this.checkRef(reference);
    const what = `GET manifest ${repository}:${reference}`;
    const { res } = await this.request('GET', `/v2/${repository}/manifests/${reference}`, { repository, headers: { accept: MANIFEST_ACCEPT }, what });
    if (res.status === 404) {
      await discard(res);
      return null;
    }
    if (res.status !== 200) throw await statusError(res, what);
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, what);
    let digest: string;
    if (isDigest(reference)) {
      verifyDigest(bytes, reference, what);
      digest = reference;
    } else {
      digest = digestOf(bytes);
      const stated = res.headers.get('docker-content-digest');
      if (stated && stated.startsWith('sha256:') && stated !== digest) {
        throw registryError('REGISTRY_ERROR', `${what}: Docker-Content-Digest ${stated} does not match the content (${digest})`, false);
      }
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    let declared: unknown;
    try {
      declared = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { mediaType?: unknown }).mediaType;
    } catch {
      throw registryError('REGISTRY_ERROR', `${what}: manifest is not JSON`, false);
    }
    const mediaType = isMediaType(declared) ? declared : contentType;
    if (!isMediaType(mediaType)) throw registryError('REGISTRY_ERROR', `${what}: manifest has no media type`, false);
    return { descriptor: { mediaType, digest, size: bytes.byteLength }, bytes };
  }

  async blobExists(repository: string, digest: string): Promise<boolean> {
    this.checkRepo(repository);
    this.checkDigest(digest);
    const what = `HEAD blob ${repository}@${digest}`;
    const { res } = await this.request('HEAD', `/v2/${repository}/blobs/${digest}`, { repository, what });
    await discard(res);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await statusError(res, what);
  }

  /** The blob's bytes, checked against `digest` (and `maxBytes`, default the client's limit). */
  async getBlob(repository: string, digest: string, maxBytes = this.maxBlobBytes): Promise<Uint8Array> {
    this.checkRepo(repository);
    this.checkDigest(digest);
    const what = `GET blob ${repository}@${digest}`;
    const { res } = await this.request('GET', `/v2/${repository}/blobs/${digest}`, { repository, what });
    if (res.status !== 200) throw await statusError(res, what);
    const bytes = await readBody(res, maxBytes, what);
    verifyDigest(bytes, digest, what);
    return bytes;
  }

  /** Uploads `bytes` unless the registry already has them (monolithic POST + PUT); returns digest and size. */
  async uploadBlob(repository: string, bytes: Uint8Array, digest?: string): Promise<{ digest: string; size: number }> {
    this.checkRepo(repository);
    const actual = digest?.startsWith('sha512:') ? digestOf(bytes, 'sha512') : digestOf(bytes);
    if (digest !== undefined && digest !== actual) {
      throw registryError('REGISTRY_ERROR', `upload to ${repository}: content digest ${actual} is not the stated ${digest}`, false);
    }
    const result = { digest: actual, size: bytes.byteLength };
    if (await this.blobExists(repository, actual)) return result;
    const what = `upload blob ${repository}@${actual}`;
    const start = await this.request('POST', `/v2/${repository}/blobs/uploads/`, { repository, action: 'push', headers: { 'content-length': '0' }, what });
    await discard(start.res);
    if (start.res.status !== 202) throw await statusError(start.res, what);
    const location = start.res.headers.get('location');
    let target: URL;
    try {
      // Location may be relative and may already carry a query (distribution's state token).
      target = new URL(location ?? '', start.url);
    } catch {
      throw registryError('REGISTRY_ERROR', `${what}: malformed upload Location`, false);
    }
    if (!location || (target.protocol !== 'https:' && target.protocol !== 'http:')) {
      throw registryError('REGISTRY_ERROR', `${what}: no usable upload Location`, false);
    }
    // Appended to the query as sent: re-encoding the registry's state token could change its bytes.
    target.search = `${target.search ? `${target.search}&` : '?'}digest=${encodeURIComponent(actual)}`;
    const put = await this.request('PUT', target, {
      repository,
      action: 'push',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
      what,
    });
    await discard(put.res);
    if (put.res.status !== 201) throw await statusError(put.res, what);
    return result;
  }

  /** Pushes a manifest under a tag or its digest; returns the digest of exactly these bytes. */
  async putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    this.checkRepo(repository);
    this.checkRef(reference);
    const digest = digestOf(bytes);
    if (isDigest(reference)) verifyDigest(bytes, reference, `PUT manifest ${repository}@${reference}`);
    if (bytes.byteLength > MAX_MANIFEST_BYTES) throw registryError('REGISTRY_ERROR', `manifest of ${bytes.byteLength} bytes is too large to push`, false);
    const what = `PUT manifest ${repository}:${reference}`;
    const { res } = await this.request('PUT', `/v2/${repository}/manifests/${reference}`, { repository, headers: { 'content-type': mediaType }, body: bytes, what });
    await discard(res);
    if (res.status !== 201 && res.status !== 200) throw await statusError(res, what);
    const stated = res.headers.get('docker-content-digest');
    if (stated && stated.startsWith('sha256:') && stated !== digest) {
      throw registryError('REGISTRY_ERROR', `${what}: registry stored it as ${stated}, not ${digest}`, false);
    }
    return digest;
  }

  /**
   * The referrers of `digest` through the referrers API (all pages, filtered by artifactType), or
   * null when the registry does not serve the API. The first answer settles it for this client:
   * a 200 with an image index means yes, a 404 means no (the spec's signal to use the tag fallback).
   */
  async getReferrers(repository: string, digest: string, artifactType?: string): Promise<ImageIndex | null> {
    this.checkRepo(repository);
    this.checkDigest(digest);
    if (this.referrersApi === false) return null;
    const what = `GET referrers ${repository}@${digest}`;
    let url: URL | undefined = new URL(`/v2/${repository}/referrers/${digest}`, this.origin);
    if (artifactType !== undefined) url.searchParams.set('artifactType', artifactType);
    const manifests: Descriptor[] = [];
    const seen = new Set<string>();
    let first: ImageIndex | undefined;
    for (let page = 0; url && page < MAX_REFERRER_PAGES; page++) {
      const r = await this.request('GET', url, { repository, headers: { accept: OCI_INDEX }, what });
      // `!== true`, not `=== undefined`: concurrent first probes all count, whichever answers first.
      if (page === 0 && this.referrersApi !== true && (r.res.status === 404 || r.res.status === 405)) {
        await discard(r.res);
        this.referrersApi = false;
        return null;
      }
      if (r.res.status !== 200) throw await statusError(r.res, what);
      const contentType = (r.res.headers.get('content-type') ?? '').split(';')[0].trim() || undefined;
      const body = await readBody(r.res, MAX_MANIFEST_BYTES, what);
      let index: ImageIndex;
      try {
        index = parseImageIndex(body, what, contentType);
      } catch (e) {
        // A 200 that is not an index (a catch-all page) is not the referrers API; after a real
        // index has been seen from this registry it is a broken answer instead.
        if (page === 0 && this.referrersApi !== true) {
          this.referrersApi = false;
          return null;
        }
        throw e;
      }
      this.referrersApi = true;
      first ??= index;
      for (const m of index.manifests) {
        if (!seen.has(m.digest)) manifests.push(m);
        seen.add(m.digest);
      }
      const next = nextLink(r.res.headers.get('link'), r.url.href);
      // Pagination stays on this registry: a Link elsewhere would carry our token to a stranger.
      url = next && next.origin === this.origin ? next : undefined;
    }
    const filtered = artifactType === undefined ? manifests : manifests.filter((m) => m.artifactType === artifactType);
    return { ...(first as ImageIndex), schemaVersion: 2, mediaType: OCI_INDEX, manifests: filtered };
  }
}
