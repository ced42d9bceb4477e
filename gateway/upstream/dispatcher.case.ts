// The suite every UpstreamDispatcher passes (dispatcher.ts states the
// contract): Pier's HTTP/1.1 pool and undici's Pool, against real backends
// on 127.0.0.1 (node:http, and raw sockets where a backend must misbehave).
// With `tls` server options the same cases run over TLS (node:https and
// tls.createServer backends, `https:` origins): the contract holds there too.

import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import {
  INVALID_REQUEST_CODES,
  type ResponseHeaders,
  type UpstreamController,
  type UpstreamDispatcher,
  type UpstreamDispatchOptions,
} from './dispatcher.ts';

export interface Outcome {
  started: boolean;
  status?: number;
  headers?: ResponseHeaders;
  body: Buffer;
  trailers?: ResponseHeaders;
  error?: Error & { code?: string };
  upgraded?: Duplex;
  /** Which final callback came: 'end', 'error' or 'upgrade'. */
  ending?: string;
  /** Final callbacks counted: the contract says exactly one. */
  endings: number;
}

export interface Hooks {
  onStart?(controller: UpstreamController, status: number): void;
  onData?(controller: UpstreamController, chunk: Buffer): void;
}

/** Runs one request and resolves with everything its handler saw. */
export function run(
  dispatcher: UpstreamDispatcher,
  options: Partial<UpstreamDispatchOptions>,
  hooks: Hooks = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { started: false, body: Buffer.alloc(0), endings: 0 };
    const chunks: Buffer[] = [];
    const finish = (ending: string) => {
      outcome.endings++;
      outcome.ending ??= ending;
      outcome.body = Buffer.concat(chunks);
      // Give a wrong second ending a moment to show itself.
      setTimeout(() => resolve(outcome), 20);
    };
    dispatcher.dispatch(
      { path: '/', method: 'GET', headers: ['host', 'backend.test'], body: null, ...options },
      {
        onRequestStart() {
          outcome.started = true;
        },
        onResponseStart(controller, status, headers) {
          outcome.status = status;
          outcome.headers = headers;
          hooks.onStart?.(controller, status);
        },
        onResponseData(controller, chunk) {
          chunks.push(Buffer.from(chunk));
          hooks.onData?.(controller, chunk);
        },
        onResponseEnd(_controller, trailers) {
          outcome.trailers = trailers;
          finish('end');
        },
        onResponseError(_controller, error) {
          outcome.error = error;
          finish('error');
        },
        onRequestUpgrade(_controller, status, headers, socket) {
          outcome.status = status;
          outcome.headers = headers;
          outcome.upgraded = socket;
          finish('upgrade');
        },
      },
    );
  });
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  remotePort: number;
}

/** Key and certificate for TLS backends; undefined: plain TCP. */
export type BackendTls = tls.SecureContextOptions | undefined;

/** A node:http (or node:https) backend whose handler each test sets; it records requests. */
async function httpBackend(secure: BackendTls) {
  const seen: Seen[] = [];
  let handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void = (
    _req,
    res,
  ) => res.end('ok');
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body,
        remotePort: req.socket.remotePort!,
      });
      handler(req, res, body);
    });
  };
  const server =
    secure === undefined
      ? http.createServer(onRequest)
      : https.createServer(secure as https.ServerOptions, onRequest);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `${secure === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    seen,
    server,
    handle(h: typeof handler) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A raw TCP (or TLS) backend: each connection gets `respond(requestBytes, socket)`. */
async function rawBackend(
  secure: BackendTls,
  respond: (socket: net.Socket, request: string) => void,
) {
  const sockets = new Set<net.Socket>();
  const onConnection = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let request = '';
    socket.on('data', (chunk) => {
      request += chunk.toString('latin1');
      if (request.includes('\r\n\r\n')) {
        const r = request;
        request = '';
        respond(socket, r);
      }
    });
    socket.on('error', () => {});
  };
  const server =
    secure === undefined ? net.createServer(onConnection) : tls.createServer(secure, onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `${secure === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function describeDispatcher(
  name: string,
  make: (origin: string, options?: { connections?: number }) => UpstreamDispatcher,
  secure: BackendTls = undefined,
): void {
  const scheme = secure === undefined ? 'http' : 'https';
  describe(`UpstreamDispatcher: ${name}`, () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    async function setup() {
      const backend = await httpBackend(secure);
      const dispatcher = make(backend.origin);
      cleanups.push(backend.close, () => dispatcher.destroy());
      return { backend, dispatcher };
    }

    it('sends the request as given, and reuses one keep-alive connection', async () => {
      const { backend, dispatcher } = await setup();
      backend.handle((req, res) => {
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.end(`you asked ${req.url}`);
      });
      for (const path of ['/one?x=1', '/two']) {
        const outcome = await run(dispatcher, {
          path,
          headers: ['Host', 'web.test', 'X-Trace', 'abc', 'x-trace', 'def'],
        });
        expect(outcome).toMatchObject({ started: true, status: 200, ending: 'end', endings: 1 });
        expect(outcome.body.toString()).toBe(`you asked ${path}`);
        expect(outcome.headers!['set-cookie']).toEqual(['a=1', 'b=2']);
      }
      expect(
        backend.seen.map((s) => [s.method, s.url, s.headers.host, s.headers['x-trace']]),
      ).toEqual([
        ['GET', '/one?x=1', 'web.test', 'abc, def'],
        ['GET', '/two', 'web.test', 'abc, def'],
      ]);
      expect(backend.seen[0]!.remotePort).toBe(backend.seen[1]!.remotePort);
    });

    it('sends a Buffer body with its length, and a stream body chunked', async () => {
      const { backend, dispatcher } = await setup();
      backend.handle((req, res, body) =>
        res.end(
          `${req.headers['content-length'] ?? '-'} ${req.headers['transfer-encoding'] ?? '-'} ${body}`,
        ),
      );
      const buffered = await run(dispatcher, {
        method: 'POST',
        headers: ['host', 'web.test', 'content-length', '5'],
        body: Buffer.from('hello'),
      });
      expect(buffered.body.toString()).toBe('5 - hello');
      const streamed = await run(dispatcher, {
        method: 'POST',
        body: Readable.from([Buffer.from('one '), Buffer.from('two '), Buffer.from('three')]),
      });
      expect(streamed.body.toString()).toBe('- chunked one two three');
    });

    it('passes a chunked response with its trailers', async () => {
      const { backend, dispatcher } = await setup();
      backend.handle((_req, res) => {
        res.writeHead(200, { trailer: 'grpc-status' });
        res.write('part one, ');
        setTimeout(() => {
          res.addTrailers({ 'grpc-status': '0' });
          res.end('part two');
        }, 10);
      });
      const outcome = await run(dispatcher, {});
      expect(outcome.body.toString()).toBe('part one, part two');
      expect(outcome.trailers).toMatchObject({ 'grpc-status': '0' });
    });

    it('knows a HEAD response and a 204 have no body', async () => {
      const { backend, dispatcher } = await setup();
      backend.handle((req, res) => {
        if (req.url === '/empty') {
          res.writeHead(204).end();
          return;
        }
        res.setHeader('content-length', '100');
        res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(100));
      });
      const head = await run(dispatcher, { method: 'HEAD' });
      expect(head).toMatchObject({ status: 200, ending: 'end' });
      expect(head.body.length).toBe(0);
      expect(head.headers!['content-length']).toBe('100');
      const empty = await run(dispatcher, { path: '/empty' });
      expect(empty).toMatchObject({ status: 204, ending: 'end' });
      const after = await run(dispatcher, {});
      expect(after.body.length).toBe(100);
    });

    it('fails a refused connection before onRequestStart', async () => {
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const dispatcher = make(`${scheme}://127.0.0.1:${port}`);
      cleanups.push(() => dispatcher.destroy());
      const outcome = await run(dispatcher, {});
      expect(outcome).toMatchObject({ started: false, ending: 'error', endings: 1 });
      expect(outcome.error!.code).toBe('ECONNREFUSED');
    });

    it('fails a response cut off mid-body after it started', async () => {
      const backend = await rawBackend(secure, (socket) => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part');
        setTimeout(() => socket.destroy(), 10);
      });
      const dispatcher = make(backend.origin);
      cleanups.push(backend.close, () => dispatcher.destroy());
      const outcome = await run(dispatcher, {});
      expect(outcome).toMatchObject({ started: true, status: 200, ending: 'error', endings: 1 });
      expect(outcome.body.toString()).toBe('only part');
    });

    it('ends an aborted request with its reason, and serves the next one', async () => {
      const { backend, dispatcher } = await setup();
      backend.handle((_req, res) => res.end('y'.repeat(1000)));
      const reason = new Error('the gateway gave up');
      const aborted = await run(
        dispatcher,
        {},
        { onStart: (controller) => controller.abort(reason) },
      );
      expect(aborted).toMatchObject({ status: 200, ending: 'error', endings: 1 });
      expect(aborted.error).toBe(reason);
      expect(aborted.body.length).toBe(0);
      const next = await run(dispatcher, {});
      expect(next.body.length).toBe(1000);
    });

    it('stops reading while paused (backpressure), then delivers all of it', async () => {
      const { backend, dispatcher } = await setup();
      const size = 8 * 1024 * 1024;
      backend.handle((_req, res) => res.end(Buffer.alloc(size, 7)));
      let pausedAt = -1;
      let received = 0;
      let resumed = false;
      const outcome = await run(
        dispatcher,
        {},
        {
          onData(controller, chunk) {
            received += chunk.length;
            if (pausedAt === -1) {
              controller.pause();
              pausedAt = received;
              setTimeout(() => {
                // While paused, at most what was already read came through.
                expect(received - pausedAt).toBeLessThan(1024 * 1024);
                resumed = true;
                controller.resume();
              }, 100);
            }
          },
        },
      );
      expect(resumed).toBe(true);
      expect(outcome.body.length).toBe(size);
    });

    it('hands over the socket on a 101 for an upgrade request', async () => {
      const backend = await rawBackend(secure, (socket, request) => {
        expect(request).toMatch(/\r\nupgrade: websocket\r\n/i);
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\nfirst',
        );
        socket.on('data', (chunk) => socket.write(`echo:${chunk}`));
      });
      const dispatcher = make(backend.origin);
      cleanups.push(backend.close, () => dispatcher.destroy());
      const outcome = await run(dispatcher, { upgrade: 'websocket' });
      expect(outcome).toMatchObject({ status: 101, ending: 'upgrade', endings: 1 });
      const socket = outcome.upgraded!;
      const got: string[] = [];
      socket.on('data', (chunk: Buffer) => got.push(chunk.toString()));
      socket.resume();
      socket.write('ping');
      await expect.poll(() => got.join('')).toBe('firstecho:ping');
      socket.destroy();
    });

    it('refuses a header value that would split the request, sending nothing', async () => {
      const { backend, dispatcher } = await setup();
      const outcome = await run(dispatcher, {
        headers: ['host', 'web.test', 'x-a', 'a\r\nx-b: b'],
      });
      expect(outcome).toMatchObject({ started: false, ending: 'error' });
      expect(INVALID_REQUEST_CODES.has(outcome.error!.code!)).toBe(true);
      expect(backend.seen).toEqual([]);
    });

    it('queues beyond its connection limit, and close() waits for requests in flight', async () => {
      const backend = await httpBackend(secure);
      const dispatcher = make(backend.origin, { connections: 1 });
      cleanups.push(backend.close, () => dispatcher.destroy());
      backend.handle((req, res) => setTimeout(() => res.end(req.url), 30));
      const all = Promise.all(['/a', '/b', '/c'].map((path) => run(dispatcher, { path })));
      await new Promise((resolve) => setTimeout(resolve, 5));
      let closed = false;
      const closing = dispatcher.close().then(() => {
        closed = true;
      });
      const outcomes = await all;
      await closing;
      expect(closed).toBe(true);
      expect(outcomes.map((o) => o.body.toString())).toEqual(['/a', '/b', '/c']);
      expect(new Set(backend.seen.map((s) => s.remotePort)).size).toBe(1);
    });
  });
}
