// Pier's HTTP/1.1 server engine (server.ts) against real sockets on
// 127.0.0.1, in HTTP's own notation: the exact bytes a client sends, the
// response text it gets back. The handlers get Node's IncomingMessage and
// ServerResponse, so what is checked is that they behave as node:http's do.
//
// The whole suite runs over both kinds of socket the listener hands the
// engine, because the engine reads them differently: cleartext connections
// come with own reads (withOwnReads: reads arrive through setReader, pausing
// stops the handle), TLS connections as plain stream sockets ('data'
// events). Backpressure, pipelined bytes and an upgrade's hand-over each
// take a different path in the two.

import { createHash, randomBytes } from 'node:crypto';
import {
  Agent,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClaimedBody, claimBodySplice, type SpliceError } from '../../http1/body-splice.ts';
import { socketFd } from '../../native/splice.ts';
import { describeWithSplice } from '../../native/testing.ts';
import { withOwnReads } from '../own-reads.ts';
import {
  createHttp1Server,
  type Http1ServerEvents,
  type Http1ServerOptions,
  SPLICE_MIN_BYTES,
} from './server.ts';

// --- the engine over the two socket kinds --------------------------------------------

interface Engine {
  /** Serves an accepted (paused) connection as the listener would; returns the socket served. */
  serve(accepted: Socket): Socket;
  close(): void;
}

interface Kind {
  kind: string;
  create(options: Http1ServerOptions, events: Http1ServerEvents): Engine;
}

const KINDS: Kind[] = [
  {
    kind: 'cleartext socket with own reads',
    create(options, events) {
      const engine = createHttp1Server(options, events);
      return {
        serve(accepted) {
          // serve() sets the reader itself.
          const socket = withOwnReads(accepted);
          engine.serve(socket, undefined);
          return socket;
        },
        close: () => engine.close(),
      };
    },
  },
  {
    kind: 'stream socket (as TLS sockets arrive)',
    create(options, events) {
      const engine = createHttp1Server(options, events);
      return {
        serve(accepted) {
          // serve() resumes it.
          engine.serve(accepted, undefined);
          return accepted;
        },
        close: () => engine.close(),
      };
    },
  },
];

const DEFAULTS: Http1ServerOptions = {
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 300,
  requestTimeoutMs: 600,
  keepAliveTimeoutMs: 400,
  // As the listener: h2c is served as HTTP/1.1.
  shouldUpgrade: (req) => req.headers.upgrade?.toLowerCase() !== 'h2c',
  bodySplice: true,
};

function noop(): void {}

// --- handlers --------------------------------------------------------------------------

/** What the echo handler answers. */
interface Echo {
  method: string;
  url: string;
  httpVersion: string;
  headers: Record<string, string>;
  trailers: Record<string, string>;
  bodyLength: number;
  /** The body itself when short. */
  body: string;
  sha256: string;
}

/** Reads the whole body, then answers what it saw as JSON. */
function echo(req: IncomingMessage, res: ServerResponse): void {
  const hash = createHash('sha256');
  const parts: Buffer[] = [];
  let length = 0;
  const answer = () => {
    const body = length <= 256 ? Buffer.concat(parts).toString('latin1') : '';
    const text = JSON.stringify({
      method: req.method,
      url: req.url,
      httpVersion: req.httpVersion,
      headers: req.headers,
      trailers: req.trailers,
      bodyLength: length,
      body,
      sha256: hash.digest('hex'),
    } satisfies Record<keyof Echo, unknown>);
    res.setHeader('content-type', 'application/json');
    // Set, not left to end(): node:http keeps an HTTP/1.0 connection alive only then.
    res.setHeader('content-length', Buffer.byteLength(text));
    res.end(text);
  };
  req.on('error', noop);
  // A request without a body comes already ended (no 'end' event).
  if (req.readableEnded) {
    answer();
    return;
  }
  req.on('data', (chunk: Buffer) => {
    length += chunk.length;
    hash.update(chunk);
    if (length <= 256) parts.push(chunk);
  });
  req.on('end', answer);
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The refusal the listener writes for a clientError. */
function statusFor(code: string | undefined): number {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** Records the events of a request stream (and its response) as strings. */
function recordEvents(req: IncomingMessage, res: ServerResponse, into: string[]): void {
  req.on('aborted', () => into.push('req aborted'));
  req.on('error', (error: NodeJS.ErrnoException) => into.push(`req error ${error.code}`));
  req.on('end', () => into.push('req end'));
  req.on('close', () => into.push('req close'));
  res.on('finish', () => into.push('res finish'));
  res.on('close', () => into.push('res close'));
}

// --- raw clients -------------------------------------------------------------------------

interface Response {
  status: number;
  statusLine: string;
  headers: Record<string, string>;
  body: string;
}

/** The complete responses in `text`, and the bytes after them. */
function parseResponses(text: string, closed: boolean): { responses: Response[]; rest: string } {
  const responses: Response[] = [];
  let at = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end === -1) break;
    const [statusLine, ...lines] = text.slice(at, end).split('\r\n');
    const status = Number(statusLine!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    let next = end + 4;
    let body = '';
    if (status < 200 || status === 204 || status === 304) {
      // No body.
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (text.length < next + length) break;
      body = text.slice(next, next + length);
      next += length;
    } else if (headers['transfer-encoding'] === 'chunked') {
      let complete = false;
      for (;;) {
        const eol = text.indexOf('\r\n', next);
        if (eol === -1) break;
        const size = Number.parseInt(text.slice(next, eol), 16);
        if (size === 0) {
          if (text.length < eol + 4) break;
          next = eol + 4;
          complete = true;
          break;
        }
        if (text.length < eol + 2 + size + 2) break;
        body += text.slice(eol + 2, eol + 2 + size);
        next = eol + 2 + size + 2;
      }
      if (!complete) break;
    } else {
      // Delimited by the connection's end.
      if (!closed) break;
      body = text.slice(next);
      next = text.length;
    }
    responses.push({ status, statusLine: statusLine!, headers, body });
    at = next;
  }
  return { responses, rest: text.slice(at) };
}

class Client {
  readonly socket: Socket;
  /** Everything received, as latin1. */
  text = '';
  closed = false;
  readonly #wakers = new Set<() => void>();

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.text += chunk.toString('latin1');
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', noop);
  }

  #wake(): void {
    for (const waker of [...this.#wakers]) waker();
  }

  write(data: string | Buffer): boolean {
    return this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Resolves with ready()'s value once it has one; fails if the connection closes first. */
  until<T>(what: string, ready: () => T | undefined | false, ms = 3000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(check);
      };
      const check = () => {
        const value = ready();
        if (value !== undefined && value !== false) {
          done();
          resolve(value);
        } else if (this.closed) {
          done();
          reject(new Error(`closed before ${what}; received ${JSON.stringify(this.text)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${ms} ms; received ${JSON.stringify(this.text)}`));
      }, ms);
      this.#wakers.add(check);
      check();
    });
  }

  /** The first `n` complete responses. */
  responses(n: number): Promise<Response[]> {
    return this.until(`${n} responses`, () => {
      const { responses } = parseResponses(this.text, this.closed);
      return responses.length >= n && responses.slice(0, n);
    });
  }

  /** Resolves when the connection has closed. */
  whenClosed(ms = 3000): Promise<true> {
    return this.until('close', () => this.closed, ms);
  }
}

function json(response: Response): Echo {
  return JSON.parse(response.body) as Echo;
}

// --- the suite ---------------------------------------------------------------------------

describe.each(KINDS)('HTTP/1.1 server engine, $kind', ({ kind, create }) => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  interface Server {
    port: number;
    /** Connections handed to the engine. */
    connections: number;
    /** The handlers' view: `request GET /a`, `finish /a`, `close /a`. */
    log: string[];
    requests: IncomingMessage[];
    upgrades: { url: string; head: string }[];
    connects: { url: string; head: string }[];
    clientErrors: (string | undefined)[];
  }

  async function start(
    handlers: Partial<Http1ServerEvents> = {},
    options: Partial<Http1ServerOptions> = {},
  ): Promise<Server> {
    const server: Server = {
      port: 0,
      connections: 0,
      log: [],
      requests: [],
      upgrades: [],
      connects: [],
      clientErrors: [],
    };
    const engine = create(
      { ...DEFAULTS, ...options },
      {
        request(req, res) {
          const url = req.url!;
          server.requests.push(req);
          server.log.push(`request ${req.method} ${url}`);
          res.on('finish', () => server.log.push(`finish ${url}`));
          res.on('close', () => server.log.push(`close ${url}`));
          (handlers.request ?? echo)(req, res);
        },
        upgrade(req, socket, head) {
          server.upgrades.push({ url: req.url!, head: head.toString('latin1') });
          socket.on('error', noop);
          if (handlers.upgrade !== undefined) handlers.upgrade(req, socket, head);
          else socket.destroy();
        },
        connect(req, socket, head) {
          server.connects.push({ url: req.url!, head: head.toString('latin1') });
          socket.on('error', noop);
          if (handlers.connect !== undefined) handlers.connect(req, socket, head);
          else socket.destroy();
        },
        clientError(error, socket) {
          server.clientErrors.push(error.code);
          const status = statusFor(error.code);
          socket.write(`HTTP/1.1 ${status} ${REASONS[status]}\r\nconnection: close\r\n\r\n`);
          socket.destroySoon();
        },
      },
    );
    const sockets = new Set<Socket>();
    const listener = createServer({ pauseOnConnect: true, noDelay: true }, (accepted) => {
      server.connections++;
      const socket = engine.serve(accepted);
      sockets.add(socket);
      socket.on('error', noop);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    server.port = (listener.address() as AddressInfo).port;
    cleanups.push(async () => {
      engine.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    });
    return server;
  }

  async function client(server: Server): Promise<Client> {
    const socket = connect({ port: server.port, host: '127.0.0.1', noDelay: true });
    const c = new Client(socket);
    cleanups.push(() => {
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return c;
  }

  // 1
  describe('pipelining', () => {
    it('answers requests sent in one write in order, one at a time', async () => {
      const responses = new Map<string, ServerResponse>();
      const server = await start({
        request(req, res) {
          // Which earlier responses are unfinished when this request reaches the handler.
          const unfinished = [...responses].filter(([, r]) => !r.writableFinished);
          server.log.push(`unfinished before ${req.url}: [${unfinished.map(([url]) => url)}]`);
          responses.set(req.url!, res);
          // The first answer of each batch is slow: the next request must still wait for it.
          if (req.url === '/a' || req.url === '/c') setTimeout(() => echo(req, res), 30);
          else echo(req, res);
        },
      });
      const c = await client(server);
      c.write(
        'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' +
          'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
      );
      const two = await c.responses(2);
      expect(two.map((r) => [r.status, json(r).method, json(r).url, json(r).body])).toEqual([
        [200, 'GET', '/a', ''],
        [200, 'POST', '/b', 'hello'],
      ]);

      c.write(
        'GET /c HTTP/1.1\r\nHost: x\r\n\r\n' +
          'POST /d HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' +
          'GET /e HTTP/1.1\r\nHost: x\r\n\r\n',
      );
      const five = await c.responses(5);
      expect(five.map((r) => [json(r).url, json(r).bodyLength, json(r).body])).toEqual([
        ['/a', 0, ''],
        ['/b', 5, 'hello'],
        ['/c', 0, ''],
        ['/d', 3, 'abc'],
        ['/e', 0, ''],
      ]);
      expect(server.connections).toBe(1);
      expect(server.log.filter((e) => e.startsWith('request') || e.startsWith('unfin'))).toEqual([
        'request GET /a',
        'unfinished before /a: []',
        'request POST /b',
        'unfinished before /b: []',
        'request GET /c',
        'unfinished before /c: []',
        'request POST /d',
        'unfinished before /d: []',
        'request GET /e',
        'unfinished before /e: []',
      ]);
    });
  });

  // 2
  it('reads and drops the body of a request answered without reading it, then serves the next', async () => {
    const size = 200 * 1024;
    const server = await start({
      request(req, res) {
        if (req.url === '/upload') res.end('early');
        else echo(req, res);
      },
    });
    const c = await client(server);
    c.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
    const [first] = await c.responses(1);
    expect(first!.status).toBe(200);
    expect(first!.body).toBe('early');
    expect(first!.headers.connection).toBe('keep-alive');
    c.write(
      Buffer.concat([randomBytes(size), Buffer.from('GET /second HTTP/1.1\r\nHost: x\r\n\r\n')]),
    );
    const [, second] = await c.responses(2);
    expect(second!.status).toBe(200);
    expect(json(second!)).toMatchObject({ method: 'GET', url: '/second', bodyLength: 0 });
    expect(server.requests.map((r) => r.url)).toEqual(['/upload', '/second']);
    expect(server.connections).toBe(1);
  });

  // 3
  describe('connection persistence', () => {
    it('closes an HTTP/1.0 connection without Connection: keep-alive after the response', async () => {
      const server = await start();
      const c = await client(server);
      c.write('GET /old HTTP/1.0\r\n\r\n');
      await c.whenClosed();
      const { responses, rest } = parseResponses(c.text, true);
      expect(responses).toHaveLength(1);
      expect(rest).toBe('');
      expect(responses[0]!.statusLine).toBe('HTTP/1.1 200 OK');
      expect(responses[0]!.headers.connection).toBe('close');
      expect(json(responses[0]!)).toMatchObject({ url: '/old', httpVersion: '1.0' });
    });

    it('keeps an HTTP/1.0 connection with Connection: keep-alive open for another request', async () => {
      const server = await start();
      const c = await client(server);
      c.write('GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      const [first] = await c.responses(1);
      expect(first!.headers.connection).toBe('keep-alive');
      expect(json(first!)).toMatchObject({ url: '/1', httpVersion: '1.0' });
      c.write('GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      const [, second] = await c.responses(2);
      expect(json(second!)).toMatchObject({ url: '/2', httpVersion: '1.0' });
      expect(c.closed).toBe(false);
      expect(server.connections).toBe(1);
    });

    it('closes an HTTP/1.1 connection after a response to Connection: close', async () => {
      const server = await start();
      const c = await client(server);
      c.write('GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await c.whenClosed();
      const { responses, rest } = parseResponses(c.text, true);
      expect(responses).toHaveLength(1);
      expect(rest).toBe('');
      expect(responses[0]!.headers.connection).toBe('close');
      expect(json(responses[0]!)).toMatchObject({ url: '/bye', httpVersion: '1.1' });
    });
  });

  // 4
  describe('Expect: 100-continue', () => {
    const head =
      'POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n';

    it('reaches the handler before the body; writeContinue() asks for it', async () => {
      let bodyAtCall = -1;
      const server = await start({
        request(req, res) {
          bodyAtCall = req.readableLength;
          res.writeContinue();
          echo(req, res);
        },
      });
      const c = await client(server);
      c.write(head);
      await c.until('100 Continue', () => c.text.startsWith('HTTP/1.1 100 Continue\r\n\r\n'));
      expect(server.requests).toHaveLength(1);
      expect(bodyAtCall).toBe(0);
      c.write('hello');
      const [interim, final] = await c.responses(2);
      expect(interim!.status).toBe(100);
      expect(final!.status).toBe(200);
      expect(final!.headers.connection).toBe('keep-alive');
      expect(json(final!)).toMatchObject({ bodyLength: 5, body: 'hello' });
    });

    it('closes the connection after a final answer without 100', async () => {
      const server = await start({
        request(_req, res) {
          res.statusCode = 404;
          res.end('no');
        },
      });
      const c = await client(server);
      c.write(head);
      await c.whenClosed();
      const { responses, rest } = parseResponses(c.text, true);
      expect(responses.map((r) => [r.status, r.headers.connection, r.body])).toEqual([
        [404, 'close', 'no'],
      ]);
      expect(rest).toBe('');
    });
  });

  // 5
  it('answers any other expectation with 417 without calling the handler', async () => {
    const server = await start();
    const c = await client(server);
    c.write('GET /e HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n');
    const [response] = await c.responses(1);
    expect(response!.statusLine).toBe('HTTP/1.1 417 Expectation Failed');
    expect(server.requests).toEqual([]);
    // The connection goes on.
    c.write('GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
    const [, after] = await c.responses(2);
    expect(json(after!).url).toBe('/after');
    expect(server.requests.map((r) => r.url)).toEqual(['/after']);
  });

  // 6
  describe('upgrade', () => {
    it('hands over the socket and the bytes after the head; the tunnel reads and writes', async () => {
      const tunnelled: string[] = [];
      const server = await start({
        upgrade(_req, socket) {
          socket.write(
            'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
          );
          socket.on('data', (chunk: Buffer) => {
            tunnelled.push(chunk.toString('latin1'));
            socket.write(`echo:${chunk.toString('latin1')}`);
          });
        },
      });
      const c = await client(server);
      c.write(
        'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi',
      );
      await c.until('101', () => c.text.includes('\r\n\r\n'));
      expect(c.text).toBe(
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      );
      expect(server.upgrades).toEqual([{ url: '/ws', head: '\x81\x02hi' }]);
      expect(server.requests).toEqual([]);
      c.write('later');
      await c.until('the echo', () => c.text.endsWith('echo:later'));
      expect(tunnelled).toEqual(['later']);
    });

    it('serves Upgrade: h2c as a plain request when shouldUpgrade declines it', async () => {
      const server = await start();
      const c = await client(server);
      c.write(
        'GET /h2c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n' +
          'Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
      );
      const [response] = await c.responses(1);
      expect(response!.status).toBe(200);
      expect(json(response!)).toMatchObject({ method: 'GET', url: '/h2c' });
      expect(json(response!).headers.upgrade).toBe('h2c');
      expect(server.upgrades).toEqual([]);
      expect(server.requests.map((r) => r.url)).toEqual(['/h2c']);
    });
  });

  // 7
  it('gives CONNECT to the connect event, not to request', async () => {
    const server = await start({
      connect(_req, socket) {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        socket.on('data', (chunk: Buffer) => socket.write(`tunnel:${chunk.toString('latin1')}`));
      },
    });
    const c = await client(server);
    c.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nfirst');
    await c.until('200', () => c.text.includes('\r\n\r\n'));
    expect(c.text).toBe('HTTP/1.1 200 Connection Established\r\n\r\n');
    expect(server.connects).toEqual([{ url: 'example.com:443', head: 'first' }]);
    expect(server.requests).toEqual([]);
    c.write('more');
    await c.until('the tunnel', () => c.text.endsWith('tunnel:more'));
  });

  // 8
  it('gives a chunked body whole and its trailer in req.trailers', async () => {
    const server = await start();
    const c = await client(server);
    c.write(
      'POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n' +
        '5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n',
    );
    const [response] = await c.responses(1);
    expect(json(response!)).toMatchObject({
      url: '/chunked',
      bodyLength: 11,
      body: 'hello world',
      trailers: { 'x-checksum': 'abc' },
    });
  });

  // 9
  describe('headers timeout', () => {
    it('refuses a head that comes slower than headersTimeoutMs with 408', async () => {
      const server = await start();
      const c = await client(server);
      const head = 'GET /slow HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris\r\n\r\n';
      const started = performance.now();
      for (let i = 0; i < head.length && !c.closed; i += 2) {
        c.write(head.slice(i, i + 2));
        await sleep(40);
      }
      await c.whenClosed();
      expect(performance.now() - started).toBeLessThan(head.length * 20);
      expect(server.clientErrors).toEqual(['ERR_HTTP_REQUEST_TIMEOUT']);
      expect(c.text).toBe('HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n');
      expect(server.requests).toEqual([]);
    });

    // node:http times a head from the connection's start, so a connection that
    // never sends a byte is refused too (node_http_parser.cc: "protects from a
    // DoS attack where an attacker establishes the connection without sending
    // any data"). The listener's sniff timer covers cleartext connections;
    // for a TLS connection after its handshake only the engine can.
    it('refuses a connection that sends nothing for headersTimeoutMs with 408', async () => {
      const server = await start();
      const c = await client(server);
      const started = performance.now();
      await c.whenClosed(DEFAULTS.headersTimeoutMs + 400).catch(noop);
      expect(c.closed).toBe(true);
      expect(performance.now() - started).toBeGreaterThan(DEFAULTS.headersTimeoutMs - 50);
      expect(server.clientErrors).toEqual(['ERR_HTTP_REQUEST_TIMEOUT']);
      expect(c.text).toBe('HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n');
    });
  });

  // 10
  it('refuses a request whose body stalls past requestTimeoutMs with 408', async () => {
    const events: string[] = [];
    const server = await start({
      request(req, res) {
        recordEvents(req, res, events);
        req.resume();
      },
    });
    const c = await client(server);
    const started = performance.now();
    c.write('POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789');
    await c.whenClosed();
    // The head came at once: the request timeout, not the headers timeout.
    expect(performance.now() - started).toBeGreaterThan(550);
    expect(server.clientErrors).toEqual(['ERR_HTTP_REQUEST_TIMEOUT']);
    expect(c.text).toBe('HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n');
    await expect
      .poll(() => events.includes('req close') && events.includes('res close'))
      .toBe(true);
    expect(events).toContain('req aborted');
  });

  // 11
  it('closes a connection idle past the keep-alive timeout; each request restarts the clock', async () => {
    // Closed a second after the Keep-Alive: timeout= told (server.ts, as node:http does).
    const keepAliveTimeoutMs = 100;
    const idleLimit = keepAliveTimeoutMs + 1000;
    const server = await start({}, { keepAliveTimeoutMs });
    const idle = async () => {
      const c = await client(server);
      c.write('GET /idle HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.responses(1);
      const answered = performance.now();
      await c.whenClosed(idleLimit + 1000);
      // Closed without a word: no refusal after the response.
      expect(parseResponses(c.text, true)).toMatchObject({
        responses: [{ status: 200 }],
        rest: '',
      });
      return performance.now() - answered;
    };
    const busy = async () => {
      const c = await client(server);
      // Before a first request, the keep-alive clock does not run.
      await sleep(200);
      c.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.responses(1);
      // Two pauses, each within the limit, together past it.
      for (const n of [2, 3]) {
        await sleep(idleLimit * 0.6);
        expect(c.closed).toBe(false);
        c.write(`GET /${n} HTTP/1.1\r\nHost: x\r\n\r\n`);
        await c.responses(n);
      }
      return parseResponses(c.text, false).responses.map((r) => json(r).url);
    };
    const [idleFor, served] = await Promise.all([idle(), busy()]);
    expect(idleFor).toBeGreaterThan(idleLimit - 50);
    expect(idleFor).toBeLessThan(idleLimit + 500);
    expect(served).toEqual(['/1', '/2', '/3']);
    expect(server.connections).toBe(2);
    expect(server.clientErrors).toEqual([]);
  });

  // 12
  describe('malformed requests', () => {
    it('refuses Content-Length with Transfer-Encoding with 400 before the handler', async () => {
      const server = await start();
      const c = await client(server);
      c.write(
        'POST /smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n' +
          '0\r\n\r\n',
      );
      await c.whenClosed();
      expect(server.clientErrors).toEqual(['HPE_UNEXPECTED_CONTENT_LENGTH']);
      expect(c.text).toBe('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      expect(server.requests).toEqual([]);
    });

    it('fails the request stream on a malformed chunk after the handler started', async () => {
      const events: string[] = [];
      let received = '';
      const server = await start({
        request(req, res) {
          recordEvents(req, res, events);
          req.on('data', (chunk: Buffer) => {
            received += chunk.toString('latin1');
          });
        },
      });
      const c = await client(server);
      c.write(
        'POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
      );
      await expect.poll(() => received).toBe('hello');
      c.write('zz\r\nbad\r\n');
      await c.whenClosed();
      expect(server.clientErrors).toEqual(['HPE_INVALID_CHUNK_SIZE']);
      expect(c.text).toBe('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      await expect.poll(() => events.at(-1)).toMatch(/close$/);
      await expect.poll(() => events.includes('req close')).toBe(true);
      expect(events).toContain('req aborted');
      expect(events).not.toContain('req end');
    });
  });

  // 13
  it('aborts the request and closes the response when the client leaves mid-body', async () => {
    const events: string[] = [];
    let received = 0;
    const server = await start({
      request(req, res) {
        recordEvents(req, res, events);
        req.on('data', (chunk: Buffer) => {
          received += chunk.length;
        });
      },
    });
    const c = await client(server);
    c.write(`POST /gone HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(100)}`);
    await expect.poll(() => received).toBe(100);
    c.socket.destroy();
    await expect
      .poll(() => events.includes('req close') && events.includes('res close'))
      .toBe(true);
    expect(events.filter((e) => e.startsWith('req'))).toEqual([
      'req aborted',
      'req error ECONNRESET',
      'req close',
    ]);
    expect(events.filter((e) => e.startsWith('res'))).toEqual(['res close']);
  });

  // 14
  it('stops reading while the handler has paused the request, and loses nothing', async () => {
    // Larger than what loopback's kernel buffers take in (a receive window
    // can grow to tens of MiB here), so a client still has bytes left to
    // send when the server stops reading.
    const size = 48 * 1024 * 1024;
    const body = randomBytes(size);
    let request: IncomingMessage | undefined;
    let received = 0;
    const hash = createHash('sha256');
    const server = await start({
      request(req, res) {
        request = req;
        req.on('data', (chunk: Buffer) => {
          received += chunk.length;
          hash.update(chunk);
          // Paused after the first piece, until the test resumes it.
          if (received === chunk.length) req.pause();
        });
        req.on('end', () =>
          res.end(JSON.stringify({ bodyLength: received, sha256: hash.digest('hex') })),
        );
      },
    });
    const c = await client(server);
    let drained = false;
    c.socket.on('drain', () => {
      drained = true;
    });
    const accepted = c.write(
      Buffer.concat([
        Buffer.from(`POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`),
        body,
      ]),
    );
    expect(accepted).toBe(false);
    await expect.poll(() => request?.isPaused()).toBe(true);
    const receivedWhenPaused = received;
    // For a while: the server reads nothing more, so the client cannot send it all.
    await sleep(250);
    expect(received).toBe(receivedWhenPaused);
    expect(received).toBeLessThan(size);
    expect(c.socket.writableLength).toBeGreaterThan(0);
    expect(drained).toBe(false);
    request!.resume();
    const [response] = await c.responses(1);
    expect(JSON.parse(response!.body)).toEqual({ bodyLength: size, sha256: sha256(body) });
    expect(drained).toBe(true);
  });

  it('reads the next request after a body that ended while the request stream was full', async () => {
    // The handler reads the body only later, so the whole body is buffered
    // in the request stream, over its high-water mark, when it ends. An
    // ended stream never asks for more: reading must go on for the next
    // request all the same.
    const size = 200 * 1024;
    const server = await start({
      request(req, res) {
        setTimeout(() => {
          let received = 0;
          req.on('data', (chunk: Buffer) => {
            received += chunk.length;
          });
          req.on('end', () => res.end(JSON.stringify({ bodyLength: received })));
        }, 50);
      },
    });
    const c = await client(server);
    const post = Buffer.concat([
      Buffer.from(`POST /later HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`),
      Buffer.alloc(size, 120),
    ]);
    for (let i = 1; i <= 3; i++) {
      c.write(post);
      const answers = await c.responses(i);
      expect(JSON.parse(answers[i - 1]!.body)).toEqual({ bodyLength: size });
    }
  });

  // 15
  describe("the response's close event", () => {
    it('comes once per response, after finish, on a keep-alive connection', async () => {
      const server = await start();
      const c = await client(server);
      for (const n of [1, 2]) {
        c.write(`GET /${n} HTTP/1.1\r\nHost: x\r\n\r\n`);
        await c.responses(n);
      }
      // Pipelined, and the last closes the connection.
      c.write(
        'GET /3 HTTP/1.1\r\nHost: x\r\n\r\nGET /4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      await c.whenClosed();
      expect(parseResponses(c.text, true).responses).toHaveLength(4);
      await expect.poll(() => server.log.filter((e) => e.startsWith('close')).length).toBe(4);
      // Time for a stray second close.
      await sleep(20);
      for (const url of ['/1', '/2', '/3', '/4'])
        expect(server.log.filter((e) => e.endsWith(` ${url}`))).toEqual([
          `request GET ${url}`,
          `finish ${url}`,
          `close ${url}`,
        ]);
    });
  });

  // 16
  it('serves 200 sequential requests on one keep-alive connection', async () => {
    // Node's Agent reuses a connection only when the server's Keep-Alive timeout is over a second.
    const server = await start({}, { keepAliveTimeoutMs: 5000 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: server.port, path: `/n/${i}`, agent },
          (res) => {
            let text = '';
            res.setEncoding('latin1');
            res.on('data', (chunk: string) => {
              text += chunk;
            });
            res.on('end', () => {
              if ((JSON.parse(text) as Echo).url !== `/n/${i}`) reject(new Error(text));
              else resolve(res.statusCode!);
            });
          },
        );
        req.on('error', reject);
        req.end();
      });
      statuses.push(status);
    }
    expect(statuses).toEqual(Array(200).fill(200));
    expect(server.requests).toHaveLength(200);
    expect(server.connections).toBe(1);
  });

  // 17: a large body offered for splicing (http1/body-splice.ts)

  /** A loopback connection to splice into: `into` is written, `far` collects. */
  async function sink(): Promise<{ into: Socket; received: () => Buffer; far: Socket }> {
    const chunks: Buffer[] = [];
    const listener = createServer();
    const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const into = connect((listener.address() as AddressInfo).port, '127.0.0.1');
    into.on('error', noop);
    const far = await accepted;
    far.on('error', noop);
    far.on('data', (chunk: Buffer) => chunks.push(chunk));
    cleanups.push(() => {
      into.destroy();
      far.destroy();
      listener.close();
    });
    return { into, far, received: () => Buffer.concat(chunks) };
  }

  /** Claims the body and splices it into `into`: what an upstream connection does. */
  function spliceBody(
    req: IncomingMessage,
    into: Socket,
    onDone: (error: SpliceError | null) => void,
  ): ClaimedBody | undefined {
    const claimed = claimBodySplice(req, Number(req.headers['content-length']));
    if (claimed === undefined) return undefined;
    claimed.ready((buffered) => {
      const fd = socketFd(into)!;
      into.write(buffered ?? Buffer.alloc(0), () => claimed.start(fd, onDone));
    });
    return claimed;
  }

  const post = (url: string, size: number) =>
    `POST ${url} HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`;

  /**
   * POSTs `size` random bytes to an echo handler that tries to claim the
   * body for splicing with each length in `before` (then reads it) and in
   * `after`: what each claim got, and the body's hashes sent and echoed.
   */
  async function claimsOnPost(
    size: number,
    lengths: { before: number[]; after?: number[] },
    options: Partial<Http1ServerOptions> = {},
  ): Promise<{ claims: (ClaimedBody | undefined)[]; sent: string; echoed: string }> {
    const claims: (ClaimedBody | undefined)[] = [];
    const server = await start(
      {
        request(req, res) {
          for (const length of lengths.before) claims.push(claimBodySplice(req, length));
          echo(req, res);
          for (const length of lengths.after ?? []) claims.push(claimBodySplice(req, length));
        },
      },
      options,
    );
    const c = await client(server);
    const body = randomBytes(size);
    c.write(Buffer.concat([Buffer.from(post('/big', size)), body]));
    const [response] = await c.responses(1);
    return { claims, sent: sha256(body), echoed: json(response!).sha256 };
  }

  if (kind !== KINDS[0]!.kind) {
    it('offers no splice: the body is read as a stream', async () => {
      const { claims, sent, echoed } = await claimsOnPost(SPLICE_MIN_BYTES, {
        before: [SPLICE_MIN_BYTES],
      });
      expect(echoed).toBe(sent);
      expect(claims).toEqual([undefined]);
    });
    return;
  }

  describeWithSplice('a large body offered for splicing', () => {
    it('moves the whole body by the kernel, ends the request stream and serves the next request', async () => {
      const size = 3 * 1024 * 1024;
      const body = randomBytes(size);
      const { into, received } = await sink();
      const outcomes: (string | null)[] = [];
      const events: string[] = [];
      const server = await start({
        request(req, res) {
          if (req.url !== '/big') return echo(req, res);
          recordEvents(req, res, events);
          const claimed = spliceBody(req, into, (error) => {
            outcomes.push(error === null ? null : error.code);
            res.end('spliced');
          });
          expect(claimed).toBeDefined();
          // Listening now reads nothing: the body never passes through the stream.
          req.on('data', (chunk: Buffer) => events.push(`req data ${chunk.length}`));
        },
      });
      const c = await client(server);
      // Body and the next request in one stream of bytes: the kernel takes exactly the body.
      c.write(
        Buffer.concat([
          Buffer.from(post('/big', size)),
          body,
          Buffer.from('GET /next HTTP/1.1\r\nHost: x\r\n\r\n'),
        ]),
      );
      const [first, second] = await c.responses(2);
      expect(first!.body).toBe('spliced');
      expect(first!.headers.connection).toBe('keep-alive');
      expect(json(second!)).toMatchObject({ url: '/next', bodyLength: 0 });
      expect(outcomes).toEqual([null]);
      await expect.poll(() => received().length).toBe(size);
      expect(sha256(received())).toBe(sha256(body));
      // No data event: the body never passed through the stream; it ended all the same.
      await expect.poll(() => events.length).toBe(4);
      expect(events.slice(0, 2)).toEqual(['req end', 'res finish']);
      expect(events.slice(2).sort()).toEqual(['req close', 'res close']);
      expect(server.connections).toBe(1);
    });

    it('is not offered to a claim of another length, nor once the body is read as a stream', async () => {
      const { claims, sent, echoed } = await claimsOnPost(SPLICE_MIN_BYTES, {
        before: [SPLICE_MIN_BYTES + 1],
        after: [SPLICE_MIN_BYTES],
      });
      expect(echoed).toBe(sent);
      expect(claims).toEqual([undefined, undefined]);
    });

    it('is not offered when bodySplice is off', async () => {
      const { claims } = await claimsOnPost(
        SPLICE_MIN_BYTES,
        { before: [SPLICE_MIN_BYTES] },
        { bodySplice: false },
      );
      expect(claims).toEqual([undefined]);
    });

    it('is not offered for a body under SPLICE_MIN_BYTES', async () => {
      const { claims } = await claimsOnPost(SPLICE_MIN_BYTES - 1, {
        before: [SPLICE_MIN_BYTES - 1],
      });
      expect(claims).toEqual([undefined]);
    });

    it('aborts the request and closes the connection when the client leaves mid-splice', async () => {
      const { into } = await sink();
      const events: string[] = [];
      const outcomes: string[] = [];
      const server = await start({
        request(req, res) {
          recordEvents(req, res, events);
          spliceBody(req, into, (error) => outcomes.push(`${error?.code} ${error?.side}`));
        },
      });
      const c = await client(server);
      c.write(post('/big', 1024 * 1024) + 'x'.repeat(200 * 1024));
      await sleep(50);
      c.socket.end();
      await expect.poll(() => outcomes).toEqual(['ECONNRESET source']);
      await expect.poll(() => events.includes('res close')).toBe(true);
      expect(events.filter((e) => e.startsWith('req'))).toEqual([
        'req aborted',
        'req error ECONNRESET',
        'req close',
      ]);
      await c.whenClosed();
      expect(server.requests).toHaveLength(1);
    });

    it('closes the connection after the response when the splice is cancelled', async () => {
      const { into } = await sink();
      const outcomes: string[] = [];
      const server = await start({
        request(req, res) {
          const claimed = spliceBody(req, into, (error) => {
            outcomes.push(`${error?.code} ${error?.side}`);
            // As the gateway answers a backend that failed mid-body.
            res.statusCode = 502;
            res.end('backend gone');
          });
          setTimeout(() => claimed!.cancel(), 30);
        },
      });
      const c = await client(server);
      c.write(post('/big', 1024 * 1024) + 'x'.repeat(100 * 1024));
      const [response] = await c.responses(1);
      expect(response!.status).toBe(502);
      expect(response!.headers.connection).toBe('close');
      expect(outcomes).toEqual(['ECANCELED cancelled']);
      await c.whenClosed();
    });

    it('refuses with 408 a held body that no one reads past requestTimeoutMs', async () => {
      const server = await start({ request() {} }, { requestTimeoutMs: 300 });
      const c = await client(server);
      c.write(post('/ignored', 1024 * 1024) + 'x'.repeat(100 * 1024));
      const [response] = await c.responses(1);
      expect(response!.status).toBe(408);
      await c.whenClosed();
    });
  });
});
