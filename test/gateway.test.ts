// The gateway end to end with real clients: curl over HTTP/1.1, h2c (upgrade
// and prior knowledge) and TLS with SNI (exact, wildcard and catch-all
// certificates made by openssl here), a WebSocket client, a gRPC client
// (node:http2 with gRPC framing and trailers), and changes to routes,
// endpoints, certificates and listeners under a steady stream of requests
// that must see zero errors.

import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect as connectH2 } from 'node:http2';
import { connect as connectTcp, createServer as createNetServer } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { Agent, Pool, request, WebSocket } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type Backend,
  type CertificateAuthority,
  createCertificateAuthority,
  curl,
  curlMissing,
  describeWithTools,
  echoOf,
  endpointSliceYaml,
  freePort,
  type KeyPair,
  type LiveGateway,
  LOOPBACK,
  objectsOf,
  opensslMissing,
  rawRequest,
  serviceYaml,
  startEchoBackend,
  startGateway,
  startGrpcBackend,
  tlsSecretYaml,
} from './gateway-harness.ts';

let a1: Backend;
let a2: Backend;
let b: Backend;
let grpc: Backend;
let ca: CertificateAuthority;
let certs: { exact: KeyPair; wild: KeyPair; fallback: KeyPair };
let live: LiveGateway;
let httpPort: number;
let httpsPort: number;

const NS = 'gw';

function gatewayYaml(extraListeners = ''): string {
  return `apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: pier }
spec: { controllerName: pier.dev/gateway }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: ${NS} }
spec:
  gatewayClassName: pier
  listeners:
    - { name: http, protocol: HTTP, port: ${httpPort} }
    - name: https-exact
      protocol: HTTPS
      port: ${httpsPort}
      hostname: secure.example.com
      tls: { mode: Terminate, certificateRefs: [{ name: exact }] }
    - name: https-wild
      protocol: HTTPS
      port: ${httpsPort}
      hostname: "*.wild.example.com"
      tls: { mode: Terminate, certificateRefs: [{ name: wild }] }
    - name: https-any
      protocol: HTTPS
      port: ${httpsPort}
      tls: { mode: Terminate, certificateRefs: [{ name: fallback }] }
${extraListeners}`;
}

const routesYaml = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: ${NS} }
spec:
  parentRefs: [{ name: edge }]
  hostnames: [www.example.com, secure.example.com, "*.wild.example.com", default.example.com]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /a } }]
      backendRefs: [{ name: a, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /b } }]
      backendRefs: [{ name: b, port: 80 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: rpc, namespace: ${NS} }
spec:
  parentRefs: [{ name: edge, sectionName: http }]
  hostnames: [grpc.example.com]
  rules:
    - matches: [{ method: { service: pier.test.Echo } }]
      backendRefs: [{ name: grpc, port: 80 }]`;

const routeC = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: extra, namespace: ${NS} }
spec:
  parentRefs: [{ name: edge, sectionName: http }]
  hostnames: [www.example.com]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /c } }]
      backendRefs: [{ name: b, port: 80 }]`;

beforeAll(async () => {
  if (curlMissing !== undefined || opensslMissing !== undefined) return;
  [a1, a2, b, grpc] = await Promise.all([
    startEchoBackend('a1'),
    startEchoBackend('a2'),
    startEchoBackend('b'),
    startGrpcBackend('grpc'),
  ]);
  ca = createCertificateAuthority();
  certs = {
    exact: ca.issue(['secure.example.com']),
    wild: ca.issue(['*.wild.example.com']),
    fallback: ca.issue(['default.example.com']),
  };
  [httpPort, httpsPort] = await Promise.all([freePort(), freePort()]);
  live = await startGateway(
    [
      gatewayYaml(),
      routesYaml,
      serviceYaml(NS, 'a', [a1.port]),
      serviceYaml(NS, 'b', [b.port]),
      serviceYaml(NS, 'grpc', [grpc.port], 'kubernetes.io/h2c'),
      tlsSecretYaml(NS, 'exact', certs.exact),
      tlsSecretYaml(NS, 'wild', certs.wild),
      tlsSecretYaml(NS, 'fallback', certs.fallback),
    ].join('\n---\n'),
  );
});

afterAll(async () => {
  await live?.close(500);
  await Promise.all([a1, a2, b, grpc].map((x) => x?.close()));
  ca?.remove();
});

const http = (path: string, host = 'www.example.com') => [
  '-H',
  `Host: ${host}`,
  `http://${LOOPBACK}:${httpPort}${path}`,
];
const https = (host: string, path: string) => [
  '--cacert',
  ca.caFile,
  '--resolve',
  `${host}:${httpsPort}:${LOOPBACK}`,
  `https://${host}:${httpsPort}${path}`,
];

/** An undici dispatcher that connects every origin to the gateway's HTTP port (Host stays the URL's). */
function toGateway(port: () => number): Agent {
  return new Agent({
    connect: (_options, callback) => {
      const socket = connectTcp(port(), LOOPBACK);
      socket.once('connect', () => callback(null, socket));
      socket.once('error', (error) => callback(error, null));
    },
  });
}

function fingerprint(pair: KeyPair): string {
  return new X509Certificate(pair.cert).fingerprint256;
}

/** The fingerprint of the certificate a new TLS connection for `servername` is shown. */
function presented(servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls(
      { host: LOOPBACK, port: httpsPort, servername, ca: readFileSync(ca.caFile) },
      () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.destroy();
      },
    );
    socket.once('error', reject);
  });
}

/** DNS for the test's names: every name is the gateway on loopback. */
const loopbackLookup = ((
  _host: string,
  options: { all?: boolean },
  callback: (...args: unknown[]) => void,
) => {
  if (options.all === true) callback(null, [{ address: LOOPBACK, family: 4 }]);
  else callback(null, LOOPBACK, 4);
}) as never;

describeWithTools('gateway with real clients', [curlMissing, opensslMissing], () => {
  it('serves HTTP/1.1 by Host and path, with forwarding headers and a trace', async () => {
    const r = await curl(http('/a/x?q=1'));
    expect(r.status).toBe(200);
    expect(r.version).toBe('1.1');
    const echo = echoOf(r);
    expect(echo.server).toBe('a1');
    expect(echo.path).toBe('/a/x?q=1');
    expect(echo.headers.host).toBe('www.example.com');
    expect(echo.headers['x-forwarded-for']).toBe(LOOPBACK);
    expect(echo.headers['x-forwarded-proto']).toBe('http');
    expect(String(echo.headers.traceparent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(echoOf(await curl(http('/b'))).server).toBe('b');
    const line = live.access.find((l) => l.path === '/a/x?q=1');
    expect(line).toMatchObject({
      route: 'HTTPRoute gw/web rule 0',
      service: 'gw/a:80',
      endpoint: `${LOOPBACK}:${a1.port}`,
      status: 200,
      error: null,
    });
  });

  it('answers 404 without a matching route, and for a Host no route claims', async () => {
    const r = await curl(http('/nothing'));
    expect(r.status).toBe(404);
    expect(r.body).toContain('PIER_GW_NO_ROUTE');
    expect((await curl(http('/a', 'elsewhere.example.org'))).status).toBe(404);
  });

  it('serves curl --http2 (an h2c upgrade request) as HTTP/1.1', async () => {
    const r = await curl(['--http2', ...http('/a')]);
    expect(r.status).toBe(200);
    expect(r.version).toBe('1.1');
    expect(echoOf(r).server).toBe('a1');
  });

  it('serves curl --http2-prior-knowledge on the same port as HTTP/2', async () => {
    const r = await curl(['--http2-prior-knowledge', ...http('/b/y')]);
    expect(r.status).toBe(200);
    expect(r.version).toBe('2');
    const echo = echoOf(r);
    expect(echo.server).toBe('b');
    expect(echo.headers.host).toBe('www.example.com');
  });

  it('terminates TLS with the certificate the SNI names: exact, wildcard, catch-all; ALPN h2 and http/1.1', async () => {
    // curl verifies the certificate against the name: a wrong pick fails with exit 60.
    const exact = await curl(https('secure.example.com', '/a'));
    expect(exact).toMatchObject({ status: 200, version: '2', exit: 0 });
    expect(echoOf(exact).headers['x-forwarded-proto']).toBe('https');
    const h1 = await curl(['--http1.1', ...https('secure.example.com', '/b')]);
    expect(h1).toMatchObject({ status: 200, version: '1.1', exit: 0 });
    expect(echoOf(h1).server).toBe('b');
    const wild = await curl(https('api.wild.example.com', '/a'));
    expect(wild).toMatchObject({ status: 200, exit: 0 });
    const any = await curl(https('default.example.com', '/a'));
    expect(any).toMatchObject({ status: 200, exit: 0 });
  });

  it('answers 421 when the Host is served by another listener than the SNI', async () => {
    const r = await curl([
      ...https('secure.example.com', '/a'),
      '-H',
      'Host: api.wild.example.com',
    ]);
    expect(r.status).toBe(421);
    expect(r.body).toContain('PIER_GW_MISDIRECTED_REQUEST');
  });

  it('routes gRPC by service and method over h2c, with trailers, and answers UNIMPLEMENTED without a route', async () => {
    const session = connectH2(`http://${LOOPBACK}:${httpPort}`);
    try {
      const call = (path: string) =>
        new Promise<{
          status: number;
          body: Buffer;
          trailers: Record<string, unknown>;
          headers: Record<string, unknown>;
        }>((resolve, reject) => {
          const message = Buffer.from('ping');
          const frame = Buffer.alloc(5 + message.length);
          frame.writeUInt32BE(message.length, 1);
          message.copy(frame, 5);
          const stream = session.request({
            ':method': 'POST',
            ':path': path,
            ':authority': 'grpc.example.com',
            'content-type': 'application/grpc',
            te: 'trailers',
          });
          let headers: Record<string, unknown> = {};
          let trailers: Record<string, unknown> = {};
          const chunks: Buffer[] = [];
          stream.on('response', (h) => {
            headers = h;
          });
          stream.on('trailers', (t) => {
            trailers = t;
          });
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () =>
            resolve({
              status: Number(headers[':status']),
              body: Buffer.concat(chunks),
              trailers,
              headers,
            }),
          );
          stream.on('error', reject);
          stream.end(frame);
        });
      const ok = await call('/pier.test.Echo/Say');
      expect(ok.status).toBe(200);
      expect(ok.trailers['grpc-status']).toBe('0');
      expect(ok.body.subarray(5).toString()).toBe('grpc /pier.test.Echo/Say ping');
      const failed = await call('/pier.test.Echo/Fail');
      expect(failed.headers['grpc-status'] ?? failed.trailers['grpc-status']).toBe('5');
      const missing = await call('/pier.test.Other/Say');
      expect(missing.status).toBe(200);
      expect(missing.headers['grpc-status']).toBe('12');
    } finally {
      session.close();
    }
  });

  it('passes a WebSocket through, and keeps it open across a route change', async () => {
    const dispatcher = toGateway(() => httpPort);
    const ws = new WebSocket(`ws://www.example.com:${httpPort}/a/socket`, { dispatcher });
    const messages: string[] = [];
    const next = () =>
      new Promise<string>((resolve) => {
        ws.addEventListener('message', (e) => resolve(String(e.data)), { once: true });
      });
    try {
      await once(ws as unknown as EventTarget, 'open');
      let reply = next();
      ws.send('hello');
      messages.push(await reply);
      // Change routing under the open connection: a new route, and the WebSocket's own route edited.
      await live.apply(routeC);
      await live.apply(routesYaml.replace('value: /b }', 'value: /bb }'));
      reply = next();
      ws.send('still there');
      messages.push(await reply);
      expect(messages).toEqual(['a1: hello', 'a1: still there']);
      expect(ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      ws.close();
      await live.apply(routesYaml);
      await live.remove(routeC);
      await dispatcher.close();
    }
  });

  it('applies route, endpoint, certificate and listener changes under load with zero failed requests', async () => {
    const httpPool = new Pool(`http://${LOOPBACK}:${httpPort}`, { connections: 4 });
    const tlsAgent = new Agent({
      connect: {
        ca: [readFileSync(ca.caFile, 'utf8')],
        servername: 'secure.example.com',
        lookup: loopbackLookup,
      },
    });
    const failures: string[] = [];
    const served = new Map<string, number>();
    let running = true;
    const loop = async (send: () => Promise<{ status: number; server: string }>) => {
      let n = 0;
      while (running) {
        try {
          const r = await send();
          if (r.status !== 200) failures.push(`status ${r.status}`);
          served.set(r.server, (served.get(r.server) ?? 0) + 1);
        } catch (error) {
          failures.push(String(error));
        }
        n++;
      }
      return n;
    };
    const viaHttp = async () => {
      const r = await httpPool.request({
        path: '/a',
        method: 'GET',
        headers: { host: 'www.example.com' },
      });
      const body = (await r.body.json()) as { server: string };
      return { status: r.statusCode, server: body.server };
    };
    const viaTls = async () => {
      const r = await request(`https://secure.example.com:${httpsPort}/b`, {
        dispatcher: tlsAgent,
      });
      const body = (await r.body.json()) as { server: string };
      return { status: r.statusCode, server: body.server };
    };
    const loops = [loop(viaHttp), loop(viaHttp), loop(viaTls)];
    const until = async (check: () => Promise<boolean>) => {
      const started = performance.now();
      while (!(await check())) {
        if (performance.now() - started > 5000) throw new Error('change not seen within 5 s');
        await new Promise((r) => setTimeout(r, 5));
      }
      return performance.now() - started;
    };
    const extraPort = await freePort();
    try {
      await new Promise((r) => setTimeout(r, 100));
      // A new route.
      await live.apply(routeC);
      expect((await curl(http('/c'))).status).toBe(200);
      // Endpoints move from a1 to a2.
      const before = a2.requests;
      await live.apply(endpointSliceYaml(NS, 'a', [a2.port]));
      await until(async () => a2.requests > before + 10);
      const a1After = a1.requests;
      await new Promise((r) => setTimeout(r, 100));
      expect(a1.requests).toBe(a1After);
      // The certificate is rotated (a new key pair for the same name).
      const rotated = ca.issue(['secure.example.com']);
      expect(await presented('secure.example.com')).not.toBe(fingerprint(rotated));
      await live.apply(tlsSecretYaml(NS, 'exact', rotated));
      expect(await presented('secure.example.com')).toBe(fingerprint(rotated));
      // A listener is added on a new port, then removed.
      await live.apply(gatewayYaml(`    - { name: extra, protocol: HTTP, port: ${extraPort} }`));
      expect(
        echoOf(await curl(['-H', 'Host: www.example.com', `http://${LOOPBACK}:${extraPort}/a`]))
          .server,
      ).toBe('a2');
      await live.apply(gatewayYaml());
      expect((await curl([`http://${LOOPBACK}:${extraPort}/a`])).exit).toBe(7); // connection refused
      // The route goes again.
      await live.remove(routeC);
      expect((await curl(http('/c'))).status).toBe(404);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      running = false;
      const counts = await Promise.all(loops);
      await httpPool.close();
      await tlsAgent.close();
      await live.apply(endpointSliceYaml(NS, 'a', [a1.port]));
      expect(failures).toEqual([]);
      expect(counts.every((n) => n > 20)).toBe(true);
      expect(served.get('a2')).toBeGreaterThan(0);
    }
  });

  it('turns a port from HTTP to HTTPS when its listener changes protocol', async () => {
    const extraPort = await freePort();
    const http = `    - { name: flip, protocol: HTTP, port: ${extraPort}, hostname: www.example.com }`;
    const tls = `    - name: flip
      protocol: HTTPS
      port: ${extraPort}
      hostname: secure.example.com
      tls: { mode: Terminate, certificateRefs: [{ name: exact }] }`;
    try {
      await live.apply(gatewayYaml(http));
      expect(
        echoOf(await curl(['-H', 'Host: www.example.com', `http://${LOOPBACK}:${extraPort}/a`]))
          .server,
      ).toBe('a1');
      await live.apply(gatewayYaml(tls));
      const r = await curl([
        '--cacert',
        ca.caFile,
        '--resolve',
        `secure.example.com:${extraPort}:${LOOPBACK}`,
        `https://secure.example.com:${extraPort}/a`,
      ]);
      expect(r).toMatchObject({ status: 200, exit: 0 });
      expect(live.gateway.state().ports.find((p) => p.port === extraPort)?.protocol).toBe('HTTPS');
    } finally {
      await live.apply(gatewayYaml());
    }
  });

  it('survives garbage and broken handshakes on the TLS port, and still serves', async () => {
    const hello = Buffer.from('16030100a5010000a10303', 'hex');
    for (let i = 0; i < 300; i++) {
      const junk = Buffer.from(
        Array.from({ length: 1 + (i % 200) }, (_, j) => (i * 31 + j * 17) & 0xff),
      );
      await rawRequest(httpsPort, i % 2 === 0 ? junk : Buffer.concat([hello, junk]), {
        timeoutMs: 100,
      });
    }
    expect(await curl(https('secure.example.com', '/a'))).toMatchObject({ status: 200, exit: 0 });
    expect(await live.metrics.render()).toMatch(
      /pier_gateway_tls_handshake_errors_total\{reason="[A-Z_]+"\} [1-9]/,
    );
  });

  it('refuses CONNECT over HTTP/2 with 405', async () => {
    const session = connectH2(`http://${LOOPBACK}:${httpPort}`);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':method': 'CONNECT', ':authority': 'evil.example:22' });
        stream.on('response', (h) => resolve(Number(h[':status'])));
        stream.on('error', reject);
      });
      expect(status).toBe(405);
    } finally {
      session.destroy();
    }
  });

  it('reports a port it cannot bind, stays unready, and binds it once it is free', async () => {
    const busyPort = await freePort();
    const squatter = createNetServer();
    await new Promise<void>((resolve) => squatter.listen(busyPort, LOOPBACK, resolve));
    try {
      await live.apply(gatewayYaml(`    - { name: busy, protocol: HTTP, port: ${busyPort} }`));
      expect(live.gateway.ready()).toBe(false);
      const error = live.gateway.state().portErrors.find((e) => e.port === busyPort);
      expect(error?.code).toBe('PIER_GW_LISTEN_FAILED');
      expect(error?.message).toContain('EADDRINUSE');
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
      const started = performance.now();
      while (!live.gateway.ready() && performance.now() - started < 5000) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(live.gateway.ready()).toBe(true);
      expect(
        echoOf(await curl(['-H', 'Host: www.example.com', `http://${LOOPBACK}:${busyPort}/a`]))
          .server,
      ).toBe('a1');
    } finally {
      if (squatter.listening) squatter.close();
      await live.apply(gatewayYaml());
    }
  });

  it('sees a new route within a sync: applied and answered in well under a second', async () => {
    const started = performance.now();
    await live.store.apply(objectsOf(routeC)[0]!);
    let status = 0;
    while (status !== 200 && performance.now() - started < 5000) {
      status = (await curl(http('/c'))).status;
    }
    const ms = performance.now() - started;
    expect(status).toBe(200);
    // Not a timing assertion about the machine: the sync delay is 5 ms here, curl's start dominates.
    expect(ms).toBeLessThan(5000);
    await live.remove(routeC);
  });

  it('exports metrics per route and Service', async () => {
    const text = await live.metrics.render();
    expect(text).toMatch(
      /pier_gateway_requests_total\{route="httproute\/gw\/web\/rule\/0",service="gw\/a:80",code="200"\} \d+/,
    );
    expect(text).toMatch(/pier_gateway_requests_total\{route="",service="",code="404"\} \d+/);
    expect(text).toMatch(
      /pier_gateway_request_duration_seconds_bucket\{le="0.005",route="httproute\/gw\/web\/rule\/0",service="gw\/a:80"\} \d+/,
    );
    expect(text).toMatch(/pier_gateway_open_connections\{port="\d+"\} \d+/);
  });
});
