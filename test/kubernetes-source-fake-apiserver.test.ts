// The fake API server (test/support/fake-apiserver.ts) against the protocol,
// read with a raw HTTP client: what the Kubernetes source's tests rely on is
// what a real API server does, not what the source happens to expect.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeApiServer,
  type FakeObject,
  startFakeApiServer,
} from './support/fake-apiserver.ts';
import {
  apiRequest,
  apiWatch,
  FAKE_TOKEN,
  type WatchStream,
} from './support/fake-apiserver-client.ts';

let api: FakeApiServer;

beforeAll(async () => {
  api = await startFakeApiServer();
});
afterAll(async () => {
  await api.close();
});

const request = (path: string, token: string | null = FAKE_TOKEN) =>
  apiRequest(api.url, path, { token });

interface Event {
  type: string;
  object: {
    apiVersion?: string;
    kind?: string;
    code?: number;
    reason?: string;
    metadata: { name?: string; resourceVersion?: string; labels?: Record<string, string> };
  };
}

type Stream = WatchStream<Event>;

const streams: Stream[] = [];
afterEach(() => {
  for (const s of streams.splice(0)) s.close();
});

async function watch(path: string): Promise<Stream> {
  const stream = await apiWatch<Event>(api.url, path);
  streams.push(stream);
  return stream;
}

let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}`;

function service(namespace: string, name: string, labels?: Record<string, string>): FakeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name, ...(labels === undefined ? {} : { labels }) },
    spec: { ports: [{ port: 80 }] },
  };
}

describe('fake API server: list', () => {
  it('answers 401 without the bearer token and 404 NotFound Status for what is not served', async () => {
    expect((await request('/api/v1/services', null)).status).toBe(401);
    expect((await request('/api/v1/services', 'wrong')).body).toMatchObject({
      kind: 'Status',
      code: 401,
      reason: 'Unauthorized',
    });
    for (const path of [
      '/api/v1/widgets',
      '/apis/example.com/v1/things',
      '/apis/gateway.networking.k8s.io/v1/referencegrants', // served as v1beta1 only
    ]) {
      const reply = await request(path);
      expect(reply.status, path).toBe(404);
      expect(reply.body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    }
  });

  it('lists with the list resourceVersion; built-in items lack apiVersion/kind, CRs carry them', async () => {
    const ns = unique('list');
    api.create(service(ns, 'a'));
    api.create({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { namespace: ns, name: 'r' },
      spec: {},
    });
    const services = await request(`/api/v1/namespaces/${ns}/services`);
    expect(services.status).toBe(200);
    expect(services.body).toMatchObject({
      kind: 'ServiceList',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(api.resourceVersion) },
    });
    const [item] = services.body.items as Record<string, unknown>[];
    expect(item).not.toHaveProperty('apiVersion');
    expect(item).not.toHaveProperty('kind');
    expect(item).toHaveProperty('metadata.managedFields');
    expect(item).toHaveProperty('metadata.uid');

    const routes = await request(
      `/apis/gateway.networking.k8s.io/v1beta1/namespaces/${ns}/httproutes`,
    );
    expect(routes.body.kind).toBe('HTTPRouteList');
    expect(routes.body.items).toEqual([
      expect.objectContaining({
        apiVersion: 'gateway.networking.k8s.io/v1beta1',
        kind: 'HTTPRoute',
      }),
    ]);
  });

  it('pages a consistent snapshot with limit/continue, and expires continue tokens on compaction', async () => {
    const ns = unique('page');
    for (const name of ['a', 'b', 'c', 'd', 'e']) api.create(service(ns, name));
    const first = await request(`/api/v1/namespaces/${ns}/services?limit=2`);
    const meta = first.body.metadata as {
      resourceVersion: string;
      continue: string;
      remainingItemCount: number;
    };
    expect(meta.remainingItemCount).toBe(3);
    expect(
      (first.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name),
    ).toEqual(['a', 'b']);

    // A change after the first page is not in the later pages: they show the first page's snapshot.
    api.delete('v1', 'Service', ns, 'c');
    const second = await request(
      `/api/v1/namespaces/${ns}/services?limit=2&continue=${meta.continue}`,
    );
    expect(second.body.metadata).toMatchObject({ resourceVersion: meta.resourceVersion });
    expect(
      (second.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name),
    ).toEqual(['c', 'd']);

    const token = (second.body.metadata as { continue: string }).continue;
    api.compact();
    const expired = await request(`/api/v1/namespaces/${ns}/services?limit=2&continue=${token}`);
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
  });

  it('serves resourceVersionMatch=Exact from history, 410 once compacted; too large is 504', async () => {
    const ns = unique('exact');
    api.create(service(ns, 'a'));
    const before = api.resourceVersion;
    api.create(service(ns, 'b'));
    const exact = await request(
      `/api/v1/namespaces/${ns}/services?resourceVersion=${before}&resourceVersionMatch=Exact`,
    );
    expect(exact.body.metadata).toMatchObject({ resourceVersion: String(before) });
    expect((exact.body.items as unknown[]).length).toBe(1);
    const newer = await request(
      `/api/v1/namespaces/${ns}/services?resourceVersion=${before}&resourceVersionMatch=NotOlderThan`,
    );
    expect((newer.body.items as unknown[]).length).toBe(2);

    api.compact();
    const gone = await request(
      `/api/v1/namespaces/${ns}/services?resourceVersion=${before}&resourceVersionMatch=Exact`,
    );
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ reason: 'Expired', code: 410 });
    const future = await request(
      `/api/v1/services?resourceVersion=${api.resourceVersion + 10}&resourceVersionMatch=NotOlderThan`,
    );
    expect(future.status).toBe(504);
  });

  it('filters by label and field selectors; an unsupported field is 400', async () => {
    const ns = unique('select');
    api.create(service(ns, 'web', { app: 'web', tier: 'front' }));
    api.create(service(ns, 'db', { app: 'db' }));
    api.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { namespace: ns, name: 'tls' },
      type: 'kubernetes.io/tls',
      data: {},
    });
    api.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { namespace: ns, name: 'plain' },
      type: 'Opaque',
      data: {},
    });
    const names = async (path: string) =>
      ((await request(path)).body.items as { metadata: { name: string } }[]).map(
        (i) => i.metadata.name,
      );
    expect(
      await names(`/api/v1/namespaces/${ns}/services?labelSelector=app%20in%20(web,api)`),
    ).toEqual(['web']);
    expect(await names(`/api/v1/namespaces/${ns}/services?labelSelector=!tier`)).toEqual(['db']);
    expect(
      await names(`/api/v1/namespaces/${ns}/services?fieldSelector=metadata.name!=web`),
    ).toEqual(['db']);
    expect(
      await names(`/api/v1/namespaces/${ns}/secrets?fieldSelector=type%3Dkubernetes.io%2Ftls`),
    ).toEqual(['tls']);
    const bad = await request(
      `/api/v1/namespaces/${ns}/services?fieldSelector=spec.type%3DNodePort`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('field label not supported: spec.type');
  });
});

describe('fake API server: watch', () => {
  it('streams one JSON event per line from a resourceVersion, with the served apiVersion and kind', async () => {
    const ns = unique('watch');
    const from = api.resourceVersion;
    const stream = await watch(`/api/v1/namespaces/${ns}/services?watch=1&resourceVersion=${from}`);
    expect(stream.status).toBe(200);
    api.create(service(ns, 'a'));
    api.update({ ...service(ns, 'a'), spec: { ports: [{ port: 81 }] } });
    api.delete('v1', 'Service', ns, 'a');
    const events = await stream.waitFor(3);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(events.every((e) => e.object.apiVersion === 'v1' && e.object.kind === 'Service')).toBe(
      true,
    );
    const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs).toEqual([from + 1, from + 2, from + 3]);
    expect(
      stream
        .raw()
        .split('\n')
        .filter((l) => l !== '').length,
    ).toBe(3);
  });

  it('without a resourceVersion starts with ADDED for every current object', async () => {
    const ns = unique('initial');
    api.create(service(ns, 'a'));
    api.create(service(ns, 'b'));
    const stream = await watch(`/api/v1/namespaces/${ns}/services?watch=true`);
    const events = await stream.waitFor(2);
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'a'],
      ['ADDED', 'b'],
    ]);
  });

  it('replays history after the resourceVersion, and answers a compacted one with an ERROR 410 event', async () => {
    const ns = unique('replay');
    const from = api.resourceVersion;
    api.create(service(ns, 'a'));
    api.create(service(ns, 'b'));
    const replay = await watch(`/api/v1/namespaces/${ns}/services?watch=1&resourceVersion=${from}`);
    expect((await replay.waitFor(2)).map((e) => e.object.metadata.name)).toEqual(['a', 'b']);

    api.compact();
    const gone = await watch(`/api/v1/namespaces/${ns}/services?watch=1&resourceVersion=${from}`);
    expect(gone.status).toBe(200);
    const [error] = await gone.waitFor(1);
    expect(error).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired' },
    });
    expect(await gone.ended).toBe('end');
  });

  it('sends bookmarks only to watches that allow them, at the current resourceVersion', async () => {
    const ns = unique('bookmark');
    const from = String(api.resourceVersion);
    const allowed = await watch(
      `/api/v1/namespaces/${ns}/services?watch=1&resourceVersion=${from}&allowWatchBookmarks=true`,
    );
    const plain = await watch(`/api/v1/namespaces/${ns}/services?watch=1&resourceVersion=${from}`);
    api.create(service(unique('elsewhere'), 'x'));
    api.bookmark();
    const [bookmark] = await allowed.waitFor(1);
    expect(bookmark).toEqual({
      type: 'BOOKMARK',
      object: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { resourceVersion: String(api.resourceVersion) },
      },
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(plain.events).toEqual([]);
  });

  it('ends the stream cleanly after timeoutSeconds', async () => {
    const started = Date.now();
    const stream = await watch(
      `/api/v1/services?watch=1&resourceVersion=${api.resourceVersion}&timeoutSeconds=1`,
    );
    expect(await stream.ended).toBe('end');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('turns selector changes into ADDED and DELETED for the watch', async () => {
    const ns = unique('moves');
    const stream = await watch(
      `/api/v1/namespaces/${ns}/services?watch=1&resourceVersion=${api.resourceVersion}&labelSelector=app%3Dweb`,
    );
    api.create(service(ns, 's', { app: 'db' }));
    api.update(service(ns, 's', { app: 'web' }));
    api.update(service(ns, 's', { app: 'db' }));
    expect((await stream.waitFor(2)).map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
  });

  it('drops connections, keeps data over stop/start on the same port, and uninstalls CRDs with DELETED events', async () => {
    const dropped = await watch(`/api/v1/services?watch=1&resourceVersion=${api.resourceVersion}`);
    expect(api.watchCount('services')).toBeGreaterThan(0);
    api.dropWatches();
    expect(await dropped.ended).toBe('error');
    expect(api.watchCount()).toBe(0);

    const ns = unique('restart');
    api.create(service(ns, 'kept'));
    const port = api.port;
    await api.stop();
    await expect(request('/api/v1/services')).rejects.toThrow();
    await api.start();
    expect(api.port).toBe(port);
    expect(
      ((await request(`/api/v1/namespaces/${ns}/services`)).body.items as unknown[]).length,
    ).toBe(1);

    api.create({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: unique('gc') },
      spec: { controllerName: 'pier.dev/gateway' },
    });
    const classes = await watch(
      `/apis/gateway.networking.k8s.io/v1/gatewayclasses?watch=1&resourceVersion=${api.resourceVersion}`,
    );
    api.uninstall('gateway.networking.k8s.io');
    try {
      expect((await classes.waitFor(1))[0]!.type).toBe('DELETED');
      expect(await classes.ended).toBe('end');
      expect((await request('/apis/gateway.networking.k8s.io/v1/gatewayclasses')).status).toBe(404);
    } finally {
      api.install('gateway.networking.k8s.io');
    }
    expect((await request('/apis/gateway.networking.k8s.io/v1/gatewayclasses')).body.items).toEqual(
      [],
    );
  });
});
