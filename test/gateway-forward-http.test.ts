// forward() with real clients: curl over HTTP/1.1 and HTTP/2 (prior
// knowledge) through a minimal listener to node:http backends, all on
// 127.0.0.1. What the backend receives (hop-by-hop headers gone, forwarding
// headers set, trace context), what the client receives, Expect:
// 100-continue on a raw connection, header edits, affinity and the observer.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { forward } from '../gateway/forward/forward.ts';
import { compileForwardPolicy, type ForwardResult } from '../gateway/forward/plan.ts';
import { isValidTraceparent } from '../gateway/forward/traceparent.ts';
import {
  type Backend,
  bodyOf,
  Cleanup,
  curl,
  echoName,
  listen,
  missingBinary,
  planOf,
  rawConnection,
  rawHeader,
  requireBinary,
  skipFor,
  startBackend,
  startGateway,
  startH2Gateway,
  upstreamOf,
} from './gateway-forward-fixtures.ts';

const missing = missingBinary('curl');

describe.skipIf(skipFor(missing))('forward() over HTTP/1.1 and HTTP/2', () => {
  let cleanup: Cleanup;
  beforeAll(() => requireBinary(missing));
  afterEach(async () => {
    await cleanup.run();
  });
  function fresh(): Cleanup {
    cleanup = new Cleanup();
    return cleanup;
  }

  it('passes a request on without hop-by-hop headers, with forwarding headers and a new trace', async () => {
    const c = fresh();
    const backend = await startBackend(c, (req, res) => {
      req.resume();
      res.setHeader('connection', 'keep-alive, x-internal');
      res.setHeader('x-internal', 'secret');
      res.setHeader('proxy-thing', '1');
      res.setHeader('x-kept', 'yes');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('hello\n');
    });
    const upstream = upstreamOf(c, [backend.endpoint]);
    const gw = await startGateway(c, planOf(upstream));

    const r = await curl([
      '-H',
      'Connection: keep-alive, X-Drop-Me',
      '-H',
      'X-Drop-Me: 1',
      '-H',
      'Keep-Alive: timeout=5',
      '-H',
      'Proxy-Authorization: Basic eA==',
      '-H',
      'TE: trailers, deflate',
      '-H',
      'X-Forwarded-For: 203.0.113.9',
      '-H',
      'Forwarded: for=203.0.113.9',
      '-H',
      'X-Forwarded-Proto: https',
      '-H',
      'X-Custom: kept',
      `http://127.0.0.1:${gw.port}/a/b?c=d`,
    ]);
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello\n');
    expect(r.headers['x-kept']).toBe('yes');
    expect(r.headers['x-internal']).toBeUndefined();
    expect(r.headers['proxy-thing']).toBeUndefined();
    expect(r.headerLines.filter((l) => l.toLowerCase().startsWith('set-cookie:'))).toEqual([
      'set-cookie: a=1',
      'set-cookie: b=2',
    ]);

    const req = backend.requests[0]!;
    expect(req.url).toBe('/a/b?c=d');
    for (const name of ['x-drop-me', 'keep-alive', 'proxy-authorization', 'expect']) {
      expect(rawHeader(req, name), name).toEqual([]);
    }
    expect(rawHeader(req, 'te')).toEqual(['trailers']);
    expect(rawHeader(req, 'x-custom')).toEqual(['kept']);
    expect(rawHeader(req, 'host')).toEqual([`127.0.0.1:${gw.port}`]);
    // The client is not a trusted proxy: what it claimed is replaced.
    expect(rawHeader(req, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(rawHeader(req, 'x-forwarded-proto')).toEqual(['http']);
    expect(rawHeader(req, 'x-forwarded-host')).toEqual([`127.0.0.1:${gw.port}`]);
    expect(rawHeader(req, 'forwarded')).toEqual([
      `for=127.0.0.1;host="127.0.0.1:${gw.port}";proto=http`,
    ]);
    const [traceparent] = rawHeader(req, 'traceparent');
    expect(isValidTraceparent(traceparent ?? '')).toBe(true);
  });

  it('extends a trusted proxy chain and passes a valid traceparent on', async () => {
    const c = fresh();
    const backend = await startBackend(c, echoName);
    const upstream = upstreamOf(c, [backend.endpoint]);
    const gw = await startGateway(c, planOf(upstream, { trustedProxies: ['127.0.0.0/8'] }));
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const r = await curl([
      '-H',
      'X-Forwarded-For: 203.0.113.9, 10.1.2.3',
      '-H',
      'X-Forwarded-Proto: https',
      '-H',
      'Forwarded: for=203.0.113.9;proto=https',
      '-H',
      `traceparent: ${traceparent}`,
      '-H',
      'tracestate: vendor=1',
      `http://127.0.0.1:${gw.port}/`,
    ]);
    expect(r.status).toBe(200);
    const req = backend.requests[0]!;
    expect(rawHeader(req, 'x-forwarded-for')).toEqual(['203.0.113.9, 10.1.2.3, 127.0.0.1']);
    expect(rawHeader(req, 'x-forwarded-proto')).toEqual(['https']);
    expect(rawHeader(req, 'forwarded')).toEqual([
      `for=203.0.113.9;proto=https, for=127.0.0.1;host="127.0.0.1:${gw.port}";proto=http`,
    ]);
    expect(rawHeader(req, 'traceparent')).toEqual([traceparent]);
    expect(rawHeader(req, 'tracestate')).toEqual(['vendor=1']);
  });

  it('applies the plan: path, host, request and response header edits', async () => {
    const c = fresh();
    const backend = await startBackend(c, (req, res) => {
      req.resume();
      res.setHeader('server', 'backend');
      res.setHeader('x-backend', 'b');
      res.end('ok');
    });
    const upstream = upstreamOf(c, [backend.endpoint]);
    const policy = compileForwardPolicy({
      requestHeaders: {
        set: [{ name: 'X-Env', value: 'prod' }],
        add: [{ name: 'X-Tag', value: 'gw' }],
        remove: ['X-Secret'],
      },
      responseHeaders: { set: [{ name: 'Server', value: 'pier' }], remove: ['x-backend'] },
    });
    const gw = await startGateway(c, () => ({
      upstream,
      policy,
      path: '/rewritten?q=1',
      host: 'internal.example',
    }));
    const r = await curl([
      '-H',
      'X-Env: dev',
      '-H',
      'X-Tag: client',
      '-H',
      'X-Secret: s',
      `http://127.0.0.1:${gw.port}/original`,
    ]);
    expect(r.status).toBe(200);
    expect(r.headers.server).toBe('pier');
    expect(r.headers['x-backend']).toBeUndefined();
    const req = backend.requests[0]!;
    expect(req.url).toBe('/rewritten?q=1');
    expect(rawHeader(req, 'host')).toEqual(['internal.example']);
    expect(rawHeader(req, 'x-env')).toEqual(['prod']);
    expect(rawHeader(req, 'x-tag')).toEqual(['client', 'gw']);
    expect(rawHeader(req, 'x-secret')).toEqual([]);
    // X-Forwarded-Host is what the client asked for, not the rewrite.
    expect(rawHeader(req, 'x-forwarded-host')).toEqual([`127.0.0.1:${gw.port}`]);
  });

  it('serves HTTP/2 clients (prior knowledge) from an HTTP/1.1 backend, bodies both ways', async () => {
    const c = fresh();
    const backend = await startBackend(c, async (req, res) => {
      const body = await bodyOf(req);
      res.setHeader('connection', 'keep-alive');
      res.setHeader('x-len', String(body.length));
      res.end(body.toString('utf8').toUpperCase());
    });
    const upstream = upstreamOf(c, [backend.endpoint]);
    const gw = await startH2Gateway(c, planOf(upstream));
    const r = await curl([
      '--http2-prior-knowledge',
      '--data-binary',
      'abc def',
      '-H',
      'content-type: text/plain',
      `http://127.0.0.1:${gw.port}/up?x=1`,
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.status).toBe(200);
    expect(r.body).toBe('ABC DEF');
    expect(r.headers['x-len']).toBe('7');
    expect(r.headers.connection).toBeUndefined();
    const req = backend.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/up?x=1');
    expect(rawHeader(req, 'host')).toEqual([`127.0.0.1:${gw.port}`]);
    expect(rawHeader(req, 'x-forwarded-for')).toEqual(['127.0.0.1']);

    // A GET with no body, and a body of unknown length (chunked upload).
    const get = await curl(['--http2-prior-knowledge', `http://127.0.0.1:${gw.port}/`]);
    expect(get.status).toBe(200);
    expect(get.body).toBe('');
    const streamed = await curl(
      ['--http2-prior-knowledge', '-T', '-', `http://127.0.0.1:${gw.port}/put`],
      'streamed body',
    );
    expect(streamed.status).toBe(200);
    expect(streamed.body).toBe('STREAMED BODY');
  });

  it('answers Expect: 100-continue once an endpoint is picked, and refuses before the body when none is', async () => {
    const c = fresh();
    const backend = await startBackend(c, async (req, res) => {
      const body = await bodyOf(req);
      res.end(`got ${body.length} expect=${rawHeader(req, 'expect').join(',')}`);
    });
    const upstream = upstreamOf(c, [backend.endpoint]);
    const gw = await startGateway(c, planOf(upstream));

    // curl waits for the 100 before sending the body.
    const r = await curl(
      ['-H', 'Expect: 100-continue', '--data-binary', '@-', `http://127.0.0.1:${gw.port}/`],
      Buffer.alloc(4096, 'x'),
    );
    expect(r.statuses).toEqual([100, 200]);
    expect(r.body).toBe('got 4096 expect=');

    // A raw client sees the 100 before it sends anything.
    const conn = await rawConnection(gw.port, c);
    conn.socket.write(
      'POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n',
    );
    await conn.until('HTTP/1.1 100 Continue\r\n\r\n');
    conn.socket.write('hello');
    const all = await conn.until('got 5');
    expect(all).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);

    // HTTP/2 clients get their 100 (an interim HEADERS frame) the same way.
    const h2 = await startH2Gateway(c, planOf(upstream));
    const r2 = await curl(
      [
        '--http2-prior-knowledge',
        '-H',
        'Expect: 100-continue',
        '--data-binary',
        '@-',
        `http://127.0.0.1:${h2.port}/`,
      ],
      Buffer.alloc(3000, 'y'),
    );
    expect(r2.statuses).toEqual([100, 200]);
    expect(r2.body).toBe('got 3000 expect=');
    // A listener without checkContinue: Node sends the 100, and only once.
    for (const server of [
      http.createServer((req, res) => forward(req, res, planOf(upstream)(req))),
      http2.createServer((req, res) => forward(req, res, planOf(upstream)(req))),
    ]) {
      const port = await listen(server, c);
      const h2 = server instanceof http.Server ? [] : ['--http2-prior-knowledge'];
      const r3 = await curl(
        [...h2, '-H', 'Expect: 100-continue', '--data-binary', '@-', `http://127.0.0.1:${port}/`],
        Buffer.alloc(2000, 'z'),
      );
      expect(r3.statuses, h2.join('')).toEqual([100, 200]);
      expect(r3.body).toBe('got 2000 expect=');
    }

    // No endpoint: the 503 comes before the body, without a 100.
    upstream.setEndpoints([]);
    const refused = await rawConnection(gw.port, c);
    refused.socket.write(
      'PUT /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n',
    );
    const answer = await refused.until('(PIER_GW_NO_ENDPOINTS)\n');
    expect(answer).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(answer).not.toContain('100 Continue');
  });

  it('sticks to one endpoint by cookie, header or client IP with a hashing balancer', async () => {
    const c = fresh();
    const backends: Backend[] = [];
    for (let i = 0; i < 4; i++) backends.push(await startBackend(c, echoName, `b${i}`));
    const endpoints = backends.map((b) => b.endpoint);

    const byCookie = upstreamOf(c, endpoints, { balancer: 'ring-hash' });
    const gwCookie = await startGateway(
      c,
      planOf(byCookie, { affinity: { type: 'cookie', name: 'pier-sticky', ttlSeconds: 60 } }),
    );
    const first = await curl([`http://127.0.0.1:${gwCookie.port}/`]);
    const cookie = first.headers['set-cookie'] ?? '';
    expect(cookie).toMatch(
      /^pier-sticky=[0-9a-f]{24}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=60$/,
    );
    const value = cookie.split(';')[0]!;
    const names = new Set<string>([first.body.split(' ')[0]!]);
    for (let i = 0; i < 8; i++) {
      const r = await curl([
        '-H',
        `Cookie: other=1; ${value}`,
        `http://127.0.0.1:${gwCookie.port}/`,
      ]);
      expect(r.headers['set-cookie']).toBeUndefined();
      names.add(r.body.split(' ')[0]!);
    }
    expect(names.size).toBe(1);

    const byHeader = upstreamOf(c, endpoints, { balancer: 'maglev' });
    const gwHeader = await startGateway(
      c,
      planOf(byHeader, { affinity: { type: 'header', name: 'X-User' } }),
    );
    const seen = new Map<string, Set<string>>();
    for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
      for (let i = 0; i < 3; i++) {
        const r = await curl(['-H', `X-User: ${user}`, `http://127.0.0.1:${gwHeader.port}/`]);
        const set = seen.get(user) ?? new Set<string>();
        set.add(r.body.split(' ')[0]!);
        seen.set(user, set);
      }
    }
    for (const [user, set] of seen) expect(set.size, user).toBe(1);
    // Six users over four endpoints land on more than one of them.
    expect(new Set([...seen.values()].map((s) => [...s][0])).size).toBeGreaterThan(1);

    const byIp = upstreamOf(c, endpoints, { balancer: 'ring-hash' });
    const gwIp = await startGateway(c, planOf(byIp, { affinity: { type: 'client-ip' } }));
    const ipNames = new Set<string>();
    for (let i = 0; i < 6; i++) {
      ipNames.add((await curl([`http://127.0.0.1:${gwIp.port}/`])).body.split(' ')[0]!);
    }
    expect(ipNames.size).toBe(1);
  });

  it('spreads requests over endpoints without affinity (least-request and round robin)', async () => {
    const c = fresh();
    const backends: Backend[] = [];
    for (let i = 0; i < 3; i++) backends.push(await startBackend(c, echoName, `b${i}`));
    const rr = upstreamOf(
      c,
      backends.map((b) => b.endpoint),
      { balancer: 'round-robin' },
    );
    const gw = await startGateway(c, planOf(rr));
    const names: string[] = [];
    for (let i = 0; i < 6; i++)
      names.push((await curl([`http://127.0.0.1:${gw.port}/`])).body.split(' ')[0]!);
    // Each in turn: every endpoint twice, never the same twice in a row.
    for (const b of backends) expect(names.filter((n) => n === b.name)).toHaveLength(2);
    for (let i = 1; i < names.length; i++) expect(names[i]).not.toBe(names[i - 1]);

    const lr = upstreamOf(
      c,
      backends.map((b) => b.endpoint),
    );
    const gwLr = await startGateway(c, planOf(lr));
    const lrNames = new Set<string>();
    for (let i = 0; i < 12; i++)
      lrNames.add((await curl([`http://127.0.0.1:${gwLr.port}/`])).body.split(' ')[0]!);
    expect(lrNames.size).toBeGreaterThan(1);
  });

  it('reports every response to the observer', async () => {
    const c = fresh();
    const backend = await startBackend(c, (req, res) => {
      req.resume();
      res.statusCode = 201;
      res.end('twelve bytes');
    });
    const upstream = upstreamOf(c, [backend.endpoint]);
    const results: Record<string, unknown>[] = [];
    const observer = {
      onResponse(r: ForwardResult) {
        results.push({
          upstreamName: r.upstreamName,
          method: r.method,
          path: r.path,
          clientIp: r.clientIp,
          status: r.status,
          bytesSent: r.bytesSent,
          bytesReceived: r.bytesReceived,
          endpoint: r.endpoint,
          attempts: r.attempts,
          errorCode: r.errorCode,
          clientAborted: r.clientAborted,
          timed: r.upstreamMs >= 0 && r.totalMs >= r.upstreamMs,
          trace: isValidTraceparent(r.traceparent),
        });
      },
    };
    const gw = await startGateway(c, planOf(upstream, { observer }));
    await curl(['--data-binary', 'abc', `http://127.0.0.1:${gw.port}/obs`]);
    upstream.setEndpoints([]);
    await curl([`http://127.0.0.1:${gw.port}/none`]);
    expect(results).toEqual([
      {
        upstreamName: 'Service test/web:80',
        method: 'POST',
        path: '/obs',
        clientIp: '127.0.0.1',
        status: 201,
        bytesSent: 12,
        bytesReceived: 3,
        endpoint: `127.0.0.1:${backend.port}`,
        attempts: 1,
        errorCode: undefined,
        clientAborted: false,
        timed: true,
        trace: true,
      },
      {
        upstreamName: 'Service test/web:80',
        method: 'GET',
        path: '/none',
        clientIp: '127.0.0.1',
        status: 503,
        bytesSent: 0,
        bytesReceived: -1,
        endpoint: undefined,
        attempts: 0,
        errorCode: 'PIER_GW_NO_ENDPOINTS',
        clientAborted: false,
        timed: false,
        trace: true,
      },
    ]);
  });
  it('answers 400 for a request the upstream client refuses, and keeps serving', async () => {
    const c = fresh();
    const backend = await startBackend(c, echoName);
    const upstream = upstreamOf(c, [backend.endpoint]);
    const policy = compileForwardPolicy({});
    // A path no HTTP/1.1 request line may carry (a filter's bug, say).
    const gw = await startGateway(c, (req) => ({
      upstream,
      policy,
      path: req.url === '/bad' ? '/a b\u0001' : undefined,
    }));
    const bad = await curl([`http://127.0.0.1:${gw.port}/bad`]);
    expect([bad.status, bad.body]).toEqual([400, '400 bad request (PIER_GW_BAD_REQUEST)\n']);
    expect(backend.requests).toHaveLength(0);
    const good = await curl([`http://127.0.0.1:${gw.port}/good`]);
    expect(good.body).toBe('backend GET /good\n');
    expect(upstream.status()[0]).toMatchObject({ active: 0, consecutiveFailures: 0 });
  });
  it('marks requests that came over TLS as https, on HTTP/2 (ALPN) and HTTP/1.1', async () => {
    const c = fresh();
    const backend = await startBackend(c, echoName);
    const upstream = upstreamOf(c, [backend.endpoint]);
    const plan = planOf(upstream);
    const pem = readFileSync(new URL('./gateway-forward-tls.pem', import.meta.url));
    const server = http2.createSecureServer({ key: pem, cert: pem, allowHTTP1: true }, (req, res) =>
      forward(req, res, plan(req)),
    );
    const port = await listen(server, c);
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (session) => sessions.add(session));
    c.add(() => {
      for (const session of sessions) session.destroy();
    });
    for (const version of ['--http2', '--http1.1']) {
      const r = await curl(['-k', version, `https://127.0.0.1:${port}/tls`]);
      expect(r.status, version).toBe(200);
      expect(r.body).toBe('backend GET /tls\n');
    }
    expect(backend.requests.map((req) => rawHeader(req, 'x-forwarded-proto'))).toEqual([
      ['https'],
      ['https'],
    ]);
    expect(rawHeader(backend.requests[0]!, 'forwarded')).toEqual([
      `for=127.0.0.1;host="127.0.0.1:${port}";proto=https`,
    ]);
  });
});
