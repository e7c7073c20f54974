import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A small in-memory OCI registry for unit tests of what docker-registry 2.8 cannot show: the
 * referrers API (with pagination), the Bearer token flow on a separate token server, and blob
 * downloads redirected to a separate storage origin. Every request is recorded.
 */
export interface FakeOptions {
  referrersApi?: boolean;
  /** Referrers per page; a Link header points at the next page. */
  pageSize?: number;
  /** Whether the referrers API applies the artifactType filter itself. */
  filtersApplied?: boolean;
  /** Bearer auth: accepted Basic credentials at the token server. */
  bearer?: { username: string; password: string };
  /** Serve blob GETs as a redirect to the storage origin. */
  redirectBlobs?: boolean;
  /** Hook to answer a request differently (hostile registries); return true when handled. */
  intercept?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
}

export interface Recorded {
  method: string;
  path: string;
  authorization?: string;
}

export interface FakeRegistry {
  host: string;
  origin: string;
  requests: Recorded[];
  tokenRequests: { scope: string[]; service: string | null; authorization?: string }[];
  storageRequests: Recorded[];
  close(): Promise<void>;
}

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as { port: number }).port}`)));
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeRegistry(o: FakeOptions = {}): Promise<FakeRegistry> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { bytes: Buffer; mediaType: string }>(); // `${repo}@${ref}`
  const tokens = new Map<string, Set<string>>(); // token → granted `repo:action`
  const requests: Recorded[] = [];
  const tokenRequests: FakeRegistry['tokenRequests'] = [];
  const storageRequests: Recorded[] = [];

  const tokenServer = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    tokenRequests.push({ scope: url.searchParams.getAll('scope'), service: url.searchParams.get('service'), authorization: req.headers.authorization });
    const expected = `Basic ${Buffer.from(`${o.bearer!.username}:${o.bearer!.password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return void res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    const token = randomBytes(12).toString('hex');
    const granted = new Set<string>();
    for (const s of url.searchParams.getAll('scope')) {
      const [, repo, actions] = s.split(':');
      for (const a of actions.split(',')) granted.add(`${repo}:${a}`);
    }
    tokens.set(token, granted);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, expires_in: 300 }));
  });
  const tokenHost = o.bearer ? await listen(tokenServer) : '';

  const storage = createServer((req, res) => {
    storageRequests.push({ method: req.method!, path: req.url!, authorization: req.headers.authorization });
    const digest = new URL(req.url!, 'http://x').searchParams.get('d') ?? '';
    const b = blobs.get(digest);
    if (!b) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': b.length }).end(req.method === 'HEAD' ? undefined : b);
  });
  const storageHost = o.redirectBlobs ? await listen(storage) : '';

  let origin = '';
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url!, origin);
      const path = url.pathname;
      requests.push({ method: req.method!, path: path + url.search, authorization: req.headers.authorization });
      if (o.intercept?.(req, res, path)) return;
      const m = /^\/v2\/(.+?)\/(manifests|blobs|referrers)\/(.+)$/.exec(path);
      const repo = m?.[1] ?? (/^\/v2\/(.+?)\/blobs\/uploads\//.exec(path)?.[1] ?? '');
      if (o.bearer) {
        const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
        const granted = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
        const scope = repo ? `repository:${repo}:${action === 'pull' ? 'pull' : 'pull,push'}` : '';
        if (!granted || (repo && !granted.has(`${repo}:${action}`))) {
          const challenge = `Bearer realm="http://${tokenHost}/token",service="fake-registry"${scope ? `,scope="${scope}"` : ''}`;
          return void res.writeHead(401, { 'www-authenticate': challenge }).end();
        }
      }
      if (path === '/v2/') return void res.writeHead(200).end('{}');
      const upload = /^\/v2\/(.+?)\/blobs\/uploads\/(.*)$/.exec(path);
      if (upload && req.method === 'POST') {
        // Relative Location with a query, as distribution does.
        return void res.writeHead(202, { location: `/v2/${upload[1]}/blobs/uploads/${randomBytes(4).toString('hex')}?_state=abc` }).end();
      }
      if (upload && req.method === 'PUT') {
        const b = await body(req);
        if (url.searchParams.get('_state') !== 'abc' || sha256(b) !== url.searchParams.get('digest')) return void res.writeHead(400).end();
        blobs.set(sha256(b), b);
        return void res.writeHead(201, { location: `/v2/${upload[1]}/blobs/${sha256(b)}` }).end();
      }
      if (!m) return void res.writeHead(404).end();
      const [, , kind, ref] = m;
      if (kind === 'blobs') {
        const b = blobs.get(ref);
        if (!b) return void res.writeHead(404).end();
        if (o.redirectBlobs && req.method === 'GET') return void res.writeHead(307, { location: `http://${storageHost}/blob?d=${ref}` }).end();
        return void res.writeHead(200, { 'content-length': b.length, 'docker-content-digest': ref }).end(req.method === 'HEAD' ? undefined : b);
      }
      if (kind === 'manifests') {
        if (req.method === 'PUT') {
          const b = await body(req);
          const entry = { bytes: b, mediaType: String(req.headers['content-type']) };
          manifests.set(`${repo}@${ref}`, entry);
          manifests.set(`${repo}@${sha256(b)}`, entry);
          return void res.writeHead(201, { 'docker-content-digest': sha256(b) }).end();
        }
        const e = manifests.get(`${repo}@${ref}`);
        if (!e) return void res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
        const headers = { 'content-type': e.mediaType, 'content-length': e.bytes.length, 'docker-content-digest': sha256(e.bytes) };
        return void res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : e.bytes);
      }
      if (!o.referrersApi) return void res.writeHead(404).end('404 page not found');
      const artifactType = url.searchParams.get('artifactType');
      const seen = new Set<string>();
      const all = [];
      for (const [key, e] of manifests) {
        if (!key.startsWith(`${repo}@sha256:`) || seen.has(sha256(e.bytes))) continue;
        const doc = JSON.parse(e.bytes.toString('utf8'));
        if (doc.subject?.digest !== ref) continue;
        seen.add(sha256(e.bytes));
        const at = doc.artifactType ?? doc.config?.mediaType;
        if (artifactType && o.filtersApplied && at !== artifactType) continue;
        all.push({ mediaType: e.mediaType, digest: sha256(e.bytes), size: e.bytes.length, artifactType: at, annotations: doc.annotations });
      }
      all.sort((x, y) => x.digest.localeCompare(y.digest));
      const n = o.pageSize ?? 1000;
      const start = Number(url.searchParams.get('page') ?? '0');
      const headers: Record<string, string> = { 'content-type': 'application/vnd.oci.image.index.v1+json' };
      if (artifactType && o.filtersApplied) headers['oci-filters-applied'] = 'artifactType';
      if (start + n < all.length) {
        const next = new URL(url.pathname, origin);
        url.searchParams.forEach((v, k) => k !== 'page' && next.searchParams.set(k, v));
        next.searchParams.set('page', String(start + n));
        headers.link = `<${next.pathname}${next.search}>; rel="next"`;
      }
      const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: all.slice(start, start + n) };
      res.writeHead(200, headers).end(JSON.stringify(index));
    })().catch((e) => res.writeHead(500).end(String(e)));
  });
  const host = await listen(server);
  origin = `http://${host}`;
  return {
    host,
    origin,
    requests,
    tokenRequests,
    storageRequests,
    close: async () => {
      for (const s of [server, tokenServer, storage]) {
        s.closeAllConnections();
        if (s.listening) await new Promise((r) => s.close(r));
      }
    },
  };
}
