// ExternalAuth (HTTP) through a live gateway: an auth server on loopback
// lets `Bearer good` through with an x-user header for the backend and
// denies anything else with its own 401; the backend only ever sees
// authorized requests, bodies arrive intact after the wait, a client's own
// x-user is replaced, WebSocket upgrades are authorized too, a missing
// auth backend fails closed, and a client that leaves during the wait still
// gets its access-log line.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Backend,
  type Echo,
  edgeGatewayYaml,
  freePort,
  httpRequest,
  type LiveGateway,
  LOOPBACK,
  serviceYaml,
  startEchoBackend,
  startGateway,
} from './gateway-harness.ts';

let backend: Backend;
let auth: Server;
let live: LiveGateway;
let port: number;
const asked: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];

beforeAll(async () => {
  backend = await startEchoBackend('app');
  auth = createServer((req, res) => {
    asked.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    if (req.headers.authorization === 'Bearer slow') {
      // Answers after the client in that test has left.
      setTimeout(() => res.writeHead(200).end(), 300);
      return;
    }
    if (req.headers.authorization === 'Bearer good') {
      res.writeHead(200, { 'x-user': 'alice', 'x-not-allowed': 'no' });
      res.end();
      return;
    }
    res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' });
    res.end('denied\n');
  });
  await new Promise<void>((resolve) => auth.listen(0, LOOPBACK, () => resolve()));
  port = await freePort();
  const filter = (service: string) => `
        - type: ExternalAuth
          externalAuth:
            protocol: HTTP
            backendRef: { name: ${service}, port: 80 }
            http: { path: /check, allowedHeaders: [x-request-id], allowedResponseHeaders: [x-user] }`;
  live = await startGateway(`${edgeGatewayYaml('default', port)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: app, namespace: default }
spec:
  parentRefs: [{ name: edge }]
  rules:
    - matches: [{ path: { value: /down } }]
      filters:${filter('nobody')}
      backendRefs: [{ name: app, port: 80 }]
    - filters:${filter('authz')}
      backendRefs: [{ name: app, port: 80 }]
---
${serviceYaml('default', 'app', [backend.port])}
---
${serviceYaml('default', 'authz', [(auth.address() as { port: number }).port])}
---
apiVersion: v1
kind: Service
metadata: { name: nobody, namespace: default }
spec: { ports: [{ name: http, port: 80 }] }`);
});

afterAll(async () => {
  await live?.close(200);
  await backend?.close();
  auth?.close();
});

const send = (method: string, path: string, headers: Record<string, string>, body?: Buffer) =>
  httpRequest(port, method, path, headers, body);

describe('ExternalAuth over HTTP', () => {
  it('asks the auth server first (same method, its path prefix, Host, Authorization, the allowed headers, no body) and lets a 200 through with its allowed headers', async () => {
    asked.length = 0;
    const r = await send('GET', '/orders?page=2', {
      authorization: 'Bearer good',
      'x-request-id': 'r-1',
      cookie: 'secret=1',
      'x-user': 'mallory',
    });
    expect(r.status).toBe(200);
    const echo = JSON.parse(r.body) as Echo;
    expect(echo.path).toBe('/orders?page=2');
    expect(echo.headers['x-user'], "the auth server's, not the client's").toBe('alice');
    expect(echo.headers['x-not-allowed']).toBeUndefined();
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ method: 'GET', url: '/check/orders?page=2' });
    expect(asked[0]!.headers).toMatchObject({
      host: `${LOOPBACK}:${port}`,
      authorization: 'Bearer good',
      'x-request-id': 'r-1',
      'content-length': '0',
    });
    expect(asked[0]!.headers.cookie).toBeUndefined();
  });

  it("answers with the auth server's denial, and the backend never sees the request", async () => {
    const before = backend.requests;
    const r = await send('GET', '/orders', { authorization: 'Bearer bad' });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer');
    expect(r.body).toBe('denied\n');
    expect(backend.requests).toBe(before);
  });

  it('keeps the request body while it waits and forwards it whole', async () => {
    const body = Buffer.alloc(300_000, 7);
    const r = await send('POST', '/upload', { authorization: 'Bearer good' }, body);
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as Echo).bodyBytes).toBe(body.length);
  });

  it('fails closed when the auth backend has no endpoint: 503, nothing forwarded', async () => {
    const before = backend.requests;
    const r = await send('GET', '/down', { authorization: 'Bearer good' });
    expect(r.status).toBe(503);
    expect(backend.requests).toBe(before);
  });

  it('authorizes WebSocket upgrades too', async () => {
    const upgrade = (token: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, LOOPBACK, () =>
          socket.write(
            `GET /ws HTTP/1.1\r\nHost: ws.test\r\nAuthorization: Bearer ${token}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
              'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
          ),
        );
        socket.once('data', (b: Buffer) => {
          resolve(b.toString().split('\r\n')[0]!);
          socket.destroy();
        });
        socket.on('error', reject);
      });
    expect(await upgrade('good')).toMatch(/^HTTP\/1\.1 101 /);
    expect(await upgrade('bad')).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('logs a request whose client left while the auth server was asked, and forwards nothing', async () => {
    const before = backend.requests;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, LOOPBACK, () => {
        socket.write('GET /left HTTP/1.1\r\nHost: a.test\r\nAuthorization: Bearer slow\r\n\r\n');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
      socket.on('error', reject);
    });
    await expect
      .poll(() => live.access.find((line) => line.path === '/left'), { timeout: 3000 })
      .toMatchObject({ status: 0, aborted: true, route: expect.stringContaining('app') });
    expect(backend.requests).toBe(before);
  });
});
