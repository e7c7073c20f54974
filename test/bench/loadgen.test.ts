import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { closedLoop } from '../../bench/loadgen';

describe('bench load generator (closed loop, HTTP/1.1 keep-alive)', () => {
  let server: Server;
  let url: string;
  const seen: string[] = [];
  let served = 0;
  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        seen.push(body);
        served++;
        // Every 50th answer drops the connection without a response: the client reconnects.
        if (served % 50 === 0) return req.socket.destroy();
        if (req.headers['content-type'] !== 'application/cose') res.writeHead(415).end();
        else if (body.startsWith('bad')) res.writeHead(400, { 'content-type': 'application/json' }).end('{"title":"Malformed request"}');
        else res.writeHead(202, { location: '/entries/x' }).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/entries`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('keeps one request in flight per connection, sends each body in turn, counts statuses, latencies and lost connections', async () => {
    const bodies = Array.from({ length: 1000 }, (_, i) => Buffer.from(i % 10 === 9 ? `bad-${i}` : `good-${i}`));
    const r = await closedLoop(url, bodies, { connections: 4, durationSeconds: 0.5, contentType: 'application/cose' });
    assert.ok(r.ok2xx > 50, `2xx: ${r.ok2xx}`);
    assert.equal(r.statuses.get(400), r.non2xx, 'the 400s are the only non-2xx');
    assert.ok(r.non2xx > 0);
    // Bodies go out in order (the first 1000 requests are distinct), with a response body skipped correctly.
    assert.deepEqual(seen.slice(0, 20).sort(), bodies.slice(0, 20).map(String).sort());
    // Without re-opening, the 4 connections would all be gone by the 200th request.
    assert.ok(served > 4 * 50, `connections dropped by the server were re-opened (served ${served})`);
    assert.ok(r.latency.p99 >= r.latency.p50 && r.latency.max >= r.latency.p99 && r.latency.mean > 0);
    assert.ok(served >= r.ok2xx + r.non2xx + r.late2xx, 'only answered requests are counted');
  });
});
