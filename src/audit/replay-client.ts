import { CborSeqDecoder } from '../core/cbor';
import { auditError } from './replay-types';

/** Largest statement the auditor accepts from the stream; the service's own ceiling is 64 MiB. */
const MAX_STATEMENT_BYTES = 64 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 60_000;

export interface Fetched {
  status: number;
  body: Buffer;
  contentType: string;
}

/** Thrown (as a plain value, never escaping this module's callers) when a stream breaks mid-body. */
export class StreamBroken extends Error {}

/**
 * The log's public read endpoints, as an auditor sees them: everything it answers is hostile
 * input. Transport failures are UNREACHABLE (exit 3); HTTP statuses are returned for the caller
 * to judge, because a 404 for a tile the checkpoint covers is a finding, not an outage.
 */
export class LogClient {
  readonly base: string;

  constructor(url: string) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw auditError('BAD_USAGE', `${url} is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw auditError('BAD_USAGE', `${url} is not an http(s) URL`);
    this.base = url.replace(/\/+$/, '');
  }

  /** GET with one retry on transport errors (idempotent reads). */
  async get(path: string, accept = '*/*', maxBytes = 16 * 1024 * 1024): Promise<Fetched> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const res = await fetch(this.base + path, { headers: { accept }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const declared = Number(res.headers.get('content-length') ?? 0);
        if (declared > maxBytes) {
          await res.body?.cancel();
          throw auditError('UNREACHABLE', `${path}: the answer is ${declared} bytes, more than the ${maxBytes} expected`);
        }
        const body = Buffer.from(await res.arrayBuffer());
        if (body.length > maxBytes) throw auditError('UNREACHABLE', `${path}: the answer is larger than the ${maxBytes} bytes expected`);
        return { status: res.status, body, contentType: res.headers.get('content-type') ?? '' };
      } catch (e: any) {
        if (e?.code === 'UNREACHABLE') throw e;
        lastError = e;
      }
    }
    const cause = (lastError as any)?.cause?.code ?? (lastError as any)?.message ?? String(lastError);
    throw auditError('UNREACHABLE', `cannot reach ${this.base}${path}: ${cause}`);
  }

  /**
   * Streams the registered statements of [start, end) from /log/statements and hands them over in
   * arrays, one per network chunk (views into the received bytes, no copies). `onWait` measures the
   * time spent waiting for the network. A body that breaks off, or yields the wrong number of
   * items, raises StreamBroken after the items that did arrive were delivered.
   */
  async streamStatements(start: number, end: number, sink: (items: Buffer[]) => Promise<void> | void, onWait?: (ms: number) => void): Promise<void> {
    const ctl = new AbortController();
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => ctl.abort(), REQUEST_TIMEOUT_MS);
    };
    arm();
    let res: Response;
    try {
      res = await fetch(`${this.base}/log/statements?start=${start}&end=${end}`, { headers: { accept: 'application/cbor-seq' }, signal: ctl.signal });
    } catch (e: any) {
      clearTimeout(idle);
      throw auditError('UNREACHABLE', `cannot reach ${this.base}/log/statements: ${e?.cause?.code ?? e?.message ?? e}`);
    }
    let reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> } | undefined;
    let finished = false;
    try {
      if (res.status !== 200 || !res.body) {
        await res.body?.cancel();
        throw new StreamBroken(`/log/statements?start=${start}&end=${end} answered ${res.status}`);
      }
      const dec = new CborSeqDecoder({ maxItemBytes: MAX_STATEMENT_BYTES + 9 });
      let got = 0;
      reader = res.body.getReader();
      for (;;) {
        const t0 = performance.now();
        let r: { done: boolean; value?: Uint8Array };
        try {
          r = await reader.read();
        } catch (e: any) {
          throw new StreamBroken(`the statement stream broke off after ${got} of ${end - start} entries: ${e?.cause?.code ?? e?.message ?? e}`);
        }
        onWait?.(performance.now() - t0);
        arm();
        if (r.done) {
          finished = true;
          break;
        }
        let items: unknown[];
        try {
          items = dec.push(r.value!);
        } catch (e: any) {
          throw new StreamBroken(`the statement stream is not a CBOR sequence after ${got} entries: ${e?.message ?? e}`);
        }
        if (items.length === 0) continue;
        for (const it of items) {
          if (!(it instanceof Uint8Array)) throw new StreamBroken(`statement stream item ${start + got} is not a byte string`);
        }
        if (got + items.length > end - start) throw new StreamBroken(`the statement stream holds more than the ${end - start} entries asked for`);
        got += items.length;
        await sink(items as Buffer[]);
      }
      if (dec.partialBytes > 0) throw new StreamBroken(`the statement stream ends inside an entry after ${got} entries`);
      if (got !== end - start) throw new StreamBroken(`the statement stream ended after ${got} of ${end - start} entries`);
    } finally {
      clearTimeout(idle);
      // Stopped early (a finding, an abort, an error in the sink): release the connection now.
      if (reader && !finished) reader.cancel().catch(() => undefined);
    }
  }

  /** True when [start, end) streams completely: used to locate an entry the log cannot serve. */
  async statementsServable(start: number, end: number): Promise<boolean> {
    try {
      await this.streamStatements(start, end, () => undefined);
      return true;
    } catch (e) {
      if (e instanceof StreamBroken) return false;
      throw e;
    }
  }
}
