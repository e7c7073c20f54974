import { connect, type Socket } from 'node:net';

export interface ClosedLoopResult {
  /** Responses received before the deadline, by status code. */
  statuses: Map<number, number>;
  ok2xx: number;
  non2xx: number;
  /** 2xx answers to requests still in flight at the deadline (not in the rate, but acknowledged). */
  late2xx: number;
  /** Connection errors (each connection is re-opened and goes on). */
  errors: number;
  /** Milliseconds from writing a request to its whole response. */
  latency: { mean: number; p50: number; p99: number; max: number };
}

/**
 * A closed-loop HTTP/1.1 load generator for the registration benchmark: `connections` keep-alive
 * sockets, each with exactly one request in flight (no pipelining), each request the next of
 * `bodies` in turn, for `durationSeconds`. The same load shape as autocannon's, at about half its
 * CPU per request (autocannon rebuilds every request with a dynamic body in JavaScript): on a
 * 2-core machine the load generator's CPU is taken from the service it measures.
 */
export function closedLoop(url: string, bodies: Buffer[], o: { connections: number; durationSeconds: number; contentType: string }): Promise<ClosedLoopResult> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || 80);
  const heads = new Map<number, Buffer>();
  const head = (length: number): Buffer => {
    let h = heads.get(length);
    if (!h) {
      h = Buffer.from(`POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: ${o.contentType}\r\nContent-Length: ${length}\r\n\r\n`, 'latin1');
      heads.set(length, h);
    }
    return h;
  };
  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  let errors = 0;
  let late2xx = 0;
  let next = 0;
  const deadline = performance.now() + o.durationSeconds * 1000;

  return new Promise((resolve) => {
    let open = o.connections;
    const finished = () => {
      if (--open > 0) return;
      latencies.sort((a, b) => a - b);
      const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
      let ok2xx = 0;
      let non2xx = 0;
      for (const [code, n] of statuses) {
        if (code >= 200 && code < 300) ok2xx += n;
        else non2xx += n;
      }
      resolve({
        statuses,
        ok2xx,
        non2xx,
        late2xx,
        errors,
        latency: { mean: latencies.reduce((a, b) => a + b, 0) / (latencies.length || 1), p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1] ?? 0 },
      });
    };
    const run = () => {
      const socket: Socket = connect({ host, port });
      socket.setNoDelay(true);
      let pending: Buffer | null = null;
      let sentAt = 0;
      let done = false;
      const send = () => {
        if (performance.now() >= deadline) {
          done = true;
          socket.end();
          return;
        }
        const body = bodies[next++ % bodies.length];
        sentAt = performance.now();
        socket.cork();
        socket.write(head(body.length));
        socket.write(body);
        socket.uncork();
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        pending = pending ? Buffer.concat([pending, chunk]) : chunk;
        // One request is in flight, so a response is whole once its headers and body have arrived.
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headers = pending.toString('latin1', 0, end).toLowerCase();
        const length = responseLength(pending, end + 4, headers);
        if (length === undefined) {
          socket.destroy(new Error(`unframed response: ${headers.split('\r\n')[0]}`));
          return;
        }
        if (length < 0) return;
        pending = null;
        const status = Number(headers.slice(9, 12));
        if (performance.now() <= deadline) {
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          latencies.push(performance.now() - sentAt);
        } else if (status >= 200 && status < 300) late2xx++;
        send();
      });
      socket.on('error', () => errors++);
      socket.on('close', () => {
        // A connection lost before the deadline is re-opened (after a pause: not a busy loop).
        if (!done && performance.now() < deadline) setTimeout(run, 10);
        else finished();
      });
    };
    for (let i = 0; i < o.connections; i++) run();
  });
}

/**
 * Bytes of the whole response whose body starts at `bodyStart`: -1 while incomplete, undefined when
 * it is neither Content-Length nor chunked framed (or not HTTP/1.1).
 */
function responseLength(buf: Buffer, bodyStart: number, headers: string): number | undefined {
  if (!headers.startsWith('http/1.1 ')) return undefined;
  const cl = /\r\ncontent-length: *(\d+)/.exec(headers);
  if (cl) return buf.length >= bodyStart + Number(cl[1]) ? bodyStart + Number(cl[1]) : -1;
  if (!/\r\ntransfer-encoding: *chunked/.test(headers)) return undefined;
  // Chunks: hex size CRLF, data CRLF; a zero-size chunk, then trailers up to an empty line.
  let o = bodyStart;
  for (;;) {
    const eol = buf.indexOf('\r\n', o);
    if (eol < 0) return -1;
    const size = parseInt(buf.toString('latin1', o, eol), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', eol);
      return end < 0 ? -1 : end + 4;
    }
    o = eol + 2 + size + 2;
    if (buf.length < o) return -1;
  }
}
