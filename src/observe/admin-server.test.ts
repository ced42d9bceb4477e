import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Kinds } from '../model/object.ts';
import { createMemoryStore } from '../store/memory.ts';
import { type AdminServer, createAdminServer } from './admin-server.ts';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { createReadiness } from './readiness.ts';
import { createStoreState } from './store-state.ts';

// A real admin server on an ephemeral loopback port, real HTTP requests.

const lines: string[] = [];
const logger = createLogger(
  { level: 'debug', format: 'json' },
  { destination: { write: (l: string) => lines.push(l) } },
);
const servers: AdminServer[] = [];
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const cleanup of cleanups.splice(0)) await cleanup();
  lines.length = 0;
});

async function start(overrides: Partial<Parameters<typeof createAdminServer>[0]> = {}) {
  const readiness = createReadiness({ checkTimeoutMs: 200 });
  const metrics = createMetrics();
  const server = createAdminServer({
    address: '127.0.0.1:0',
    logger,
    metrics,
    readiness,
    state: () => ({ hello: 'state' }),
    ...overrides,
  });
  servers.push(server);
  const address = await server.listen();
  return { server, address, readiness, metrics, url: address.url };
}

describe('admin server', () => {
  it('listens on the ephemeral port it was given and says where', async () => {
    const { address } = await start();
    expect(address.host).toBe('127.0.0.1');
    expect(address.port).toBeGreaterThan(0);
    expect(address.url).toBe(`http://127.0.0.1:${address.port}`);
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({
        component: 'admin',
        msg: 'admin server listening',
        address: `127.0.0.1:${address.port}`,
      }),
    );
  });

  it('GET /healthz: 200 ok', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  it('GET /readyz follows the checks, lists the failing ones, and stays 503 after shutdown()', async () => {
    const { url, readiness } = await start();
    const ready = async () => {
      const res = await fetch(`${url}/readyz`);
      return [res.status, await res.text()] as const;
    };
    expect(await ready()).toEqual([200, 'ok']); // no checks yet
    let storeUp = false;
    readiness.set('store', () => storeUp);
    readiness.set('manifests', async () => true);
    expect(await ready()).toEqual([503, 'not ready\nstore: not ready\n']);
    storeUp = true;
    expect(await ready()).toEqual([200, 'ok']);
    readiness.set('slow', () => new Promise<boolean>(() => {}));
    readiness.set('broken', () => {
      throw Object.assign(new Error('redis gone'), { code: 'PIER_STORE_UNAVAILABLE' });
    });
    expect(await ready()).toEqual([
      503,
      'not ready\nslow: no answer within 200 ms\nbroken: check failed: redis gone (PIER_STORE_UNAVAILABLE)\n',
    ]);
    readiness.delete('slow');
    readiness.delete('broken');
    expect(await ready()).toEqual([200, 'ok']);
    readiness.shutdown();
    expect(await ready()).toEqual([503, 'not ready\nshutdown: the process is shutting down\n']);
    readiness.set('store', () => true);
    expect((await ready())[0]).toBe(503);
    // Liveness is not readiness: the process still lives.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('GET /metrics: Prometheus text with Node defaults and pier_ metrics', async () => {
    const { url, metrics } = await start();
    metrics
      .counter('test_requests_total', 'Requests in this test', ['code'])
      .inc({ code: '200' }, 3);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.contentType);
    const text = await res.text();
    expect(text).toContain(
      '# TYPE pier_test_requests_total counter\npier_test_requests_total{code="200"} 3\n',
    );
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  });

  it('GET /debug/state: the Store objects from the state port, Secret values redacted', async () => {
    const store = createMemoryStore();
    cleanups.push(() => store.close());
    await store.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    } as never);
    await store.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls', namespace: 'default' },
      type: 'kubernetes.io/tls',
      data: { 'tls.key': 'c2VjcmV0', 'tls.crt': 'Y2VydA==' },
    } as never);
    const { url } = await start({ state: createStoreState(store) });
    const res = await fetch(`${url}/debug/state`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as {
      store: string;
      revision: number;
      objects: Record<string, { metadata: { name: string }; data?: unknown }[]>;
    };
    expect(body.store).toBe(store.name);
    expect(body.revision).toBe(2);
    expect(Object.keys(body.objects)).toEqual([Kinds.Service, Kinds.Secret]);
    expect(body.objects.Service?.[0]?.metadata.name).toBe('web');
    expect(body.objects.Secret?.[0]?.data).toEqual({
      'tls.key': '(redacted, 8 characters)',
      'tls.crt': '(redacted, 8 characters)',
    });
    expect(JSON.stringify(body)).not.toContain('c2VjcmV0');
  });

  it('GET /debug/state: a failing port is a 500 with a code, logged', async () => {
    const { url } = await start({
      state: async () => {
        throw new Error('store closed');
      },
    });
    const res = await fetch(`${url}/debug/state`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      error: { code: 'PIER_OBSERVE_ADMIN_STATE', message: '/debug/state failed: store closed' },
    });
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({
        level: 'error',
        code: 'PIER_OBSERVE_ADMIN_STATE',
        component: 'admin',
      }),
    );
  });

  it('unknown paths and methods are 404 with the list of endpoints', async () => {
    const { url } = await start();
    for (const res of [
      await fetch(`${url}/nope`),
      await fetch(`${url}/healthz`, { method: 'POST' }),
    ]) {
      expect(res.status).toBe(404);
      expect(await res.text()).toBe(
        'not found; the admin server serves /healthz, /readyz, /metrics, /debug/state\n',
      );
    }
  });

  it('an address in use is a clear error naming the setting', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(resolve)));
    const port = (blocker.address() as AddressInfo).port;
    const server = createAdminServer({
      address: `127.0.0.1:${port}`,
      logger,
      metrics: createMetrics({ defaultMetrics: false }),
      readiness: createReadiness(),
      state: () => null,
    });
    servers.push(server);
    await expect(server.listen()).rejects.toMatchObject({
      code: 'PIER_OBSERVE_ADMIN_LISTEN',
      message: `the admin server cannot listen on 127.0.0.1:${port}: EADDRINUSE; set admin.address (PIER_ADMIN_ADDRESS, --admin.address) to a free host:port`,
    });
  });

  it('refuses an address that is not host:port', () => {
    expect(() =>
      createAdminServer({
        address: 'abc',
        logger,
        metrics: createMetrics({ defaultMetrics: false }),
        readiness: createReadiness(),
        state: () => null,
      }),
    ).toThrow('admin address "abc" must be host:port, e.g. 127.0.0.1:9901');
  });

  it('serves IPv6 loopback', async () => {
    const { address } = await start({ address: '[::1]:0' });
    expect(address.url).toBe(`http://[::1]:${address.port}`);
    expect(await (await fetch(`${address.url}/healthz`)).text()).toBe('ok');
  });

  it('close() lets an open request finish, drops idle keep-alive connections, and refuses new ones', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { server, address } = await start({
      state: async () => {
        await held;
        return { late: true };
      },
    });
    // An idle keep-alive connection must not hold close() up.
    const agentRes = await fetch(`${address.url}/healthz`);
    await agentRes.text();
    const slow = get(address.port, '/debug/state');
    await new Promise((resolve) => setTimeout(resolve, 50));
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    await expect(fetch(`${address.url}/healthz`)).rejects.toThrow();
    release();
    expect(await slow).toEqual({ status: 200, body: '{\n  "late": true\n}' });
    await closing;
    expect(closed).toBe(true);
    await server.close(); // twice is fine
  });

  it('close() cuts requests still open after the grace period', async () => {
    const { server, address } = await start({
      closeGraceMs: 100,
      state: () => new Promise(() => {}),
    });
    const hung = get(address.port, '/debug/state').catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.close();
    expect(await hung).toBeInstanceOf(Error);
  });
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
