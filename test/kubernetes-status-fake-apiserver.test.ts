// The fake API server's PATCH of the status subresource, read with a raw
// HTTP client, as the real API server behaves: merge patch (RFC 7386) of
// application/merge-patch+json, only `status` changes through /status,
// resourceVersion bumps on a change (not on a no-op), one MODIFIED watch
// event, 404 for a missing object, 415 for other patch types, 409 for a
// stale metadata.resourceVersion precondition.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeApiServer,
  type FakeObject,
  mergePatch,
  startFakeApiServer,
} from './support/fake-apiserver.ts';
import { apiRequest, apiWatch } from './support/fake-apiserver-client.ts';

const GW = 'gateway.networking.k8s.io';
let api: FakeApiServer;

beforeAll(async () => {
  api = await startFakeApiServer();
});
afterAll(async () => {
  await api.close();
});

const patch = (path: string, body: unknown, contentType = 'application/merge-patch+json') =>
  apiRequest(api.url, path, { method: 'PATCH', body, contentType });

/** Watch events of one collection from a resourceVersion, collected as they come. */
const watch = (path: string) => apiWatch(api.url, path);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let n = 0;
function route(): FakeObject {
  return {
    apiVersion: `${GW}/v1`,
    kind: 'HTTPRoute',
    metadata: { namespace: 'status', name: `r-${++n}`, labels: { app: 'web' } },
    spec: { parentRefs: [{ name: 'edge' }] },
    status: {
      parents: [
        {
          parentRef: { name: 'other' },
          controllerName: 'example.com/other',
          conditions: [{ type: 'Accepted', status: 'True' }],
        },
      ],
    },
  };
}

const statusPath = (name: string) => `/apis/${GW}/v1/namespaces/status/httproutes/${name}/status`;

describe('mergePatch (RFC 7386)', () => {
  // The RFC's own examples (appendix A), a few of them.
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)('%j patched with %j is %j', (target, p, expected) => {
    expect(mergePatch(target, p)).toEqual(expected);
  });
});

describe('fake API server: PATCH .../status', () => {
  it('merges status only, keeps spec, metadata and generation, bumps resourceVersion, sends MODIFIED', async () => {
    const created = api.create(route());
    const name = created.metadata.name;
    const stream = await watch(
      `/apis/${GW}/v1/namespaces/status/httproutes?watch=1&resourceVersion=${created.metadata.resourceVersion}`,
    );
    try {
      const reply = await patch(statusPath(name), {
        spec: { parentRefs: [] },
        metadata: { labels: { app: 'changed' } },
        status: {
          parents: [
            {
              parentRef: { name: 'edge' },
              controllerName: 'pier.dev/gateway',
              conditions: [{ type: 'Accepted', status: 'True' }],
            },
          ],
          extra: { a: 1 },
        },
      });
      expect(reply.status).toBe(200);
      const rv = Number(created.metadata.resourceVersion) + 1;
      expect(reply.body).toMatchObject({
        apiVersion: `${GW}/v1`,
        kind: 'HTTPRoute',
        metadata: { name, labels: { app: 'web' }, resourceVersion: String(rv), generation: 1 },
        spec: { parentRefs: [{ name: 'edge' }] },
      });
      // A list in a merge patch replaces the list: the other controller's entry is gone.
      expect((reply.body.status as { parents: unknown[] }).parents).toEqual([
        {
          parentRef: { name: 'edge' },
          controllerName: 'pier.dev/gateway',
          conditions: [{ type: 'Accepted', status: 'True' }],
        },
      ]);
      const stored = api.get(GW, 'HTTPRoute', 'status', name)!;
      expect(stored.spec).toEqual({ parentRefs: [{ name: 'edge' }] });
      expect(stored.status).toMatchObject({ extra: { a: 1 } });
      expect(api.resourceVersion).toBe(rv);

      // null removes a key.
      const removed = await patch(statusPath(name), { status: { extra: null } });
      expect(removed.status).toBe(200);
      expect(removed.body.status).not.toHaveProperty('extra');
      expect((removed.body.metadata as { resourceVersion: string }).resourceVersion).toBe(
        String(rv + 1),
      );

      for (let i = 0; i < 100 && stream.events.length < 2; i++) await sleep(10);
      expect(stream.events.map((e) => e.type)).toEqual(['MODIFIED', 'MODIFIED']);
      expect(stream.events[0]).toMatchObject({
        object: { metadata: { resourceVersion: String(rv) }, status: { extra: { a: 1 } } },
      });
    } finally {
      stream.close();
    }
  });

  it('a patch that changes nothing keeps resourceVersion and sends no event', async () => {
    const created = api.create(route());
    const name = created.metadata.name;
    const stream = await watch(
      `/apis/${GW}/v1/namespaces/status/httproutes?watch=1&resourceVersion=${created.metadata.resourceVersion}`,
    );
    try {
      const before = api.resourceVersion;
      const reply = await patch(statusPath(name), {
        spec: { parentRefs: [] },
        status: { parents: (created.status as { parents: unknown[] }).parents },
      });
      expect(reply.status).toBe(200);
      expect((reply.body.metadata as { resourceVersion: string }).resourceVersion).toBe(
        created.metadata.resourceVersion,
      );
      expect(api.resourceVersion).toBe(before);
      await sleep(100);
      expect(stream.events).toEqual([]);
    } finally {
      stream.close();
    }
  });

  it('works on cluster-scoped objects and core kinds', async () => {
    api.create({
      apiVersion: `${GW}/v1`,
      kind: 'GatewayClass',
      metadata: { name: 'status-class' },
      spec: { controllerName: 'pier.dev/gateway' },
    });
    const reply = await patch(`/apis/${GW}/v1/gatewayclasses/status-class/status`, {
      status: { conditions: [{ type: 'Accepted', status: 'True' }] },
    });
    expect(reply.status).toBe(200);
    expect(api.get(GW, 'GatewayClass', undefined, 'status-class')?.status).toEqual({
      conditions: [{ type: 'Accepted', status: 'True' }],
    });
    api.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'status', name: 'svc' },
      spec: { ports: [{ port: 80 }] },
    });
    const svc = await patch('/api/v1/namespaces/status/services/svc/status', {
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
    });
    expect(svc.status).toBe(200);
    expect(svc.body).toMatchObject({
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
    });
  });

  it('404 for a missing object, 415 for other patch types, 409 for a stale resourceVersion, 405 off /status', async () => {
    const missing = await patch(statusPath('nope'), { status: {} });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });

    const created = api.create(route());
    const name = created.metadata.name;
    const before = api.resourceVersion;
    for (const type of [
      'application/json-patch+json',
      'application/strategic-merge-patch+json',
      'application/json',
    ]) {
      const reply = await patch(statusPath(name), { status: { a: 1 } }, type);
      expect(reply.status, type).toBe(415);
      expect(reply.body).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType' });
    }
    const stale = await patch(statusPath(name), {
      metadata: { resourceVersion: '1' },
      status: { a: 1 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ reason: 'Conflict' });
    const fresh = await patch(statusPath(name), {
      metadata: { resourceVersion: created.metadata.resourceVersion },
      status: { a: 1 },
    });
    expect(fresh.status).toBe(200);
    expect(api.resourceVersion).toBe(before + 1);

    const notStatus = await patch(`/apis/${GW}/v1/namespaces/status/httproutes/${name}`, {
      status: { a: 2 },
    });
    expect(notStatus.status).toBe(405);
    const bad = await patch(statusPath(name), '{not json');
    expect(bad.status).toBe(400);
    expect(api.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toContain(415);
  });
});
