// `pier gateway` as an operator runs it (the real executable): N worker
// processes sharing the port with SO_REUSEPORT under a primary that serves
// readiness and the workers' metrics, restarts a worker that dies, and on
// SIGTERM drains (a request in flight completes) and exits 0; and several
// gateways on one Redis Store converging on the same routes.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../src/store/create-store.ts';
import {
  type Backend,
  edgeGatewayYaml,
  freePort,
  LOOPBACK,
  objectsOf,
  serviceYaml,
  startEchoBackend,
} from './gateway-harness.ts';
import { describeWithRedis } from './support/redis-server.ts';

interface PierProcess {
  child: ChildProcess;
  output: () => string;
  adminUrl: string;
}

const running = new Set<ChildProcess>();
afterEach(async () => {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  running.clear();
});

function manifests(gatewayPort: number, backendPort: number, path = '/'): string {
  return `${edgeGatewayYaml('default', gatewayPort)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: default }
spec:
  parentRefs: [{ name: edge }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: ${path} } }], backendRefs: [{ name: be, port: 80 }] }]
---
${serviceYaml('default', 'be', [backendPort])}`;
}

/** Starts `pier gateway` with these flags; resolves once its primary printed its banner. */
async function startPier(flags: string[]): Promise<PierProcess> {
  const child = spawn(
    process.execPath,
    [
      'bin/pier.ts',
      'gateway',
      '--admin.address',
      `${LOOPBACK}:0`,
      '--gateway.access-log',
      'off',
      ...flags,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PIER_CONFIG: '' } },
  );
  running.add(child);
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (c: string) => {
    out += c;
  });
  child.stderr!.on('data', (c: string) => {
    out += c;
  });
  const adminUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`pier gateway did not start:\n${out}`)),
      30_000,
    );
    const check = () => {
      const m = /^Pier gateway .*admin (http:\/\/[\d.]+:\d+)$/m.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pier gateway exited with ${code}:\n${out}`));
    });
  });
  return { child, output: () => out, adminUrl };
}

function get(
  port: number,
  path: string,
  host = LOOPBACK,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `${what} did not happen within ${timeoutMs} ms${last === undefined ? '' : ` (${String(last)})`}`,
  );
}

/** Listening TCP sockets on 127.0.0.1:<port> (/proc/net/tcp): one per worker with SO_REUSEPORT. */
function listeners(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .filter((line) => {
      const f = line.trim().split(/\s+/);
      return f[1] === `0100007F:${hex}` && f[3] === '0A';
    }).length;
}

/** The primary's worker processes (Linux: /proc/<pid>/task/<pid>/children). */
function workerPids(primary: number): number[] {
  return readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter((p) => p !== '')
    .map(Number);
}

describe('pier gateway with workers', () => {
  let backend: Backend;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    backend = await startEchoBackend('be');
    dir = mkdtempSync(join(tmpdir(), 'pier-gw-process-'));
    port = await freePort();
    writeFileSync(join(dir, 'gateway.yaml'), manifests(port, backend.port));
  });
  afterAll(async () => {
    await backend?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('runs 2 workers on one port, serves, aggregates their metrics, and restarts a worker that dies', async () => {
    const pier = await startPier(['--manifests.path', dir, '--gateway.workers', '2']);
    expect((await fetch(`${pier.adminUrl}/readyz`)).status).toBe(200);
    expect(listeners(port)).toBe(2);
    const workers = workerPids(pier.child.pid!);
    expect(workers).toHaveLength(2);
    for (let i = 0; i < 20; i++) expect((await get(port, `/n/${i}`)).status).toBe(200);
    const metrics = await (await fetch(`${pier.adminUrl}/metrics`)).text();
    const served = [
      ...metrics.matchAll(/^pier_gateway_requests_total\{[^}]*code="200"\} (\d+)$/gm),
    ].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(served).toBe(20);

    process.kill(workers[0]!, 'SIGKILL');
    const replaced = await waitFor('a new worker', async () => {
      const now = workerPids(pier.child.pid!);
      return now.length === 2 && !now.includes(workers[0]!) ? now : undefined;
    });
    expect(replaced).toContain(workers[1]);
    await waitFor('readiness after the restart', async () =>
      (await fetch(`${pier.adminUrl}/readyz`)).status === 200 ? true : undefined,
    );
    expect(listeners(port)).toBe(2);
    expect((await get(port, '/after')).status).toBe(200);
    expect(pier.output()).toContain('worker exited unexpectedly; restarting it');
  });

  it('on SIGTERM turns unready, finishes the request in flight, stops accepting and exits 0', async () => {
    const pier = await startPier([
      '--manifests.path',
      dir,
      '--gateway.workers',
      '2',
      '--gateway.shutdown-grace-ms',
      '5000',
    ]);
    const slow = get(port, '/slow?ms=1500');
    await waitFor('the slow request to reach the backend', async () =>
      backend.active > 0 ? true : undefined,
    );
    const exited = once(pier.child, 'exit');
    pier.child.kill('SIGTERM');
    await waitFor('readiness to turn false', async () => {
      const r = await fetch(`${pier.adminUrl}/readyz`);
      return r.status === 503 ? true : undefined;
    });
    await waitFor(
      'the listeners to close',
      async () => (listeners(port) === 0 ? true : undefined),
      5000,
    );
    await expect(get(port, '/new')).rejects.toThrow(/ECONNREFUSED/);
    expect(await slow).toMatchObject({ status: 200 });
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('with gateway.workers 1 serves from the one process', async () => {
    const pier = await startPier(['--manifests.path', dir, '--gateway.workers', '1']);
    expect(workerPids(pier.child.pid!)).toEqual([]);
    expect(listeners(port)).toBe(1);
    expect((await get(port, '/one')).status).toBe(200);
    const exited = once(pier.child, 'exit');
    pier.child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  });
});

describeWithRedis('gateways on one Redis Store', (redis) => {
  let a: Backend;
  let b: Backend;
  beforeAll(async () => {
    [a, b] = await Promise.all([startEchoBackend('a'), startEchoBackend('b')]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('converge on the routes written to the Store', async () => {
    const url = redis().url;
    const cluster = `gw${process.pid}`;
    const port = await freePort();
    const store = createStore(url, { cluster });
    try {
      for (const o of objectsOf(manifests(port, a.port, '/first'))) await store.apply(o);
      // Two replicas (two workers each) on two loopback addresses, one Store.
      const replicas = await Promise.all(
        ['127.0.0.1', '127.0.0.2'].map((address) =>
          startPier([
            '--store.url',
            url,
            '--store.cluster',
            cluster,
            '--gateway.workers',
            '2',
            '--gateway.address',
            address,
          ]),
        ),
      );
      for (const address of ['127.0.0.1', '127.0.0.2']) {
        await waitFor(`${address} to serve /first`, async () =>
          (await get(port, '/first', address)).status === 200 ? true : undefined,
        );
      }
      // A change in the Store reaches every worker of every replica.
      for (const o of objectsOf(manifests(port, b.port, '/second'))) await store.apply(o);
      for (const address of ['127.0.0.1', '127.0.0.2']) {
        await waitFor(`${address} to serve /second from b`, async () => {
          // Enough requests that both workers of the replica answer some.
          for (let i = 0; i < 10; i++) {
            const r = await get(port, '/second', address);
            if (r.status !== 200 || !r.body.includes('"server":"b"')) return undefined;
          }
          return true;
        });
        expect((await get(port, '/first', address)).status).toBe(404);
      }
      for (const replica of replicas) {
        const exited = once(replica.child, 'exit');
        replica.child.kill('SIGTERM');
        expect((await exited)[0]).toBe(0);
      }
    } finally {
      await store.close();
    }
  });
});
