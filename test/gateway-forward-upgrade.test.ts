// forwardUpgrade(): WebSocket (and other HTTP/1.1 Upgrades) through the
// gateway to a WebSocket echo backend built on node:http's 'upgrade' event,
// with Node's own WebSocket client and with raw sockets where the exact
// bytes matter (data sent with the handshake, refusals).

import { createHash } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ForwardPolicySpec, ForwardResult } from '../gateway/forward/plan.ts';
import { isValidTraceparent } from '../gateway/forward/traceparent.ts';
import type { EndpointAddress } from '../gateway/upstream.ts';
import {
  Cleanup,
  deadPort,
  endpoint,
  eventually,
  listen,
  planOf,
  rawConnection,
  sleep,
  startGateway,
  trackSockets,
  upstreamOf,
} from './gateway-forward-fixtures.ts';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function acceptKey(key: string): string {
  return createHash('sha1').update(`${key}${WS_GUID}`).digest('base64');
}

/** One WebSocket frame (RFC 6455 section 5.2); `mask` for client frames. */
function frame(opcode: number, payload: Buffer, mask?: Buffer): Buffer {
  const len = payload.length;
  const head: number[] = [0x80 | opcode];
  const maskBit = mask === undefined ? 0 : 0x80;
  if (len < 126) head.push(maskBit | len);
  else if (len < 65536) head.push(maskBit | 126, len >> 8, len & 255);
  else {
    head.push(maskBit | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255);
  }
  if (mask === undefined) return Buffer.concat([Buffer.from(head), payload]);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([Buffer.from(head), mask, masked]);
}

/** Parses complete frames off the front of `buffer`; returns them and the rest. */
function parseFrames(buffer: Buffer): {
  frames: { opcode: number; payload: Buffer }[];
  rest: Buffer;
} {
  const frames: { opcode: number; payload: Buffer }[] = [];
  let at = 0;
  for (;;) {
    if (buffer.length - at < 2) break;
    const opcode = buffer[at]! & 0x0f;
    const masked = (buffer[at + 1]! & 0x80) !== 0;
    let len = buffer[at + 1]! & 0x7f;
    let p = at + 2;
    if (len === 126) {
      if (buffer.length < p + 2) break;
      len = buffer.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (buffer.length < p + 8) break;
      len = Number(buffer.readBigUInt64BE(p));
      p += 8;
    }
    const maskKey = masked ? buffer.subarray(p, p + 4) : undefined;
    if (masked) p += 4;
    if (buffer.length < p + len) break;
    const payload = Buffer.from(buffer.subarray(p, p + len));
    if (maskKey !== undefined) for (let i = 0; i < len; i++) payload[i]! ^= maskKey[i % 4]!;
    frames.push({ opcode, payload });
    at = p + len;
  }
  return { frames, rest: buffer.subarray(at) };
}

interface EchoServer {
  port: number;
  endpoint: EndpointAddress;
  upgrades: IncomingMessage[];
  sockets: Set<Duplex>;
}

/** A WebSocket echo server: every data frame comes back unmasked; close is answered. */
async function startEcho(cleanup: Cleanup): Promise<EchoServer> {
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('upgrade required\n');
  });
  trackSockets(server);
  const upgrades: IncomingMessage[] = [];
  const sockets = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrades.push(req);
    if (req.url === '/forbidden') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\n\r\nforbidden\n');
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const key = req.headers['sec-websocket-key'] ?? '';
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptKey(key)}\r\nX-Echo: yes\r\n\r\n`,
    );
    let pending = head;
    const onData = (data: Buffer) => {
      const { frames, rest } = parseFrames(Buffer.concat([pending, data]));
      pending = rest;
      for (const f of frames) {
        if (f.opcode === 0x8) {
          socket.end(frame(0x8, f.payload));
          return;
        }
        if (f.opcode === 0x9) socket.write(frame(0xa, f.payload));
        else if (f.opcode === 0x1 || f.opcode === 0x2) socket.write(frame(f.opcode, f.payload));
      }
    };
    socket.on('data', onData);
    // A peer's FIN is answered with ours, as WebSocket servers do.
    socket.once('end', () => socket.end());
    if (head.length > 0) onData(Buffer.alloc(0));
  });
  const port = await listen(server, cleanup);
  return { port, endpoint: endpoint(port), upgrades, sockets };
}

function openWebSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
  });
}

function nextMessage(ws: WebSocket): Promise<string | Buffer> {
  return new Promise((resolve) => {
    ws.addEventListener(
      'message',
      (event) => {
        const data = event.data as string | ArrayBuffer;
        resolve(typeof data === 'string' ? data : Buffer.from(data));
      },
      { once: true },
    );
  });
}

const UPGRADE_HEAD =
  'GET /chat HTTP/1.1\r\nHost: gw.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

describe('forwardUpgrade()', () => {
  let cleanup: Cleanup;
  afterEach(async () => {
    await cleanup.run();
  });

  async function gateway(endpoints: EndpointAddress[], spec: ForwardPolicySpec = {}) {
    const results: ForwardResult[] = [];
    const upstream = upstreamOf(cleanup, endpoints);
    const observer = {
      onResponse(r: ForwardResult) {
        results.push({ ...r, endpoint: r.endpoint });
      },
    };
    const gw = await startGateway(cleanup, planOf(upstream, { ...spec, observer }));
    return { upstream, results, port: gw.port };
  }

  it('carries a WebSocket session both ways and counts it in flight until it closes', async () => {
    cleanup = new Cleanup();
    const echo = await startEcho(cleanup);
    const { upstream, results, port } = await gateway([echo.endpoint]);
    const ws = await openWebSocket(`ws://127.0.0.1:${port}/chat?room=1`);
    cleanup.add(() => ws.close());

    const text = nextMessage(ws);
    ws.send('hello through pier');
    expect(await text).toBe('hello through pier');
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 255;
    const binary = nextMessage(ws);
    ws.send(big);
    expect(Buffer.compare((await binary) as Buffer, big)).toBe(0);

    const req = echo.upgrades[0]!;
    expect(req.url).toBe('/chat?room=1');
    expect(req.headers.upgrade).toBe('websocket');
    expect(req.headers.connection?.toLowerCase()).toBe('upgrade');
    expect(req.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(isValidTraceparent(String(req.headers.traceparent))).toBe(true);
    expect(upstream.status()[0]?.active).toBe(1);

    ws.close(1000, 'bye');
    await eventually(() => echo.sockets.size === 0 && results.length === 1);
    expect(upstream.status()[0]?.active).toBe(0);
    expect(results[0]).toMatchObject({ status: 101, attempts: 1, errorCode: undefined });
    expect(results[0]!.bytesSent).toBeGreaterThan(big.length);
    expect(results[0]!.bytesReceived).toBeGreaterThan(big.length);
  });

  it('passes on bytes the client sent with the handshake, and the 101 head', async () => {
    cleanup = new Cleanup();
    const echo = await startEcho(cleanup);
    const { port } = await gateway([echo.endpoint]);
    const conn = await rawConnection(port, cleanup);
    const mask = Buffer.from([1, 2, 3, 4]);
    conn.socket.write(
      Buffer.concat([Buffer.from(UPGRADE_HEAD, 'latin1'), frame(0x1, Buffer.from('early'), mask)]),
    );
    const got = await conn.until('early');
    const [head, body] = got.split('\r\n\r\n') as [string, string];
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    const lines = head.toLowerCase().split('\r\n');
    expect(lines).toContain('upgrade: websocket');
    expect(lines).toContain('connection: upgrade');
    expect(lines).toContain(
      `sec-websocket-accept: ${acceptKey('dGhlIHNhbXBsZSBub25jZQ==').toLowerCase()}`,
    );
    expect(lines).toContain('x-echo: yes');
    expect(parseFrames(Buffer.from(body, 'latin1')).frames).toEqual([
      { opcode: 1, payload: Buffer.from('early') },
    ]);
  });

  it('relays a refusal from the backend and closes the connection', async () => {
    cleanup = new Cleanup();
    const echo = await startEcho(cleanup);
    const { results, port } = await gateway([echo.endpoint]);
    const conn = await rawConnection(port, cleanup);
    conn.socket.write(UPGRADE_HEAD.replace('/chat', '/forbidden'));
    const got = await conn.until('forbidden\n');
    expect(got).toMatch(/^HTTP\/1\.1 403 /);
    expect(got.toLowerCase()).toContain('connection: close');
    await eventually(() => conn.socket.destroyed || conn.socket.readableEnded);
    await eventually(() => results.length === 1);
    expect(results[0]?.status).toBe(403);
  });

  it('answers from the error table: refused protocols, no endpoints, connect failures', async () => {
    cleanup = new Cleanup();
    const echo = await startEcho(cleanup);
    const onlyWs = await gateway([echo.endpoint], { upgrades: ['websocket'] });
    const refused = await rawConnection(onlyWs.port, cleanup);
    refused.socket.write(UPGRADE_HEAD.replace('Upgrade: websocket', 'Upgrade: foo/2'));
    expect(await refused.until('(PIER_GW_UPGRADE_REJECTED)\n')).toMatch(/^HTTP\/1\.1 400 /);

    // h2c is never passed through, whatever the policy.
    const any = await gateway([echo.endpoint]);
    const h2c = await rawConnection(any.port, cleanup);
    h2c.socket.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
    );
    expect(await h2c.until('(PIER_GW_UPGRADE_REJECTED)\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(echo.upgrades).toHaveLength(0);

    const none = await gateway([]);
    const noEndpoints = await rawConnection(none.port, cleanup);
    noEndpoints.socket.write(UPGRADE_HEAD);
    expect(await noEndpoints.until('(PIER_GW_NO_ENDPOINTS)\n')).toMatch(/^HTTP\/1\.1 503 /);

    const dead = await gateway([endpoint(await deadPort())]);
    const connect = await rawConnection(dead.port, cleanup);
    connect.socket.write(UPGRADE_HEAD);
    expect(await connect.until('(PIER_GW_UPSTREAM_CONNECT)\n')).toMatch(/^HTTP\/1\.1 502 /);
  });

  it('closes the backend side when the client goes away', async () => {
    cleanup = new Cleanup();
    const echo = await startEcho(cleanup);
    const { upstream, port } = await gateway([echo.endpoint]);
    const conn = await rawConnection(port, cleanup);
    conn.socket.write(UPGRADE_HEAD);
    await conn.until('\r\n\r\n');
    expect(echo.sockets.size).toBe(1);
    conn.socket.destroy();
    await eventually(() => echo.sockets.size === 0);
    await eventually(() => upstream.status()[0]?.active === 0);
  });
  it('keeps a tunnel open when its endpoint is removed from the set', async () => {
    cleanup = new Cleanup();
    const echo = await startEcho(cleanup);
    const { upstream, port } = await gateway([echo.endpoint]);
    const ws = await openWebSocket(`ws://127.0.0.1:${port}/chat`);
    cleanup.add(() => ws.close());
    upstream.setEndpoints([]);
    await sleep(50);
    const reply = nextMessage(ws);
    ws.send('still here');
    expect(await reply).toBe('still here');
    ws.close();
    await eventually(() => echo.sockets.size === 0);
  });
});
