// gRPC end to end: clients speak HTTP/2 (h2c) to the gateway, the gateway
// speaks h2c to a node:http2 backend that behaves like a gRPC server
// (length-prefixed messages, grpc-status in trailers). curl with
// --http2-prior-knowledge for unary calls, node:http2 for a bidirectional
// stream; gateway errors arrive as gRPC statuses.

import http2 from 'node:http2';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ForwardPolicySpec } from '../gateway/forward/plan.ts';
import type { EndpointAddress } from '../gateway/upstream.ts';
import {
  Cleanup,
  curl,
  deadPort,
  endpoint,
  listen,
  missingBinary,
  planOf,
  requireBinary,
  skipFor,
  startH2Gateway,
  upstreamOf,
} from './gateway-forward-fixtures.ts';

const missing = missingBinary('curl');

/** A gRPC message: compressed flag 0, 4-byte length, payload. */
function message(text: string): Buffer {
  const payload = Buffer.from(text);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** Splits complete messages off `buffer`. */
function messages(buffer: Buffer): { texts: string[]; rest: Buffer } {
  const texts: string[] = [];
  let at = 0;
  while (buffer.length - at >= 5) {
    const len = buffer.readUInt32BE(at + 1);
    if (buffer.length - at - 5 < len) break;
    texts.push(buffer.toString('utf8', at + 5, at + 5 + len));
    at += 5 + len;
  }
  return { texts, rest: buffer.subarray(at) };
}

interface GrpcBackend {
  port: number;
  endpoint: EndpointAddress;
  calls: http2.IncomingHttpHeaders[];
}

/**
 * /pier.test.Echo/Unary    the messages joined and upper-cased, then grpc-status 0
 * /pier.test.Echo/Stream   each message back as soon as it arrives (bidi)
 * /pier.test.Echo/Missing  grpc-status 5 (NOT_FOUND) in trailers after one message
 * /pier.test.Echo/Slow     answers after 3 s
 */
async function startGrpcBackend(cleanup: Cleanup): Promise<GrpcBackend> {
  const server = http2.createServer();
  const calls: http2.IncomingHttpHeaders[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  cleanup.add(() => {
    for (const s of sessions) s.destroy();
  });
  server.on('stream', (stream, headers) => {
    calls.push(headers);
    const path = String(headers[':path']);
    let pending: Buffer = Buffer.alloc(0);
    const received: string[] = [];
    const respond = () => {
      if (!stream.headersSent) {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'x-backend': 'grpc' },
          { waitForTrailers: true },
        );
      }
    };
    const trailers = (status: number, text: string) => {
      stream.once('wantTrailers', () =>
        stream.sendTrailers({ 'grpc-status': String(status), 'grpc-message': text }),
      );
    };
    stream.on('error', () => {});
    if (path === '/pier.test.Echo/Slow') {
      const timer = setTimeout(() => {
        respond();
        trailers(0, 'late');
        stream.end();
      }, 3000);
      stream.once('close', () => clearTimeout(timer));
      stream.resume();
      return;
    }
    stream.on('data', (chunk: Buffer) => {
      const { texts, rest } = messages(Buffer.concat([pending, chunk]));
      pending = rest;
      if (path === '/pier.test.Echo/Stream') {
        respond();
        for (const t of texts) stream.write(message(`echo ${t}`));
      } else {
        received.push(...texts);
      }
    });
    stream.once('end', () => {
      respond();
      if (path === '/pier.test.Echo/Missing') {
        trailers(5, 'no such thing');
        stream.end(message('partial'));
      } else if (path === '/pier.test.Echo/Unary') {
        trailers(0, 'ok');
        stream.end(message(received.join(' ').toUpperCase()));
      } else {
        trailers(0, 'stream done');
        stream.end();
      }
    });
  });
  const port = await listen(server, cleanup);
  return { port, endpoint: endpoint(port), calls };
}

/** curl's -i output of a gRPC call: trailers come as header lines after the body. */
function trailersOf(body: string): { data: Buffer; trailers: Record<string, string> } {
  const raw = Buffer.from(body, 'latin1');
  const { rest } = messages(raw);
  const data = raw.subarray(0, raw.length - rest.length);
  const trailers: Record<string, string> = {};
  for (const line of rest.toString('latin1').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) trailers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { data, trailers };
}

function grpcCurl(url: string, body: Buffer): ReturnType<typeof curl> {
  return curl(
    [
      '--http2-prior-knowledge',
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      '--data-binary',
      '@-',
      url,
    ],
    body,
  );
}

describe.skipIf(skipFor(missing))('gRPC through forward() over h2c', () => {
  let cleanup: Cleanup;
  beforeAll(() => requireBinary(missing));
  afterEach(async () => {
    await cleanup.run();
  });

  async function gateway(endpoints: EndpointAddress[], spec: ForwardPolicySpec = {}) {
    const upstream = upstreamOf(cleanup, endpoints, { protocol: 'h2c' });
    const gw = await startH2Gateway(cleanup, planOf(upstream, spec));
    return { upstream, url: `http://127.0.0.1:${gw.port}` };
  }

  it('passes a unary call and its trailers end to end (curl)', async () => {
    cleanup = new Cleanup();
    const backend = await startGrpcBackend(cleanup);
    const { url } = await gateway([backend.endpoint]);
    const r = await grpcCurl(`${url}/pier.test.Echo/Unary`, message('hello'));
    expect(r.exitCode).toBe(0);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/grpc');
    expect(r.headers['x-backend']).toBe('grpc');
    const { data, trailers } = trailersOf(r.body);
    expect(messages(data).texts).toEqual(['HELLO']);
    expect(trailers).toEqual({ 'grpc-status': '0', 'grpc-message': 'ok' });

    const call = backend.calls[0]!;
    expect(call[':method']).toBe('POST');
    expect(call[':path']).toBe('/pier.test.Echo/Unary');
    expect(call.te).toBe('trailers');
    expect(call['content-type']).toBe('application/grpc');
    expect(call['x-forwarded-for']).toBe('127.0.0.1');
  });

  it("passes a backend's error status in trailers", async () => {
    cleanup = new Cleanup();
    const backend = await startGrpcBackend(cleanup);
    const { url } = await gateway([backend.endpoint]);
    const r = await grpcCurl(`${url}/pier.test.Echo/Missing`, message('x'));
    const { data, trailers } = trailersOf(r.body);
    expect(messages(data).texts).toEqual(['partial']);
    expect(trailers).toEqual({ 'grpc-status': '5', 'grpc-message': 'no such thing' });
  });

  it('streams both ways: each reply arrives before the client sends its next message', async () => {
    cleanup = new Cleanup();
    const backend = await startGrpcBackend(cleanup);
    const { url } = await gateway([backend.endpoint]);
    const client = http2.connect(url);
    cleanup.add(() => client.destroy());
    const stream = client.request({
      ':method': 'POST',
      ':path': '/pier.test.Echo/Stream',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let pending: Buffer = Buffer.alloc(0);
    const replies: string[] = [];
    let wake: (() => void) | undefined;
    stream.on('data', (chunk: Buffer) => {
      const { texts, rest } = messages(Buffer.concat([pending, chunk]));
      pending = rest;
      replies.push(...texts);
      wake?.();
    });
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) =>
      stream.once('trailers', resolve),
    );
    const nextReply = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (replies.length >= count) resolve();
          else wake = check;
        };
        check();
      });
    for (let i = 1; i <= 5; i++) {
      stream.write(message(`m${i}`));
      await nextReply(i);
    }
    stream.end();
    const t = await trailers;
    expect(replies).toEqual(['echo m1', 'echo m2', 'echo m3', 'echo m4', 'echo m5']);
    expect(t['grpc-status']).toBe('0');
    expect(t['grpc-message']).toBe('stream done');
  });

  it('answers gateway errors as gRPC statuses', async () => {
    cleanup = new Cleanup();
    const backend = await startGrpcBackend(cleanup);
    const none = await gateway([]);
    const r1 = await grpcCurl(`${none.url}/pier.test.Echo/Unary`, message('x'));
    expect(r1.status).toBe(200);
    expect(r1.headers['grpc-status']).toBe('14');
    expect(r1.headers['x-pier-error']).toBe('PIER_GW_NO_ENDPOINTS');

    const dead = await gateway([endpoint(await deadPort())]);
    const r2 = await grpcCurl(`${dead.url}/pier.test.Echo/Unary`, message('x'));
    expect(r2.headers['grpc-status']).toBe('14');
    expect(r2.headers['x-pier-error']).toBe('PIER_GW_UPSTREAM_CONNECT');

    const slow = await gateway([backend.endpoint], { timeouts: { backendRequestMs: 200 } });
    const r3 = await grpcCurl(`${slow.url}/pier.test.Echo/Slow`, message('x'));
    expect(r3.headers['grpc-status']).toBe('4');
    expect(decodeURIComponent(r3.headers['grpc-message'] ?? '')).toBe(
      'upstream request timeout (PIER_GW_UPSTREAM_TIMEOUT)',
    );
  });
});
