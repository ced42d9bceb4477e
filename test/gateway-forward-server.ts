// A forwarding gateway in a process of its own: the tests that measure the
// gateway's memory (2 GiB bodies) run it here so that the backend and the
// client in the test process do not count, and the hot-path measurement
// (test/gateway-forward-bench.ts) runs it beside a naive undici proxy.
//
//   node test/gateway-forward-server.ts '<json config>'
//
// Config: { endpoints: [{ address, port }], protocol?: 'http1' | 'h2c',
// inbound?: 'http1' | 'h2c', policy?: ForwardPolicySpec (JSON part),
// mode?: 'forward' | 'naive' | 'fastify', http1Client?: 'pier' | 'undici' }. `naive` is the baseline a Node
// user would write: an undici Pool, pool.request() per request, headers
// copied as an object, bodies piped with pipeline(); `fastify` is
// @fastify/http-proxy as its README sets it up (the fastest Node.js proxy the
// load/ benchmark knows, on undici too). It prints one JSON line
// {"port": N, "pid": N} once listening, and exits when stdin closes or on
// SIGTERM.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { type Duplex, pipeline } from 'node:stream';
import { Pool } from 'undici';
import { forward, type InboundRequest, type InboundResponse } from '../gateway/forward/forward.ts';
import { compileForwardPolicy, type ForwardPolicySpec } from '../gateway/forward/plan.ts';
import { forwardUpgrade } from '../gateway/forward/upgrade.ts';
import { createUpstream, type Http1Client, type UpstreamProtocol } from '../gateway/upstream.ts';

export interface GatewayProcessConfig {
  endpoints: { address: string; port: number }[];
  protocol?: UpstreamProtocol;
  inbound?: 'http1' | 'h2c';
  policy?: ForwardPolicySpec;
  mode?: 'forward' | 'naive' | 'fastify';
  /** forward()'s HTTP/1.1 pool: Pier's (default) or undici's. */
  http1Client?: Http1Client;
}

const config = JSON.parse(process.argv[2] ?? '{}') as GatewayProcessConfig;

function naiveHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  const first = config.endpoints[0];
  if (first === undefined) throw new Error('naive mode needs an endpoint');
  const pool = new Pool(`http://${first.address}:${first.port}`, { connections: 128 });
  const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te']);
  return (req, res) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !hopByHop.has(name)) headers[name] = value;
    }
    pool
      .request({
        path: req.url ?? '/',
        method: req.method as 'GET',
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
      })
      .then(
        ({ statusCode, headers: upstreamHeaders, body }) => {
          if (res.destroyed) {
            // The client left while the backend answered (wrk stopping).
            body.on('error', () => {});
            body.destroy();
            return;
          }
          for (const name of hopByHop) delete upstreamHeaders[name];
          res.writeHead(statusCode, upstreamHeaders as Record<string, string>);
          pipeline(body, res, () => {});
        },
        () => {
          res.writeHead(502);
          res.end();
        },
      );
  };
}

async function fastify(): Promise<number> {
  const first = config.endpoints[0];
  if (first === undefined) throw new Error('fastify mode needs an endpoint');
  const { default: Fastify } = await import('fastify');
  const { default: proxy } = await import('@fastify/http-proxy');
  const app = Fastify({ logger: false });
  await app.register(proxy, { upstream: `http://${first.address}:${first.port}` });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

function ready(port: number): void {
  process.stdout.write(`${JSON.stringify({ port, pid: process.pid })}\n`);
  const exit = () => process.exit(0);
  process.stdin.on('end', exit);
  process.stdin.on('close', exit);
  process.stdin.resume();
  process.on('SIGTERM', exit);
}

async function main(): Promise<void> {
  if (config.mode === 'fastify') {
    ready(await fastify());
    return;
  }
  let handler: (req: InboundRequest, res: InboundResponse) => void;
  let upgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined;
  if (config.mode === 'naive') {
    handler = naiveHandler() as typeof handler;
  } else {
    const upstream = createUpstream({
      name: 'Service test/web:80',
      protocol: config.protocol,
      http1Client: config.http1Client,
    });
    upstream.setEndpoints(
      config.endpoints.map((e) => ({ ...e, ready: true, serving: true, terminating: false })),
    );
    const plan = { upstream, policy: compileForwardPolicy(config.policy) };
    handler = (req, res) => forward(req, res, plan);
    upgrade = (req, socket, head) => forwardUpgrade(req, socket, head, plan);
  }
  const server =
    config.inbound === 'h2c'
      ? http2.createServer(
          handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
        )
      : http.createServer({ keepAliveTimeout: 60_000 }, handler);
  if (upgrade !== undefined && server instanceof http.Server) server.on('upgrade', upgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ready((server.address() as AddressInfo).port);
}

await main();
