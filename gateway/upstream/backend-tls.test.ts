// TLS to backends (BackendTLSPolicy's transport) through the three pools
// that speak it: Pier's Http1Pool, undici's Pool (HTTP/1.1, ALPN http/1.1)
// and the h2c upstream's pool over TLS (HTTP/2, ALPN h2). Real backends on
// 127.0.0.1 (node:https, node:http2, raw sockets) serve the certificates of
// testdata/; the verification table runs against every pool.

import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamProtocol, UpstreamTls } from '../upstream.ts';
import { subjectAltNamesOf, UPSTREAM_TLS_ERROR, verifyBackendIdentity } from './backend-tls.ts';
import { run } from './dispatcher.case.ts';
import { createUpstream, defaultDispatcher } from './pool-upstream.ts';
import { type Leaf, OTHER_CA, serving, TEST_CA, upstreamTls } from './testdata/certificates.ts';

type PoolKind = 'pier' | 'undici' | 'h2';
const POOLS: readonly PoolKind[] = ['pier', 'undici', 'h2'];
const ALPN: Record<PoolKind, string> = { pier: 'http/1.1', undici: 'http/1.1', h2: 'h2' };

interface Seen {
  servername: string | false | null;
  alpn: string | false;
  remotePort: number;
  resumed: boolean;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function seenOf(socket: TLSSocket): Seen {
  return {
    servername: socket.servername,
    alpn: socket.alpnProtocol ?? false,
    remotePort: socket.remotePort!,
    resumed: socket.isSessionReused(),
  };
}

/** An HTTPS (HTTP/1.1) or HTTP/2-over-TLS backend serving `leaf`; it records each request's TLS side. */
async function tlsBackend(kind: PoolKind, leaf: Leaf) {
  const seen: Seen[] = [];
  let server: https.Server | http2.Http2SecureServer;
  if (kind === 'h2') {
    const h2 = http2.createSecureServer({ ...serving(leaf), allowHTTP1: false });
    h2.on('stream', (stream) => {
      seen.push(seenOf(stream.session!.socket as TLSSocket));
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    server = h2;
  } else {
    server = https.createServer(serving(leaf), (req, res) => {
      seen.push(seenOf(req.socket as TLSSocket));
      res.end('ok');
    });
  }
  const sockets = new Set<net.Socket>();
  server.on('secureConnection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Failed handshakes are the point of most cases here.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  cleanups.push(close);
  return { origin: `https://127.0.0.1:${port}`, endpoint: `127.0.0.1:${port}`, seen };
}

/** A TCP server that takes each connection and does `onConnection` with it (no TLS at all). */
async function rawServer(onConnection: (socket: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { origin: `https://127.0.0.1:${port}`, endpoint: `127.0.0.1:${port}` };
}

/** The pool defaultDispatcher builds for `kind`, as createUpstream would. */
function pool(kind: PoolKind, origin: string, tls: UpstreamTls, connectTimeoutMs = 2000) {
  const protocol: UpstreamProtocol = kind === 'h2' ? 'h2c' : 'http1';
  const dispatcher = defaultDispatcher(origin, protocol, tls, {
    connectTimeoutMs,
    keepAliveTimeoutMs: 4000,
    connections: undefined,
    http1Client: kind === 'undici' ? 'undici' : 'pier',
  });
  cleanups.push(() => dispatcher.destroy());
  return dispatcher;
}

const SPIFFE = 'spiffe://cluster.local/ns/a/sa/b';
const BACKEND_NAMES = `DNS:backend.example, DNS:\\*\\.svc\\.example, URI:${SPIFFE}`;

// serve: the backend's leaf; tls: the upstream's settings (upstreamTls
// defaults: serverName backend.example, ca [test CA], no subjectAltNames);
// expect: 'ok' (and the backend saw SNI == serverName), or why TLS failed.
const CASES: {
  name: string;
  serve: Leaf;
  tls: Parameters<typeof upstreamTls>[0];
  expect: 'ok' | RegExp;
}[] = [
  { name: 'trusted CA, matching hostname', serve: 'backend', tls: {}, expect: 'ok' },
  {
    name: 'the trusted CA inside a bundle',
    serve: 'backend',
    tls: { ca: [OTHER_CA + TEST_CA] },
    expect: 'ok',
  },
  {
    name: 'hostname under the certificate’s wildcard',
    serve: 'backend',
    tls: { serverName: 'api.svc.example' },
    expect: 'ok',
  },
  {
    name: 'unknown CA',
    serve: 'other',
    tls: {},
    expect: /unable to (verify the first certificate|get local issuer certificate)/,
  },
  {
    name: 'only the given CAs: a certificate of the other CA fails with both known to the system',
    serve: 'backend',
    tls: { ca: [OTHER_CA] },
    expect: /unable to (verify the first certificate|get local issuer certificate)/,
  },
  { name: 'an empty CA list trusts nothing', serve: 'backend', tls: { ca: [] }, expect: /unable/ },
  {
    name: 'hostname mismatch',
    serve: 'backend',
    tls: { serverName: 'wrong.example' },
    expect: new RegExp(`certificate does not match wrong.example \\(${BACKEND_NAMES}\\)`),
  },
  {
    name: 'a wildcard covers one label only',
    serve: 'backend',
    tls: { serverName: 'a.b.svc.example' },
    expect: /certificate does not match a.b.svc.example/,
  },
  {
    name: 'SAN Hostname matches while serverName (SNI only) does not',
    serve: 'backend',
    tls: {
      serverName: 'sni.example',
      subjectAltNames: [{ type: 'Hostname', value: 'api.svc.example' }],
    },
    expect: 'ok',
  },
  {
    name: 'SAN URI matches exactly',
    serve: 'backend',
    tls: { serverName: 'sni.example', subjectAltNames: [{ type: 'URI', value: SPIFFE }] },
    expect: 'ok',
  },
  {
    name: 'SANs given, none matches, though serverName would',
    serve: 'backend',
    tls: {
      serverName: 'backend.example',
      subjectAltNames: [
        { type: 'Hostname', value: 'nope.example' },
        { type: 'URI', value: `${SPIFFE}/more` },
      ],
    },
    expect: new RegExp(
      `certificate does not match DNS:nope.example or URI:${SPIFFE}/more \\(${BACKEND_NAMES}\\)`,
    ),
  },
  {
    name: 'a URI SAN is no DNS name',
    serve: 'backend',
    tls: { subjectAltNames: [{ type: 'Hostname', value: 'cluster.local' }] },
    expect: /certificate does not match DNS:cluster.local/,
  },
  { name: 'expired certificate', serve: 'expired', tls: {}, expect: /certificate has expired/ },
  {
    name: 'system CAs, self-signed certificate',
    serve: 'self-signed',
    tls: { ca: undefined },
    expect: /self-signed certificate/,
  },
  {
    name: 'system CAs, a certificate of the test CA',
    serve: 'backend',
    tls: { ca: undefined },
    // Node's bundled (Mozilla) CAs; its message suggests --use-system-ca.
    expect: /unable to verify the first certificate/,
  },
];

describe.each(POOLS)('TLS to a backend: %s pool', (kind) => {
  it.each(CASES)('$name', async ({ serve, tls: settings, expect: expected }) => {
    const backend = await tlsBackend(kind, serve);
    const tls = upstreamTls(settings);
    const outcome = await run(pool(kind, backend.origin, tls), { path: '/' });
    if (expected === 'ok') {
      expect(outcome.error).toBeUndefined();
      expect(outcome).toMatchObject({ started: true, status: 200, ending: 'end', endings: 1 });
      expect(outcome.body.toString()).toBe('ok');
      expect(backend.seen).toMatchObject([{ servername: tls.serverName, alpn: ALPN[kind] }]);
      return;
    }
    // Before onRequestStart: the forwarder counts it as a failure to connect.
    expect(outcome).toMatchObject({ started: false, ending: 'error', endings: 1 });
    expect(outcome.error!.code).toBe(UPSTREAM_TLS_ERROR);
    expect(outcome.error!.message).toMatch(`TLS to ${backend.endpoint} failed: `);
    expect(outcome.error!.message).toMatch(expected);
    expect(backend.seen).toEqual([]);
  });

  it('reuses one TLS connection for two requests, and resumes the session on the next', async () => {
    const backend = await tlsBackend(kind, 'backend');
    const dispatcher = pool(kind, backend.origin, upstreamTls());
    for (const host of ['one.test', 'two.test']) {
      // Different Hosts: SNI stays the policy's name, and the connection stays.
      const outcome = await run(dispatcher, { headers: ['host', host] });
      expect(outcome).toMatchObject({ status: 200, ending: 'end' });
    }
    expect(backend.seen).toHaveLength(2);
    expect(backend.seen[1]!.remotePort).toBe(backend.seen[0]!.remotePort);
    expect(backend.seen.map((s) => s.servername)).toEqual(['backend.example', 'backend.example']);
    // A second connection at once (the first is busy for h1, and h2 opens
    // one per pool: close the pool's and make another request).
    if (kind !== 'h2') {
      const [a, b] = await Promise.all([run(dispatcher, {}), run(dispatcher, {})]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(backend.seen.slice(2).some((s) => s.resumed)).toBe(true);
    }
  });

  it('fails cleanly when the backend closes during the handshake', async () => {
    const backend = await rawServer((socket) => socket.once('data', () => socket.destroy()));
    const outcome = await run(pool(kind, backend.origin, upstreamTls()), {});
    expect(outcome).toMatchObject({ started: false, ending: 'error', endings: 1 });
    expect(outcome.error!.code).toBe(UPSTREAM_TLS_ERROR);
    expect(outcome.error!.message).toMatch(`TLS to ${backend.endpoint} failed: `);
  });

  it('counts the handshake within the connect timeout', async () => {
    // Accepts TCP, never answers the ClientHello.
    const backend = await rawServer(() => {});
    const outcome = await run(pool(kind, backend.origin, upstreamTls(), 300), {});
    expect(outcome).toMatchObject({ started: false, ending: 'error', endings: 1 });
    expect(outcome.error!.code).toBe('PIER_UPSTREAM_CONNECT_TIMEOUT');
    expect(outcome.error!.message).toBe(
      `TLS to ${backend.endpoint} failed: no handshake within 300 ms`,
    );
  });

  it('leaves a refused TCP connect as it was (no TLS was tried)', async () => {
    const backend = await rawServer(() => {});
    const port = Number(backend.endpoint.split(':')[1]);
    await cleanups.pop()!();
    const outcome = await run(pool(kind, `https://127.0.0.1:${port}`, upstreamTls()), {});
    expect(outcome).toMatchObject({ started: false, ending: 'error' });
    expect(outcome.error!.code).toBe('ECONNREFUSED');
  });

  it('verifies even with NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment', async () => {
    const backend = await tlsBackend(kind, 'other');
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const outcome = await run(pool(kind, backend.origin, upstreamTls()), {});
      expect(outcome.error?.code).toBe(UPSTREAM_TLS_ERROR);
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
    }
  });
});

// NODE_EXTRA_CA_CERTS is read when Node starts: in a child process whose
// default store also holds the unrelated test CA, no policy CAs means that
// store, and policy CAs replace it (a backend the store would accept fails).
describe('which CAs: the system store, or only the given ones', () => {
  const child = `
    import { Http1Pool } from ${JSON.stringify(new URL('./http1/pool.ts', import.meta.url).href)};
    const [origin, ca] = JSON.parse(process.argv[1]);
    const tls = { serverName: 'backend.example', ca: ca ?? undefined, subjectAltNames: [], key: 'k' };
    const pool = new Http1Pool(origin, { tls });
    const done = (line) => { console.log(line); pool.destroy(); };
    pool.dispatch(
      { path: '/', method: 'GET', headers: ['host', 'backend.example'], body: null },
      { onResponseEnd: () => done('200'), onResponseError: (_c, error) => done(error.message) },
    );`;
  it.each([
    ['no CAs: the system store, which holds the other CA', null, /^200$/],
    ['the test CA only: not the system store', [TEST_CA], /failed: unable to verify the first/],
  ])('%s', async (_name, ca, expected) => {
    const backend = await tlsBackend('pier', 'other');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', child, JSON.stringify([backend.origin, ca])],
      {
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: fileURLToPath(new URL('./testdata/other-ca.crt', import.meta.url)),
        },
      },
    );
    expect(stdout.trim()).toMatch(expected);
  });
});

describe('HTTP/2 over TLS', () => {
  // A backend whose TLS server knows ALPN and offers only http/1.1 refuses
  // the handshake itself; one without ALPN completes it, and the pool
  // refuses to speak HTTP/1.1 to it.
  it.each([
    ['ALPN http/1.1 only', ['http/1.1'], /no application protocol|alert number 120/i],
    ['no ALPN at all', undefined, /the backend did not agree to HTTP\/2 \(ALPN h2\)/],
  ])('fails a backend with %s, instead of speaking HTTP/1.1 to it', async (_name, alpn, why) => {
    const seen: string[] = [];
    const server = tls.createServer({ ...serving('backend'), ALPNProtocols: alpn }, (socket) => {
      socket.on('data', (chunk) => seen.push(chunk.toString('latin1')));
      socket.on('error', () => {});
    });
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const outcome = await run(pool('h2', `https://127.0.0.1:${port}`, upstreamTls()), {});
    expect(outcome).toMatchObject({ started: false, ending: 'error' });
    expect(outcome.error!.code).toBe(UPSTREAM_TLS_ERROR);
    expect(outcome.error!.message).toMatch(why);
    expect(seen).toEqual([]);
  });
});

describe('createUpstream with tls', () => {
  it('gives every endpoint an https origin and a TLS pool', async () => {
    const backend = await tlsBackend('pier', 'backend');
    const port = Number(backend.endpoint.split(':')[1]);
    const upstream = createUpstream({ name: 'Service default/web:443', tls: upstreamTls() });
    cleanups.push(() => upstream.destroy());
    upstream.setEndpoints([
      { address: '127.0.0.1', port, ready: true, serving: true, terminating: false },
    ]);
    const host = upstream.pick(0)!;
    expect(host.origin).toBe(backend.origin);
    const outcome = await run(host.dispatcher, {});
    expect(outcome).toMatchObject({ status: 200, ending: 'end' });
    expect(backend.seen).toMatchObject([{ servername: 'backend.example', alpn: 'http/1.1' }]);
  });

  it('hands the settings to createDispatcher', () => {
    const made: [string, UpstreamProtocol, UpstreamTls | undefined][] = [];
    const tls = upstreamTls();
    const upstream = createUpstream({
      name: 'web',
      protocol: 'h2c',
      tls,
      createDispatcher(origin, protocol, settings) {
        made.push([origin, protocol, settings]);
        return { dispatch: () => true, close: async () => {}, destroy: async () => {} };
      },
    });
    upstream.setEndpoints([
      { address: 'fd00::7', port: 8443, ready: true, serving: true, terminating: false },
    ]);
    expect(made).toEqual([['https://[fd00::7]:8443', 'h2c', tls]]);
  });
});

// The identity rules alone, on certificates as Node describes a peer's.
describe('verifyBackendIdentity', () => {
  const cert = (subjectaltname: string | undefined, cn = 'cn.example') =>
    ({ subject: { CN: cn }, subjectaltname }) as unknown as PeerCertificate;
  const table: [string, UpstreamTls, PeerCertificate, string | undefined][] = [
    [
      'hostname = DNS SAN',
      upstreamTls({ serverName: 'a.example' }),
      cert('DNS:a.example'),
      undefined,
    ],
    [
      'hostname, trailing dot',
      upstreamTls({ serverName: 'a.example.' }),
      cert('DNS:a.example'),
      undefined,
    ],
    [
      'hostname, any case',
      upstreamTls({ serverName: 'A.Example' }),
      cert('DNS:a.example'),
      undefined,
    ],
    [
      'hostname, the CN only without DNS SANs (Node’s rule)',
      upstreamTls({ serverName: 'cn.example' }),
      cert(undefined),
      undefined,
    ],
    [
      'hostname, not the CN when DNS SANs exist',
      upstreamTls({ serverName: 'cn.example' }),
      cert('DNS:a.example'),
      'certificate does not match cn.example (DNS:a.example)',
    ],
    [
      'SAN Hostname never matches the CN',
      upstreamTls({ subjectAltNames: [{ type: 'Hostname', value: 'cn.example' }] }),
      cert(undefined),
      'certificate does not match DNS:cn.example (CN cn.example)',
    ],
    [
      'SAN Hostname under a wildcard',
      upstreamTls({ subjectAltNames: [{ type: 'Hostname', value: 'x.svc.example' }] }),
      cert('DNS:*.svc.example'),
      undefined,
    ],
    [
      'SAN URI is compared exactly',
      upstreamTls({ subjectAltNames: [{ type: 'URI', value: 'spiffe://td/ns/a' }] }),
      cert('URI:spiffe://td/ns/a/sa/b'),
      'certificate does not match URI:spiffe://td/ns/a (URI:spiffe://td/ns/a/sa/b)',
    ],
    [
      'SAN URI with a comma (Node quotes it)',
      upstreamTls({ subjectAltNames: [{ type: 'URI', value: 'spiffe://td/a,b' }] }),
      cert('DNS:a.example, URI:"spiffe://td/a,b"'),
      undefined,
    ],
    [
      'SAN Hostname is not a URI SAN',
      upstreamTls({ subjectAltNames: [{ type: 'Hostname', value: 'td' }] }),
      cert('URI:spiffe://td'),
      'certificate does not match DNS:td (URI:spiffe://td)',
    ],
  ];
  it.each(table)('%s', (_name, settings, peer, error) => {
    expect(verifyBackendIdentity(settings, peer)?.message).toBe(error);
  });

  it('reads Node’s subjectaltname text, quoted values included', () => {
    expect(subjectAltNamesOf(undefined)).toEqual([]);
    expect(subjectAltNamesOf('DNS:a.example, IP Address:10.0.0.1')).toEqual([
      'DNS:a.example',
      'IP Address:10.0.0.1',
    ]);
    expect(subjectAltNamesOf('DNS:a.example, URI:"spiffe://td/a,b", DNS:"x\\"y"')).toEqual([
      'DNS:a.example',
      'URI:spiffe://td/a,b',
      'DNS:x"y',
    ]);
  });
});
