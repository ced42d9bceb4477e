// Endpoint sets replaced while requests are in flight: nothing in flight is
// dropped, new requests go to the new set at once, and a removed endpoint's
// keep-alive connections close once its last request finished.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Backend,
  Cleanup,
  curl,
  echoName,
  eventually,
  missingBinary,
  planOf,
  requireBinary,
  skipFor,
  sleep,
  startBackend,
  startGateway,
  upstreamOf,
} from './gateway-forward-fixtures.ts';

const missing = missingBinary('curl');

/** Streams ten lines over `ms`, so a request stays in flight for a while. */
function slowLines(ms: number) {
  return (req: IncomingMessage, res: ServerResponse, backend: Backend) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    let line = 0;
    const timer = setInterval(() => {
      res.write(`${backend.name} line ${line}\n`);
      if (++line === 10) {
        clearInterval(timer);
        res.end();
      }
    }, ms / 10);
    res.once('close', () => clearInterval(timer));
  };
}

const EXPECTED_A = Array.from({ length: 10 }, (_, i) => `a line ${i}\n`).join('');

describe.skipIf(skipFor(missing))('endpoint sets replaced live', () => {
  let cleanup: Cleanup;
  beforeAll(() => requireBinary(missing));
  afterEach(async () => {
    await cleanup.run();
  });

  it('finishes every request in flight on a removed endpoint, then closes its connections', async () => {
    cleanup = new Cleanup();
    const a = await startBackend(cleanup, slowLines(600), 'a');
    const b = await startBackend(cleanup, echoName, 'b');
    const upstream = upstreamOf(cleanup, [a.endpoint]);
    const gw = await startGateway(cleanup, planOf(upstream));
    const url = `http://127.0.0.1:${gw.port}`;

    const inFlight = Array.from({ length: 12 }, (_, i) => curl([`${url}/slow/${i}`]));
    await eventually(() => a.requests.length === 12);
    expect(upstream.status()[0]?.active).toBe(12);

    upstream.setEndpoints([b.endpoint]);
    expect(upstream.available().map((h) => h.key)).toEqual([`127.0.0.1:${b.port}`]);
    // New requests go to the new set while the old ones still stream.
    for (let i = 0; i < 3; i++) {
      const r = await curl([`${url}/new/${i}`]);
      expect(r.body).toBe(`b GET /new/${i}\n`);
    }
    expect(a.requests).toHaveLength(12);

    const results = await Promise.all(inFlight);
    for (const r of results) {
      expect(r.exitCode).toBe(0);
      expect(r.status).toBe(200);
      expect(r.body).toBe(EXPECTED_A);
    }
    // The removed endpoint's pool drained and closed its keep-alive connections.
    await eventually(() => a.sockets.size === 0);
    expect(b.sockets.size).toBeGreaterThan(0);
    expect(upstream.status().map((h) => h.key)).toEqual([`127.0.0.1:${b.port}`]);
  });

  it('keeps the connections of endpoints that stay', async () => {
    cleanup = new Cleanup();
    const a = await startBackend(cleanup, echoName, 'a');
    const b = await startBackend(cleanup, echoName, 'b');
    const upstream = upstreamOf(cleanup, [a.endpoint], { balancer: 'round-robin' });
    const gw = await startGateway(cleanup, planOf(upstream));
    const url = `http://127.0.0.1:${gw.port}`;
    await curl([`${url}/`]);
    const [socket] = [...a.sockets];
    expect(socket).toBeDefined();

    upstream.setEndpoints([b.endpoint, a.endpoint]);
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) names.add((await curl([`${url}/`])).body.split(' ')[0]!);
    expect(names).toEqual(new Set(['a', 'b']));
    // a's requests still came over its first connection.
    expect([...a.sockets]).toEqual([socket]);
    expect(a.requests.map((r) => r.socket)).toEqual(a.requests.map(() => socket));
  });

  it('answers 503 once the set is empty, and serves again when endpoints return', async () => {
    cleanup = new Cleanup();
    const a = await startBackend(cleanup, slowLines(300), 'a');
    const upstream = upstreamOf(cleanup, [a.endpoint]);
    const gw = await startGateway(cleanup, planOf(upstream));
    const url = `http://127.0.0.1:${gw.port}`;
    const inFlight = curl([`${url}/`]);
    await eventually(() => a.requests.length === 1);
    upstream.setEndpoints([]);
    expect((await curl([`${url}/`])).status).toBe(503);
    expect((await inFlight).body).toBe(EXPECTED_A);
    await sleep(10);
    upstream.setEndpoints([a.endpoint]);
    expect((await curl([`${url}/`])).body).toBe(EXPECTED_A);
  });
});
