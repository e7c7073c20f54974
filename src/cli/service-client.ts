import { decode } from 'cbor2';
import { CliError, EXIT } from './exit-codes';

/** Reads an RFC 9290 (CBOR) or RFC 9457 (JSON) problem into one line for humans. */
export async function describeProblem(res: Response): Promise<string> {
  const ct = res.headers.get('content-type') ?? '';
  try {
    if (ct.includes('cbor')) {
      const m = decode(new Uint8Array(await res.arrayBuffer()), { preferMap: true }) as Map<unknown, unknown>;
      return `${res.status} ${m.get(-1) ?? ''}${m.get(-2) ? `: ${m.get(-2)}` : ''}`;
    }
    if (ct.includes('json')) {
      const j = (await res.json()) as { title?: string; detail?: string };
      return `${res.status} ${j.title ?? ''}${j.detail ? `: ${j.detail}` : ''}`;
    }
    return `${res.status} ${(await res.text()).slice(0, 200)}`;
  } catch {
    return `${res.status} ${res.statusText}`;
  }
}

export class ServiceClient {
  readonly base: string;

  constructor(url: string, private readonly adminToken?: string) {
    this.base = url.replace(/\/+$/, '');
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(this.base + path, { ...init, signal: init.signal ?? AbortSignal.timeout(60000) });
    } catch (e: any) {
      throw new CliError(`cannot reach ${this.base}: ${e?.cause?.code ?? e?.message ?? e}`, EXIT.UNAVAILABLE);
    }
  }

  private async expect(res: Response, ok: number[]): Promise<Response> {
    if (ok.includes(res.status)) return res;
    const msg = await describeProblem(res);
    throw new CliError(msg, res.status >= 400 && res.status < 500 && res.status !== 429 ? EXIT.FAILED : EXIT.UNAVAILABLE);
  }

  /** POST /entries, then follow 202 → Location until the receipt is there (or the deadline passes). */
  async register(statement: Uint8Array, timeoutMs = 60000, onWait?: (ms: number) => void): Promise<{ entryId: string; receipt: Uint8Array }> {
    const res = await this.expect(await this.fetch('/entries', { method: 'POST', body: statement, headers: { 'content-type': 'application/cose' } }), [201, 202]);
    const location = res.headers.get('location');
    if (!location) throw new CliError('the service did not say where the entry is (no Location)', EXIT.UNAVAILABLE);
    const entryId = location.split('/').pop()!;
    if (res.status === 201) return { entryId, receipt: new Uint8Array(await res.arrayBuffer()) };
    const deadline = Date.now() + timeoutMs;
    let retry = Number(res.headers.get('retry-after') ?? 1);
    for (;;) {
      const waitMs = Math.min(Math.max(retry, 0.1) * 1000, Math.max(0, deadline - Date.now()));
      onWait?.(waitMs);
      await new Promise((r) => setTimeout(r, waitMs));
      const r = await this.expect(await this.fetch(location.startsWith('http') ? new URL(location).pathname : location), [200, 204]);
      if (r.status === 200) return { entryId, receipt: new Uint8Array(await r.arrayBuffer()) };
      if (Date.now() >= deadline) throw new CliError(`entry ${entryId} is still pending after ${timeoutMs} ms`, EXIT.UNAVAILABLE);
      retry = Number(r.headers.get('retry-after') ?? 1);
    }
  }

  async bytes(path: string, accept = '*/*'): Promise<Uint8Array> {
    const res = await this.expect(await this.fetch(path, { headers: { accept } }), [200]);
    return new Uint8Array(await res.arrayBuffer());
  }

  async keySet(): Promise<Uint8Array> {
    return this.bytes('/.well-known/scitt-keys', 'application/cbor');
  }

  async admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.adminToken) throw new CliError('this needs the admin token: --token or SCITT_ADMIN_TOKEN', EXIT.USAGE);
    const res = await this.expect(
      await this.fetch('/admin' + path, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: { authorization: `Bearer ${this.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      }),
      [200, 201],
    );
    return (await res.json()) as T;
  }
}
