// The listener's safety, on raw sockets: request smuggling and malformed
// requests are refused with 400 and a close and never reach a backend;
// absolute-form targets and CONNECT never make the gateway an open proxy;
// header limits and the headers timeout (slowloris) hold; a few thousand
// random and mutated requests leave it serving; close() drains.

import { request as httpRequest } from 'node:http';
import { connect as connectH2 } from 'node:http2';
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createListener, type Listener } from '../gateway/listener.ts';
import {
  type Backend,
  type Echo,
  edgeGatewayYaml,
  freePort,
  type LiveGateway,
  LOOPBACK,
  rawRequest,
  serviceYaml,
  startEchoBackend,
  startGateway,
} from './gateway-harness.ts';

let backend: Backend;
let live: LiveGateway;
let port: number;

const HEADERS_TIMEOUT_MS = 800;

beforeAll(async () => {
  backend = await startEchoBackend('be');
  port = await freePort();
  live = await startGateway(
    `${edgeGatewayYaml('default', port)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: default }
spec:
  parentRefs: [{ name: edge }]
  hostnames: [a.test]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /public } }]
      backendRefs: [{ name: be, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: / } }]
      backendRefs: [{ name: be, port: 80 }]
---
${serviceYaml('default', 'be', [backend.port])}`,
    {
      limits: {
        maxHeaderBytes: 8192,
        maxHeaders: 50,
        headersTimeoutMs: HEADERS_TIMEOUT_MS,
        requestTimeoutMs: 5000,
        keepAliveTimeoutMs: 5000,
        maxConcurrentStreams: 100,
        tunnelIdleTimeoutMs: 3_600_000,
      },
    },
  );
});

afterAll(async () => {
  await live?.close(200);
  await backend?.close();
});

const GOOD = 'GET /public HTTP/1.1\r\nHost: a.test\r\n\r\n';

/** request bytes -> the status line, whether the connection closed, whether the backend saw anything. */
const smuggling: { name: string; send: string; status: string; closed: boolean }[] = [
  { name: 'a valid request (the control)', send: GOOD, status: '200 OK', closed: false },
  {
    name: 'Content-Length and Transfer-Encoding',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'Transfer-Encoding then Content-Length',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'two different Content-Lengths',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'a Content-Length list',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4, 5\r\n\r\nabcde',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'a signed Content-Length',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: +4\r\n\r\nabcd',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'chunked not last',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'a Transfer-Encoding without chunked',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'two Transfer-Encodings',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'whitespace before the colon',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'obs-fold',
    send: 'GET / HTTP/1.1\r\nHost: a.test\r\nX-A: 1\r\n  folded\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'obs-fold hiding Transfer-Encoding',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'a chunk size that is not hex',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'a chunk size that overflows',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'a negative chunk size',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'chunk data longer than its size',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'chunks with bare LF',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'an empty chunk extension',
    send: 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n3;\r\nabc\r\n0\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'bare LF line endings',
    send: 'GET / HTTP/1.1\nHost: a.test\n\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'bare CR line endings',
    send: 'GET / HTTP/1.1\rHost: a.test\r\r',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'two Host headers',
    send: 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'no Host in HTTP/1.1',
    send: 'GET / HTTP/1.1\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'NUL in a header value',
    send: 'GET / HTTP/1.1\r\nHost: a.test\r\nX-A: a\u0000b\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'a space in a header name',
    send: 'GET / HTTP/1.1\r\nHost: a.test\r\nX A: 1\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'a method with a delimiter',
    send: 'G(T / HTTP/1.1\r\nHost: a.test\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'HTTP/1.2',
    send: 'GET / HTTP/1.1.2\r\nHost: a.test\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'HTTP/2.0 on an HTTP/1 connection',
    send: 'GET / HTTP/2.0\r\nHost: a.test\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'CONNECT',
    send: 'CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n',
    status: '405 Method Not Allowed',
    closed: true,
  },
  {
    name: 'CONNECT to an outside host',
    send: 'CONNECT evil.example:22 HTTP/1.1\r\nHost: evil.example:22\r\n\r\n',
    status: '405 Method Not Allowed',
    closed: true,
  },
  {
    name: 'absolute-form to a host no route serves',
    send: 'GET http://evil.example/ HTTP/1.1\r\nHost: a.test\r\n\r\n',
    status: '404 Not Found',
    closed: false,
  },
  {
    name: 'asterisk-form',
    send: 'OPTIONS * HTTP/1.1\r\nHost: a.test\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
  {
    name: 'userinfo in an absolute-form target',
    send: 'GET http://user@a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n',
    status: '400 Bad Request',
    closed: true,
  },
];

describe('the listener refuses smuggling and malformed requests', () => {
  it.each(smuggling)('$name -> $status', async ({ send, status, closed }) => {
    const before = backend.requests;
    const r = await rawRequest(port, send, { timeoutMs: 2000 });
    expect(r.response.split('\r\n')[0]).toBe(`HTTP/1.1 ${status}`);
    expect(r.closed).toBe(closed);
    const reached = backend.requests - before;
    expect(reached).toBe(status === '200 OK' ? 1 : 0);
  });

  it('names the refusal in the body and x-pier-error', async () => {
    const r = await rawRequest(port, smuggling[1]!.send);
    expect(r.response).toContain('x-pier-error: PIER_GW_LISTEN_BAD_REQUEST');
    expect(r.response).toContain('connection: close');
  });

  it('counts refusals in pier_gateway_client_errors_total', async () => {
    const text = await live.metrics.render();
    expect(text).toMatch(
      /pier_gateway_client_errors_total\{reason="HPE_[A-Z_]+",status="400"\} [1-9]/,
    );
    expect(text).toMatch(/pier_gateway_client_errors_total\{reason="CONNECT",status="405"\} [1-9]/);
  });
});

describe('request targets', () => {
  const echoOfRaw = (response: string): Echo =>
    JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Echo;

  it('absolute-form: its authority is the Host, upstream gets the origin form', async () => {
    const r = await rawRequest(
      port,
      'GET http://a.test/public/x?q=1 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
    );
    const echo = echoOfRaw(r.response);
    expect(echo.path).toBe('/public/x?q=1');
    expect(echo.headers.host).toBe('a.test');
  });

  it.each([
    ['/public/../secret', '/secret'],
    ['/public/./x/', '/public/x/'],
    ['/public/%2e%2e/secret', '/secret'],
    ['/public/%2E%2e/%2e/secret?x=/../', '/secret?x=/../'],
    ['/a/b/..', '/a/'],
    ['/..', '/'],
  ])(
    'dot segments are removed before routing and forwarding: %s -> %s',
    async (target, forwarded) => {
      const r = await rawRequest(
        port,
        `GET ${target} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`,
      );
      expect(echoOfRaw(r.response).path).toBe(forwarded);
    },
  );
});

describe('limits', () => {
  it('answers 431 to headers over maxHeaderBytes', async () => {
    const r = await rawRequest(
      port,
      `GET / HTTP/1.1\r\nHost: a.test\r\nX-Big: ${'x'.repeat(9000)}\r\n\r\n`,
    );
    expect(r.response.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(r.closed).toBe(true);
  });

  it('answers 431 to more than maxHeaders header fields', async () => {
    const headers = Array.from({ length: 51 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
    const r = await rawRequest(port, `GET /public HTTP/1.1\r\nHost: a.test\r\n${headers}\r\n`);
    expect(r.response.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(r.closed).toBe(true);
    const fine = Array.from({ length: 40 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
    const ok = await rawRequest(
      port,
      `GET /public HTTP/1.1\r\nHost: a.test\r\n${fine}Connection: close\r\n\r\n`,
    );
    expect(ok.response.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });

  it('closes a connection whose headers trickle in (slowloris) with 408', async () => {
    const parts = [
      'GET / HTTP/1.1\r\n',
      'Host: a.test\r\n',
      ...Array.from({ length: 30 }, (_, i) => `X-${i}: slow\r\n`),
    ];
    const r = await rawRequest(port, parts, { gapMs: 100, timeoutMs: 5000 });
    expect(r.closed).toBe(true);
    expect(r.response.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(r.ms).toBeLessThan(4000);
  });

  it('closes a connection that sends nothing', async () => {
    const r = await rawRequest(port, [], { timeoutMs: 5000 });
    expect(r.closed).toBe(true);
    expect(r.response).toBe('');
  });
});

describe('fuzzing', () => {
  const seeds = [
    GOOD,
    'POST /public HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nhello',
    'POST /public HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    'GET http://a.test/public HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00',
  ];
  let seed = 0x2545f491;
  const random = () => {
    // xorshift32: the same cases on every run, so a failure can be replayed.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const mutate = (text: string): Buffer => {
    const bytes = [...Buffer.from(text, 'latin1')];
    const edits = 1 + Math.floor(random() * 6);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * (bytes.length + 1));
      const op = random();
      const byte =
        random() < 0.5
          ? Math.floor(random() * 256)
          : ' \r\n:;,0-9a-fA-F/.%'.charCodeAt(Math.floor(random() * 22));
      if (op < 0.4) bytes[at] = byte;
      else if (op < 0.7) bytes.splice(at, 0, byte);
      else bytes.splice(at, 1 + Math.floor(random() * 4));
    }
    return Buffer.from(bytes);
  };
  const garbage = (): Buffer =>
    Buffer.from(
      Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256)),
    );

  it('survives 3000 random and mutated requests on HTTP/1.1 and h2c, and still serves', async () => {
    const total = 3000;
    let sent = 0;
    while (sent < total) {
      const batch = Array.from({ length: 50 }, () => {
        const r = random();
        const bytes = r < 0.1 ? garbage() : mutate(seeds[Math.floor(random() * seeds.length)]!);
        return rawRequest(port, bytes, { timeoutMs: 150 });
      });
      await Promise.all(batch);
      sent += batch.length;
    }
    const ok = await rawRequest(port, `${GOOD.slice(0, -2)}Connection: close\r\n\r\n`);
    expect(ok.response.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });

  it('survives malformed HTTP/2 frames after the preface, and still serves HTTP/2', async () => {
    for (let i = 0; i < 300; i++) {
      await rawRequest(
        port,
        [Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), garbage()],
        { timeoutMs: 100 },
      );
    }
    const session = connectH2(`http://${LOOPBACK}:${port}`);
    const status = await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ':path': '/public', ':authority': 'a.test' });
      stream.on('response', (h) => resolve(Number(h[':status'])));
      stream.on('error', reject);
      stream.resume();
      stream.end();
    });
    session.close();
    expect(status).toBe(200);
  });
});

describe('close() drains', () => {
  let listener: Listener;
  let lport: number;
  const handlers = {
    request(
      req: import('node:http').IncomingMessage | import('node:http2').Http2ServerRequest,
      res: import('node:http').ServerResponse | import('node:http2').Http2ServerResponse,
    ) {
      const wait = req.url === '/slow' ? 600 : 0;
      setTimeout(() => {
        (res as import('node:http').ServerResponse).writeHead(200, {
          'content-type': 'text/plain',
        });
        res.end('done\n');
      }, wait);
    },
    upgrade(_req: unknown, socket: import('node:stream').Duplex) {
      socket.destroy();
    },
  };

  beforeAll(async () => {
    lport = await freePort();
    listener = createListener({ port: lport, address: LOOPBACK, protocol: 'HTTP', handlers });
    await listener.listen();
  });
  afterAll(() => listener.close(0));

  it('finishes requests in flight (with Connection: close), closes idle connections, refuses new ones', async () => {
    // An idle keep-alive connection, and one with a slow request in flight.
    const idle = new Socket();
    await new Promise<void>((resolve) => idle.connect(lport, LOOPBACK, resolve));
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    const slow = new Promise<{ status: number; connection: string | undefined; body: string }>(
      (resolve, reject) => {
        const req = httpRequest({ host: LOOPBACK, port: lport, path: '/slow' }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
          );
        });
        req.on('error', reject);
        req.end();
      },
    );
    await new Promise((r) => setTimeout(r, 150));
    expect(listener.inFlight).toBe(1);
    const closing = listener.close(5000);
    await idleClosed;
    const refused = await rawRequest(lport, GOOD, { timeoutMs: 1000 });
    expect(refused.response).toBe('');
    const answer = await slow;
    expect(answer).toEqual({ status: 200, connection: 'close', body: 'done\n' });
    await closing;
    expect(listener.connections).toBe(0);
  });
});
