// Shared pieces of the forwarding integration tests: real backends and a
// minimal gateway listener on 127.0.0.1, curl as the client, a gateway in a
// child process for memory measurements, and cleanup that runs whatever
// happens. Everything listens on 127.0.0.1 port 0.

import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { forward, type InboundRequest, type InboundResponse } from '../gateway/forward/forward.ts';
import {
  compileForwardPolicy,
  type ForwardPlan,
  type ForwardPolicySpec,
} from '../gateway/forward/plan.ts';
import { forwardUpgrade } from '../gateway/forward/upgrade.ts';
import {
  createUpstream,
  type EndpointAddress,
  type Upstream,
  type UpstreamOptions,
} from '../gateway/upstream.ts';
import { GATEWAY_V8_FLAGS } from '../gateway/workers/v8-flags.ts';
import type { GatewayProcessConfig } from './gateway-forward-server.ts';

/** Things to stop after a test, last started first. */
export class Cleanup {
  private readonly steps: (() => unknown)[] = [];

  add(step: () => unknown): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

/** The first of `names` that is not installed, or undefined. */
export function missingBinary(...names: string[]): string | undefined {
  for (const name of names) {
    if (spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status !== 0) {
      return name;
    }
  }
  return undefined;
}

/**
 * Whether to skip a suite for a missing binary: only outside CI, and loudly.
 * Under CI=true the suite runs and its beforeAll fails naming the binary.
 */
export function skipFor(missing: string | undefined): boolean {
  if (missing === undefined) return false;
  if (process.env.CI === 'true') return false;
  console.warn(`skipping gateway forwarding tests: ${missing} is not installed`);
  return true;
}

export function requireBinary(missing: string | undefined): void {
  if (missing !== undefined) {
    throw new Error(`${missing} is required for this test: apt-get install ${missing}`);
  }
}

export function portOf(server: { address(): AddressInfo | string | null }): number {
  return (server.address() as AddressInfo).port;
}

const tracked = new WeakMap<net.Server, Set<net.Socket>>();

/** Tracks a server's open sockets (upgraded ones too), so a test can see them close. */
export function trackSockets(server: net.Server): Set<net.Socket> {
  const existing = tracked.get(server);
  if (existing !== undefined) return existing;
  const sockets = new Set<net.Socket>();
  tracked.set(server, sockets);
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

/**
 * Listens on 127.0.0.1, port 0. Cleanup closes the server and destroys every
 * connection it still has: keep-alive, and upgraded ones that
 * closeAllConnections() no longer knows.
 */
export async function listen<T extends net.Server>(server: T, cleanup: Cleanup): Promise<number> {
  const sockets = trackSockets(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as Server).closeAllConnections?.();
        for (const socket of sockets) socket.destroy();
      }),
  );
  return portOf(server);
}

export interface Backend {
  name: string;
  port: number;
  server: Server;
  requests: IncomingMessage[];
  endpoint: EndpointAddress;
  sockets: Set<net.Socket>;
}

/** A node:http backend; each request is recorded (rawHeaders included). */
export async function startBackend(
  cleanup: Cleanup,
  handler: (req: IncomingMessage, res: ServerResponse, backend: Backend) => void,
  name = 'backend',
): Promise<Backend> {
  const requests: IncomingMessage[] = [];
  const server = http.createServer();
  const sockets = trackSockets(server);
  const backend: Backend = {
    name,
    port: 0,
    server,
    requests,
    sockets,
    endpoint: endpoint(0),
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req);
    handler(req, res, backend);
  });
  backend.port = await listen(server, cleanup);
  backend.endpoint = endpoint(backend.port);
  return backend;
}

/** A backend that answers its own name and the request's method and path. */
export function echoName(req: IncomingMessage, res: ServerResponse, backend: Backend): void {
  req.resume();
  req.once('end', () => {
    res.setHeader('content-type', 'text/plain');
    res.end(`${backend.name} ${req.method} ${req.url}\n`);
  });
}

export function endpoint(port: number, address = '127.0.0.1'): EndpointAddress {
  return { address, port, ready: true, serving: true, terminating: false };
}

/** A port nothing listens on: connections to it are refused. */
/**
 * A port that was free a moment ago: for a test that binds it again later
 * (port 1 must stay refused for the others). Another test's server may
 * take it meanwhile; use deadPort() where nothing binds it again.
 */
export async function freedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A loopback port whose connects are refused: 1 (tcpmux), checked. Not a
 * port freed after use: tests running alongside get ephemeral ports from
 * the same range and one could take it meanwhile (a test then waited on a
 * live server instead of a refusal); nothing here binds port 1.
 */
export async function deadPort(): Promise<number> {
  const refused = await new Promise<boolean>((resolve) => {
    const socket = net.connect(1, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
  if (!refused)
    throw new Error(
      '127.0.0.1:1 does not refuse connections here; these tests need a port nothing listens on',
    );
  return 1;
}

export function upstreamOf(
  cleanup: Cleanup,
  endpoints: EndpointAddress[],
  options: Partial<UpstreamOptions> = {},
): Upstream {
  const upstream = createUpstream({ name: 'Service test/web:80', ...options });
  upstream.setEndpoints(endpoints);
  cleanup.add(() => upstream.destroy());
  return upstream;
}

export type PlanFor = (req: InboundRequest) => ForwardPlan;

export function planOf(upstream: Upstream, spec: ForwardPolicySpec = {}): PlanFor {
  const plan: ForwardPlan = { upstream, policy: compileForwardPolicy(spec) };
  return () => plan;
}

/** The gateway as a listener would run it: request, checkContinue and upgrade all forwarded. */
export async function startGateway(
  cleanup: Cleanup,
  planFor: PlanFor,
): Promise<{ port: number; server: Server }> {
  const server = http.createServer((req, res) => forward(req, res, planFor(req)));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) =>
    forward(req, res, planFor(req)),
  );
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    forwardUpgrade(req, socket, head, planFor(req)),
  );
  const port = await listen(server, cleanup);
  return { port, server };
}

/** An HTTP/2 (h2c, prior knowledge) gateway listener. */
export async function startH2Gateway(
  cleanup: Cleanup,
  planFor: PlanFor,
): Promise<{ port: number }> {
  const server = http2.createServer((req, res) =>
    forward(req as InboundRequest, res as InboundResponse, planFor(req as InboundRequest)),
  );
  server.on('checkContinue', (req, res) =>
    forward(req as InboundRequest, res as InboundResponse, planFor(req as InboundRequest)),
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  cleanup.add(() => {
    for (const session of sessions) session.destroy();
  });
  const port = await listen(server, cleanup);
  return { port };
}

export interface CurlResult {
  status: number;
  /** Status of every head received: [100, 200] with 100 Continue. */
  statuses: number[];
  /** Lowercase names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** Header lines of the last head as received, for order and repeats. */
  headerLines: string[];
  body: string;
  exitCode: number;
  stderr: string;
}

function parseHead(head: string): { status: number; lines: string[] } {
  const [statusLine = '', ...lines] = head.split('\r\n');
  return { status: Number(statusLine.split(' ')[1] ?? 0), lines };
}

export function headerRecord(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i === -1) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

/**
 * Runs curl (`-s -i --max-time 30` are added) and parses its output: every
 * head (1xx ones too), the last head's headers and the body. Never rejects
 * for curl's own failures: they are in exitCode.
 */
export function curl(args: string[], input?: Buffer | string): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'curl',
      ['-s', '-i', '--max-time', '30', ...args],
      { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        const exitCode = error === null ? 0 : (error.code as number);
        const statuses: number[] = [];
        let rest = stdout;
        let lines: string[] = [];
        for (;;) {
          const end = rest.indexOf('\r\n\r\n');
          const head = end === -1 ? rest : rest.slice(0, end);
          rest = end === -1 ? '' : rest.slice(end + 4);
          if (head === '') break;
          const parsed = parseHead(head);
          statuses.push(parsed.status);
          lines = parsed.lines;
          if (parsed.status >= 200 || end === -1) break;
        }
        resolve({
          status: statuses.at(-1) ?? 0,
          statuses,
          headers: headerRecord(lines),
          headerLines: lines,
          body: rest,
          exitCode,
          stderr: String(stderr),
        });
      },
    );
    child.stdin?.end(input);
  });
}

/** Reads a request's body. */
export async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Raw header value(s) of a recorded backend request, by lowercase name. */
export function rawHeader(req: IncomingMessage, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === name) values.push(req.rawHeaders[i + 1]!);
  }
  return values;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or `ms` pass. */
export async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(10);
  }
}

/**
 * A raw HTTP/1.1 client connection, for what curl cannot show: when the
 * gateway answers relative to when the body is sent.
 */
export async function rawConnection(
  port: number,
  cleanup: Cleanup,
): Promise<{
  socket: net.Socket;
  /** Resolves with everything received once `text` appears in it. */
  until(text: string, ms?: number): Promise<string>;
  received(): string;
}> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  cleanup.add(() => socket.destroy());
  let data = '';
  const waiters: (() => void)[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    data += chunk;
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => {});
  return {
    socket,
    received: () => data,
    until(text: string, ms = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`no ${JSON.stringify(text)} within ${ms} ms; got ${JSON.stringify(data)}`),
            ),
          ms,
        );
        const check = () => {
          if (data.includes(text)) {
            clearTimeout(timer);
            resolve(data);
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
  };
}

export interface GatewayProcess {
  port: number;
  pid: number;
  child: ChildProcess;
  /** VmRSS and VmHWM (peak) of the gateway process, in bytes. */
  memory(): { rss: number; peak: number };
}

const SERVER_SCRIPT = fileURLToPath(new URL('./gateway-forward-server.ts', import.meta.url));

/** Starts test/gateway-forward-server.ts with `config`; stopped by cleanup. */
export async function startGatewayProcess(
  cleanup: Cleanup,
  config: GatewayProcessConfig,
): Promise<GatewayProcess> {
  // With the V8 flags a production gateway runs with, so memory bounds hold for them.
  const child = spawn(
    process.execPath,
    [...GATEWAY_V8_FLAGS, SERVER_SCRIPT, JSON.stringify(config)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanup.add(async () => {
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`gateway process exited with ${code}`)));
  });
  const { port, pid } = JSON.parse(line) as { port: number; pid: number };
  return {
    port,
    pid,
    child,
    memory() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = (field: string) =>
        Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) * 1024;
      return { rss: kib('VmRSS'), peak: kib('VmHWM') };
    },
  };
}
