// When endpoints fail: error responses from the gateway's table (503 no
// endpoints, 502 connect/reset, 504 timeouts), retries (only before the
// response started, only idempotent methods by default, only bodies that can
// be sent again), passive ejection and recovery. Real node:http backends on
// 127.0.0.1 that misbehave on purpose; curl as the client. Round robin with
// a fixed start makes the order of endpoints exact: A, then B, then A...

import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ForwardPolicySpec, ForwardResult } from '../gateway/forward/plan.ts';
import type { EndpointAddress, UpstreamOptions } from '../gateway/upstream.ts';
import {
  type Backend,
  bodyOf,
  Cleanup,
  curl,
  deadPort,
  echoName,
  endpoint,
  eventually,
  freedPort,
  missingBinary,
  planOf,
  rawConnection,
  requireBinary,
  skipFor,
  startBackend,
  startGateway,
  upstreamOf,
} from './gateway-forward-fixtures.ts';

const missing = missingBinary('curl');

/** Answers `status` with its name. */
function answer(status: number) {
  return (req: IncomingMessage, res: ServerResponse, backend: Backend) => {
    req.resume();
    req.once('end', () => {
      res.statusCode = status;
      res.end(`${backend.name} ${status}\n`);
    });
  };
}

/** Closes the connection without a response once the request head arrived. */
function reset(req: IncomingMessage): void {
  req.socket.destroy();
}

/** Sends the head and part of a 100-byte body, then closes the connection. */
function cutMidBody(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  res.writeHead(200, { 'content-length': '100' });
  res.write('0123456789');
  setTimeout(() => req.socket.destroy(), 50);
}

describe.skipIf(skipFor(missing))('forward() when endpoints fail', () => {
  let cleanup: Cleanup;
  let results: ForwardResult[];
  beforeAll(() => requireBinary(missing));
  afterEach(async () => {
    await cleanup.run();
  });

  /** A gateway over `endpoints` in this order, round robin from the first. */
  async function gateway(
    endpoints: EndpointAddress[],
    spec: ForwardPolicySpec = {},
    options: Partial<UpstreamOptions> = {},
  ) {
    results = [];
    const upstream = upstreamOf(cleanup, endpoints, {
      balancer: 'round-robin',
      random: () => 0,
      ...options,
    });
    const observer = {
      onResponse(r: ForwardResult) {
        results.push({ ...r, endpoint: r.endpoint });
      },
    };
    const gw = await startGateway(cleanup, planOf(upstream, { ...spec, observer }));
    return { upstream, url: `http://127.0.0.1:${gw.port}` };
  }

  it('answers 503 without endpoints, from the error table', async () => {
    cleanup = new Cleanup();
    const { url } = await gateway([]);
    const r = await curl([`${url}/`]);
    expect(r.status).toBe(503);
    expect(r.body).toBe('503 no healthy upstream (PIER_GW_NO_ENDPOINTS)\n');
    expect(r.headers['x-pier-error']).toBe('PIER_GW_NO_ENDPOINTS');
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('answers 502 when the only endpoint refuses connections, after one retry', async () => {
    cleanup = new Cleanup();
    const { url } = await gateway([endpoint(await deadPort())]);
    const r = await curl([`${url}/`]);
    expect(r.status).toBe(502);
    expect(r.body).toBe('502 upstream connect error (PIER_GW_UPSTREAM_CONNECT)\n');
    expect(results[0]?.attempts).toBe(2);
  });

  it('retries connect failures on another endpoint, for any method, and ejects the dead one', async () => {
    cleanup = new Cleanup();
    const live = await startBackend(cleanup, echoName, 'live');
    const dead = endpoint(await deadPort());
    const { upstream, url } = await gateway(
      [dead, live.endpoint],
      {},
      {
        outlier: { consecutiveConnectFailures: 3, baseEjectionMs: 60_000 },
      },
    );
    for (let i = 0; i < 8; i++) {
      const method = i % 2 === 0 ? 'GET' : 'POST';
      const r = await curl(['-X', method, '--data-binary', 'x', `${url}/${i}`]);
      expect(r.status, `request ${i}`).toBe(200);
      expect(r.body).toBe(`live ${method} /${i}\n`);
    }
    const deadStatus = upstream.status().find((h) => h.key === `127.0.0.1:${dead.port}`)!;
    expect(deadStatus).toMatchObject({ ejected: true, ejections: 1, live: true });
    expect(upstream.available().map((h) => h.key)).toEqual([`127.0.0.1:${live.port}`]);
    // Round robin starts each request at the dead one (the retry took the
    // live one's turn) until it is ejected; then no request tries it.
    expect(results.map((r) => r.attempts)).toEqual([2, 2, 2, 1, 1, 1, 1, 1]);
  });

  it('ejects an endpoint after consecutive 5xx and brings it back after the interval', async () => {
    cleanup = new Cleanup();
    let failing = true;
    const flaky = await startBackend(
      cleanup,
      (req, res, b) => answer(failing ? 500 : 200)(req, res, b),
      'flaky',
    );
    const good = await startBackend(cleanup, answer(200), 'good');
    const { upstream, url } = await gateway(
      [flaky.endpoint, good.endpoint],
      {},
      {
        outlier: { consecutiveFailures: 2, baseEjectionMs: 300 },
      },
    );
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await curl([`${url}/`])).status);
    // No retry policy: the 500s reach the client, until the flaky one is out.
    expect(statuses).toEqual([500, 200, 500, 200, 200, 200]);
    expect(upstream.status().find((h) => h.key.endsWith(`:${flaky.port}`))?.ejected).toBe(true);
    failing = false;
    await eventually(() => upstream.available().length === 2, 2000);
    const back = new Set<string>();
    for (let i = 0; i < 4; i++) back.add((await curl([`${url}/`])).body.split(' ')[0]!);
    expect(back).toEqual(new Set(['flaky', 'good']));
  });

  it('brings a refused endpoint back once it listens again', async () => {
    cleanup = new Cleanup();
    const good = await startBackend(cleanup, echoName, 'good');
    const port = await freedPort();
    const { upstream, url } = await gateway(
      [endpoint(port), good.endpoint],
      {},
      {
        outlier: { consecutiveConnectFailures: 1, baseEjectionMs: 200 },
      },
    );
    expect((await curl([`${url}/`])).status).toBe(200);
    expect(upstream.available()).toHaveLength(1);
    const revived = await startBackend(cleanup, echoName, 'revived');
    // Rebind the refused port (free: nothing took it in these milliseconds).
    await new Promise<void>((resolve) => revived.server.close(() => resolve()));
    await new Promise<void>((resolve, reject) => {
      revived.server.once('error', reject);
      revived.server.listen(port, '127.0.0.1', () => resolve());
    });
    await eventually(() => upstream.available().length === 2, 2000);
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) names.add((await curl([`${url}/`])).body.split(' ')[0]!);
    expect(names).toEqual(new Set(['good', 'revived']));
  });

  it('retries a status in the policy for idempotent methods only, unless told otherwise', async () => {
    cleanup = new Cleanup();
    const a = await startBackend(cleanup, answer(503), 'a');
    const b = await startBackend(cleanup, answer(200), 'b');
    const retry = { retry: { attempts: 1, codes: [503], backoffMs: 0 } };
    const { url } = await gateway([a.endpoint, b.endpoint], retry, { outlier: false });
    const get = await curl([`${url}/`]);
    expect([get.status, get.body]).toEqual([200, 'b 200\n']);
    expect(results[0]?.attempts).toBe(2);
    // POST is not idempotent: a's 503 goes to the client, b never sees it.
    const post = await curl(['--data-binary', 'x', `${url}/`]);
    expect([post.status, post.body]).toEqual([503, 'a 503\n']);
    expect(results[1]?.attempts).toBe(1);
    expect([a.requests.length, b.requests.length]).toEqual([2, 1]);

    // The same backends, with a policy that allows POST retries.
    const allow = await gateway(
      [a.endpoint, b.endpoint],
      { retry: { attempts: 1, codes: [503], backoffMs: 0, nonIdempotent: true } },
      { outlier: false },
    );
    const post2 = await curl(['--data-binary', 'x', `${allow.url}/`]);
    expect([post2.status, post2.body]).toEqual([200, 'b 200\n']);
  });

  it('sends a small buffered body again on a retry, but never a streamed one', async () => {
    cleanup = new Cleanup();
    const bodies: string[] = [];
    const record =
      (status: number) => async (req: IncomingMessage, res: ServerResponse, backend: Backend) => {
        const body = await bodyOf(req);
        bodies.push(`${backend.name} ${body.length}`);
        res.statusCode = status;
        res.end(`${backend.name} ${status}\n`);
      };
    const a = await startBackend(cleanup, record(503), 'a');
    const b = await startBackend(cleanup, record(200), 'b');
    const { url } = await gateway(
      [a.endpoint, b.endpoint],
      {
        retry: { attempts: 1, codes: [503], backoffMs: 0, maxBufferedBodyBytes: 64 * 1024 },
      },
      { outlier: false },
    );
    const small = await curl(
      ['-X', 'PUT', '--data-binary', '@-', `${url}/`],
      Buffer.alloc(1000, 'x'),
    );
    expect([small.status, small.body]).toEqual([200, 'b 200\n']);
    expect(bodies).toEqual(['a 1000', 'b 1000']);
    // Over the buffer limit the body streams: once a's attempt read it, it is gone.
    const big = await curl(
      ['-X', 'PUT', '--data-binary', '@-', `${url}/`],
      Buffer.alloc(200_000, 'y'),
    );
    expect([big.status, big.body]).toEqual([503, 'a 503\n']);
    expect(bodies).toEqual(['a 1000', 'b 1000', 'a 200000']);
  });

  it('retries a reset before the response only with a policy and only for idempotent methods', async () => {
    cleanup = new Cleanup();
    const a = await startBackend(cleanup, reset, 'a');
    const b = await startBackend(cleanup, echoName, 'b');
    // Without a route policy only connect failures are retried.
    const plain = await gateway([a.endpoint, b.endpoint], {}, { outlier: false });
    const r0 = await curl([`${plain.url}/`]);
    expect(r0.status).toBe(502);
    expect(r0.body).toBe('502 upstream connection reset (PIER_GW_UPSTREAM_RESET)\n');

    const withPolicy = await gateway(
      [a.endpoint, b.endpoint],
      { retry: { attempts: 2, backoffMs: 0 } },
      { outlier: false },
    );
    const get = await curl([`${withPolicy.url}/get`]);
    expect([get.status, get.body]).toEqual([200, 'b GET /get\n']);
    const before = a.requests.length + b.requests.length;
    const post = await curl(['--data-binary', 'x', `${withPolicy.url}/post`]);
    expect(post.status).toBe(502);
    expect(post.headers['x-pier-error']).toBe('PIER_GW_UPSTREAM_RESET');
    // The POST reached exactly one backend, once.
    expect(a.requests.length + b.requests.length - before).toBe(1);
  });

  it('never retries once the response has started: the client sees it cut', async () => {
    cleanup = new Cleanup();
    const a = await startBackend(cleanup, cutMidBody, 'a');
    const b = await startBackend(cleanup, echoName, 'b');
    const { url } = await gateway(
      [a.endpoint, b.endpoint],
      {
        retry: { attempts: 3, codes: [500, 502, 503], backoffMs: 0 },
      },
      { outlier: false },
    );
    const r = await curl([`${url}/`]);
    expect(r.status).toBe(200);
    expect(r.body).toBe('0123456789');
    expect(r.exitCode).toBe(18); // CURLE_PARTIAL_FILE: fewer bytes than Content-Length
    expect(b.requests).toHaveLength(0);
    expect(results[0]).toMatchObject({
      attempts: 1,
      status: 200,
      errorCode: 'PIER_GW_UPSTREAM_RESET',
    });
  });

  it('answers 504 when an attempt or the whole request takes too long', async () => {
    cleanup = new Cleanup();
    const slow = await startBackend(
      cleanup,
      (req, res) => {
        req.resume();
        const timer = setTimeout(() => res.end('late\n'), 3000);
        res.once('close', () => clearTimeout(timer));
      },
      'slow',
    );
    const fast = await startBackend(cleanup, echoName, 'fast');

    const attempt = await gateway([slow.endpoint], { timeouts: { backendRequestMs: 150 } });
    const started = performance.now();
    const r1 = await curl([`${attempt.url}/`]);
    expect(performance.now() - started).toBeLessThan(2000);
    expect([r1.status, r1.body]).toEqual([
      504,
      '504 upstream request timeout (PIER_GW_UPSTREAM_TIMEOUT)\n',
    ]);

    const request = await gateway([slow.endpoint], { timeouts: { requestMs: 150 } });
    const r2 = await curl([`${request.url}/`]);
    expect([r2.status, r2.body]).toEqual([504, '504 request timeout (PIER_GW_REQUEST_TIMEOUT)\n']);

    // A timed-out attempt is retried on another endpoint under a policy.
    const retried = await gateway(
      [slow.endpoint, fast.endpoint],
      {
        timeouts: { backendRequestMs: 150, requestMs: 2000 },
        retry: { attempts: 1, backoffMs: 0 },
      },
      { outlier: false },
    );
    const r3 = await curl([`${retried.url}/x`]);
    expect([r3.status, r3.body]).toEqual([200, 'fast GET /x\n']);
    expect(results[0]?.attempts).toBe(2);
  });

  it('cuts a response whose body stalls past the timeout', async () => {
    cleanup = new Cleanup();
    const stall = await startBackend(cleanup, (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': '100' });
      res.write('first');
    });
    const { url } = await gateway([stall.endpoint], { timeouts: { backendRequestMs: 200 } });
    const r = await curl([`${url}/`]);
    expect(r.status).toBe(200);
    expect(r.body).toBe('first');
    expect(r.exitCode).toBe(18);
    expect(results[0]?.errorCode).toBe('PIER_GW_UPSTREAM_TIMEOUT');
  });

  it('stops the attempt when the client goes away, and tells the observer', async () => {
    cleanup = new Cleanup();
    let closed = 0;
    const slow = await startBackend(cleanup, (req, res) => {
      req.resume();
      res.once('close', () => closed++);
    });
    const { upstream, url } = await gateway([slow.endpoint]);
    const r = await curl(['--max-time', '0.3', `${url}/`]);
    expect(r.exitCode).toBe(28); // curl's own timeout
    await eventually(() => closed === 1 && results.length === 1);
    expect(results[0]).toMatchObject({ clientAborted: true, status: 0 });
    expect(upstream.status()[0]).toMatchObject({ active: 0, consecutiveFailures: 0 });
  });
  it('does not blame an endpoint for a client whose request body breaks', async () => {
    cleanup = new Cleanup();
    const backends: Backend[] = [];
    for (const name of ['a', 'b']) {
      backends.push(
        await startBackend(
          cleanup,
          (req, res) => {
            req.on('error', () => {});
            req.resume();
            req.once('end', () => res.end('ok'));
          },
          name,
        ),
      );
    }
    const { upstream, url } = await gateway(
      backends.map((b) => b.endpoint),
      {},
      { outlier: { consecutiveFailures: 1, consecutiveConnectFailures: 1 } },
    );
    const port = Number(new URL(url).port);
    for (let i = 0; i < 4; i++) {
      // A chunked upload whose second chunk size is not hex: the gateway's
      // parser fails mid-body, after the backend has the request.
      const conn = await rawConnection(port, cleanup);
      conn.socket.write(
        'POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
      );
      await eventually(() => backends.reduce((n, b) => n + b.requests.length, 0) > i);
      conn.socket.write('zz\r\nxx\r\n');
      await eventually(() => results.length > i);
    }
    expect(results.every((r) => r.clientAborted || r.errorCode === 'PIER_GW_BAD_REQUEST')).toBe(
      true,
    );
    for (const host of upstream.status()) {
      expect(host, host.key).toMatchObject({ ejected: false, consecutiveFailures: 0, active: 0 });
    }
    // And the endpoints still serve.
    expect((await curl([`${url}/`])).body).toBe('ok');
  });
});
