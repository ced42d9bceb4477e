// What the gateway's integration tests (test/gateway*.test.ts) share: real
// backends on loopback (HTTP echo, WebSocket echo, gRPC over h2c), a live
// gateway on a memory Store fed with manifests, curl and openssl as the
// tools a user would run, and certificates made per test run.
//
// Under CI=true a missing tool (curl, openssl) fails the tests that need it,
// naming it; elsewhere they are skipped with a visible message.

import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  request as httpRequestRaw,
  type IncomingMessage,
  type Server,
} from 'node:http';
import {
  createServer as createH2Server,
  type Http2Server,
  type ServerHttp2Session,
} from 'node:http2';
import { createServer as createNetServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { GatewaySettings } from '../gateway/gateway.ts';
import { createGateway, type Gateway } from '../gateway/gateway.ts';
import { loadConfig } from '../src/config.ts';
import type { KubeObject } from '../src/model/object.ts';
import { refOf } from '../src/model/object.ts';
import { createLogger } from '../src/observe/logger.ts';
import { createMetrics, type Metrics } from '../src/observe/metrics.ts';
import { loadManifestText } from '../src/sources/manifests/load.ts';
import { createMemoryStore } from '../src/store/memory.ts';
import type { Store } from '../src/store.ts';
import { describeWith } from '../src/testing/describe-with.ts';

export const LOOPBACK = '127.0.0.1';

// --- requirements -------------------------------------------------------------------

function toolMissing(tool: string, args: string[], apt: string): string | undefined {
  const probe = spawnSync(tool, args, { encoding: 'utf8' });
  return probe.error !== undefined || probe.status !== 0
    ? `${tool} not found on PATH (Debian: apt-get install ${apt})`
    : undefined;
}

export const curlMissing = toolMissing('curl', ['--version'], 'curl');
export const opensslMissing = toolMissing('openssl', ['version'], 'openssl');

/**
 * describe() that needs the named tools: under CI=true a missing one fails
 * (naming it); elsewhere the block is skipped and says why.
 */
export function describeWithTools(
  name: string,
  missing: readonly (string | undefined)[],
  body: () => void,
): void {
  const why = missing.filter((m): m is string => m !== undefined);
  describeWith(why.length === 0 ? undefined : `requirement missing: ${why.join('; ')}`, name, body);
}

// --- ports ------------------------------------------------------------------------------

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(),
      );
    });
  });
}

// --- backends -----------------------------------------------------------------------------

/** What an echo backend answers: who it is and what it received. */
export interface Echo {
  server: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
}

export interface Backend {
  name: string;
  port: number;
  /** Requests received so far (upgrades included). */
  readonly requests: number;
  /** Requests still being answered. */
  readonly active: number;
  close(): Promise<void>;
}

/**
 * An HTTP/1.1 backend: answers JSON (Echo); `/slow?ms=N` waits N ms first;
 * `/status/NNN` answers that status; an Upgrade: websocket request becomes
 * a WebSocket that echoes text frames prefixed with its name.
 */
export async function startEchoBackend(name: string, port = 0): Promise<Backend> {
  let requests = 0;
  let active = 0;
  const sockets = new Set<Duplex>();
  const server: Server = createHttpServer((req, res) => {
    requests++;
    active++;
    res.on('close', () => active--);
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const answer = () => {
        const status = /^\/status\/(\d{3})$/.exec(url.pathname);
        const body = `${JSON.stringify({ server: name, method: req.method ?? '', path: req.url ?? '', headers: req.headers, bodyBytes: size } satisfies Echo)}\n`;
        res.writeHead(status === null ? 200 : Number(status[1]), {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-backend': name,
        });
        res.end(body);
      };
      const ms = url.pathname === '/slow' ? Number(url.searchParams.get('ms') ?? '1000') : 0;
      if (ms > 0) setTimeout(answer, ms);
      else answer();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    requests++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    acceptWebSocket(name, req, socket);
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    name,
    port: bound,
    get requests() {
      return requests;
    },
    get active() {
      return active;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** RFC 6455 server side, just enough to echo text frames: `<name>: <text>`. */
function acceptWebSocket(name: string, req: IncomingMessage, socket: Duplex): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    return;
  }
  const accept = createHash('sha1')
    .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\nx-backend: ${name}\r\n\r\n`,
  );
  let buffer = Buffer.alloc(0);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0]! & 0x0f;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (buffer[1]! & 0x80) !== 0;
      const maskOffset = offset;
      if (masked) offset += 4;
      if (buffer.length < offset + length) return;
      const payload = Buffer.from(buffer.subarray(offset, offset + length));
      if (masked) {
        for (let i = 0; i < payload.length; i++) payload[i]! ^= buffer[maskOffset + (i % 4)]!;
      }
      buffer = buffer.subarray(offset + length);
      if (opcode === 0x8) {
        socket.end(Buffer.from([0x88, 0x00]));
        return;
      }
      if (opcode === 0x1) {
        const reply = Buffer.from(`${name}: ${payload.toString('utf8')}`);
        const head =
          reply.length < 126
            ? Buffer.from([0x81, reply.length])
            : Buffer.from([0x81, 126, reply.length >> 8, reply.length & 0xff]);
        socket.write(Buffer.concat([head, reply]));
      }
    }
  });
}

/** A gRPC backend over h2c: every unary call answers the request message prefixed with its name, status 0. */
export async function startGrpcBackend(name: string): Promise<Backend> {
  let requests = 0;
  let active = 0;
  const server: Http2Server = createH2Server();
  server.on('stream', (stream, headers) => {
    requests++;
    active++;
    stream.on('close', () => active--);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const message =
        body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)) : Buffer.alloc(0);
      const path = String(headers[':path']);
      if (path.endsWith('/Fail')) {
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': '5',
            'grpc-message': 'not found here',
          },
          { endStream: true },
        );
        return;
      }
      const reply = Buffer.from(`${name} ${path} ${message.toString('utf8')}`);
      const frame = Buffer.alloc(5 + reply.length);
      frame.writeUInt32BE(reply.length, 1);
      reply.copy(frame, 5);
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc' },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () =>
        stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' }),
      );
      stream.end(frame);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, () => resolve()));
  const port = (server.address() as { port: number }).port;
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  return {
    name,
    port,
    get requests() {
      return requests;
    },
    get active() {
      return active;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// --- manifests -------------------------------------------------------------------------------

/** The objects of a YAML text, validated as the manifests source loads them; throws on a problem. */
export function objectsOf(yaml: string): KubeObject[] {
  const loaded = loadManifestText('test.yaml', yaml);
  if (loaded.problems.length > 0) {
    throw new Error(`bad test manifests: ${loaded.problems.map((p) => p.message).join('; ')}`);
  }
  return loaded.objects;
}

/** Pier's GatewayClass `pier` and a Gateway `edge` in `namespace` with one HTTP listener `http` on `port`. */
export function edgeGatewayYaml(namespace: string, port: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: pier }
spec: { controllerName: pier.dev/gateway }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: ${namespace} }
spec:
  gatewayClassName: pier
  listeners: [{ name: http, protocol: HTTP, port: ${port} }]`;
}

/**
 * The common live-gateway setup: the `edge` Gateway on `port`, an HTTPRoute
 * `service` for `hostname` to the Service `service` (port 80), and that
 * Service's endpoints on 127.0.0.1.
 */
export function edgeRouteToServiceYaml(
  namespace: string,
  port: number,
  hostname: string,
  service: string,
  ports: readonly number[],
): string {
  return `${edgeGatewayYaml(namespace, port)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${service}, namespace: ${namespace} }
spec:
  parentRefs: [{ name: edge }]
  hostnames: [${hostname}]
  rules: [{ backendRefs: [{ name: ${service}, port: 80 }] }]
---
${serviceYaml(namespace, service, ports)}`;
}

/** A Service `name` in `namespace` with port 80 -> the endpoints (127.0.0.1:<port> each). */
export function serviceYaml(
  namespace: string,
  name: string,
  ports: readonly number[],
  appProtocol?: string,
): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  ports: [{ name: http, port: 80, targetPort: http${appProtocol === undefined ? '' : `, appProtocol: ${appProtocol}`} }]
---
${endpointSliceYaml(namespace, name, ports, appProtocol)}`;
}

export function endpointSliceYaml(
  namespace: string,
  service: string,
  ports: readonly number[],
  appProtocol?: string,
): string {
  // One slice per target port (a slice has one port list for all its endpoints).
  return ports
    .map(
      (port, i) => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${service}-${i}
  namespace: ${namespace}
  labels: { kubernetes.io/service-name: ${service} }
addressType: IPv4
endpoints: [{ addresses: ["${LOOPBACK}"], conditions: { ready: true } }]
ports: [{ name: http, port: ${port}, protocol: TCP${appProtocol === undefined ? '' : `, appProtocol: ${appProtocol}`} }]`,
    )
    .join('\n---\n');
}

/** A ConfigMap holding a PEM CA bundle under `ca.crt` (BackendTLSPolicy, Gateway spec.tls.frontend). */
export function caConfigMapYaml(namespace: string, name: string, pem: string): string {
  const indented = pem
    .trim()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
  return `apiVersion: v1
kind: ConfigMap
metadata: { name: ${name}, namespace: ${namespace} }
data:
  ca.crt: |
${indented}`;
}

export function tlsSecretYaml(namespace: string, name: string, pair: KeyPair): string {
  return `apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: ${namespace} }
type: kubernetes.io/tls
data:
  tls.crt: ${pair.cert.toString('base64')}
  tls.key: ${pair.key.toString('base64')}`;
}

// --- a live gateway ------------------------------------------------------------------------

export interface AccessLine {
  route: string;
  service: string;
  endpoint: string | null;
  status: number;
  path: string;
  error: string | null;
  [key: string]: unknown;
}

export interface LiveGateway {
  gateway: Gateway;
  store: Store;
  metrics: Metrics;
  /** Access-log lines so far, parsed. */
  readonly access: AccessLine[];
  /** Applies the objects of a YAML text and waits until the gateway has synced them. */
  apply(yaml: string): Promise<void>;
  /** Deletes the objects of a YAML text and waits for the sync. */
  remove(yaml: string): Promise<void>;
  close(graceMs?: number): Promise<void>;
}

export async function gatewaySettings(
  overrides: Partial<GatewaySettings> = {},
): Promise<GatewaySettings> {
  const { config } = await loadConfig({ env: {} });
  return { ...config.gateway, ...overrides };
}

export async function startGateway(
  yaml: string,
  overrides: Partial<GatewaySettings> = {},
): Promise<LiveGateway> {
  const store = createMemoryStore();
  for (const object of objectsOf(yaml)) await store.apply(object);
  const access: AccessLine[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const gateway = createGateway({
    store,
    settings: await gatewaySettings({ syncDelayMs: 5, ...overrides }),
    logger: createLogger({
      level: process.env.PIER_TEST_LOG === '1' ? 'debug' : 'silent',
      format: 'json',
    }),
    metrics,
    accessLog: {
      write(line) {
        access.push(JSON.parse(line) as AccessLine);
      },
    },
  });
  await gateway.start();
  return {
    gateway,
    store,
    metrics,
    access,
    async apply(text) {
      for (const object of objectsOf(text)) await store.apply(object);
      await gateway.settled();
    },
    async remove(text) {
      for (const object of objectsOf(text)) await store.delete(refOf(object));
      await gateway.settled();
    },
    close: (graceMs = 1000) => gateway.close(graceMs),
  };
}

// --- clients ------------------------------------------------------------------------------------

export interface CurlResult {
  status: number;
  /** %{http_version}: 1.1, 2 */
  version: string;
  body: string;
  exit: number;
  stderr: string;
}

/** Runs curl; the status and HTTP version come from -w, the body from stdout. */
export function curl(args: readonly string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', '10', '-w', '\n%{http_code} %{http_version}', ...args],
      { encoding: 'utf8' },
      (error, stdout, stderr) => {
        const cut = stdout.lastIndexOf('\n');
        const [status, version] = stdout.slice(cut + 1).split(' ');
        resolve({
          status: Number(status),
          version: version ?? '',
          body: stdout.slice(0, cut),
          exit: error === null ? 0 : ((error as { code?: number }).code ?? 1),
          stderr,
        });
      },
    );
  });
}

export interface HttpResult {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One HTTP/1.1 request with node:http to 127.0.0.1:port, headers as given (Origin too, which curl tools and fetch treat specially). */
export function httpRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequestRaw({ host: LOOPBACK, port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The Echo a backend answered, from a curl result (throws with the body when it is not one). */
export function echoOf(result: CurlResult): Echo {
  try {
    return JSON.parse(result.body) as Echo;
  } catch {
    throw new Error(
      `not an echo (status ${result.status}, exit ${result.exit} ${result.stderr}): ${result.body}`,
    );
  }
}

/** Sends raw bytes, returns everything the server sent until it closed (or `timeoutMs`). */
export function rawRequest(
  port: number,
  bytes: string | Buffer | readonly (string | Buffer)[],
  options: { timeoutMs?: number; gapMs?: number } = {},
): Promise<{ response: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = new Socket();
    let response = '';
    let closed = false;
    const timer = setTimeout(() => finish(), options.timeoutMs ?? 3000);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ response, closed, ms: performance.now() - started });
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      response += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.connect(port, LOOPBACK, async () => {
      const parts = Array.isArray(bytes) ? bytes : [bytes];
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part as string | Buffer);
        if (options.gapMs !== undefined) await new Promise((r) => setTimeout(r, options.gapMs));
      }
    });
  });
}

// --- certificates ------------------------------------------------------------------------------

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

export interface CertificateAuthority {
  /** The CA certificate (PEM file path, for curl --cacert). */
  caFile: string;
  /** A leaf certificate for these DNS names, signed by the CA: a server's, or a client's (mutual TLS). */
  issue(names: readonly string[], usage?: 'serverAuth' | 'clientAuth'): KeyPair;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
}

/** A throwaway CA in a temp dir (openssl), removed by remove(). */
export function createCertificateAuthority(): CertificateAuthority {
  const dir = mkdtempSync(join(tmpdir(), 'pier-gw-ca-'));
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=Pier test CA',
    ],
    dir,
  );
  let serial = 0;
  return {
    caFile: join(dir, 'ca.crt'),
    issue(names, usage = 'serverAuth') {
      const n = ++serial;
      const ext = join(dir, `leaf${n}.ext`);
      const san = names.map((name) => `DNS:${name}`).join(',');
      writeFileSync(
        ext,
        `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=${usage}\n`,
      );
      openssl(
        [
          'req',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          `leaf${n}.key`,
          '-out',
          `leaf${n}.csr`,
          '-subj',
          `/CN=${names[0]}`,
        ],
        dir,
      );
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `leaf${n}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          `leaf${n}.crt`,
          '-days',
          '2',
          '-extfile',
          ext,
        ],
        dir,
      );
      return {
        cert: readFileSync(join(dir, `leaf${n}.crt`)),
        key: readFileSync(join(dir, `leaf${n}.key`)),
      };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
