// Gateway API status written back to the cluster: the real Kubernetes source
// (HTTP client, reflectors, Store writer, leader election on the memory
// Store) with the gateway's status publisher, against the fake API server.
// Checked on the cluster's side: what `kubectl get -o yaml` would show, how
// many PATCHes it took (one per object: nothing planned from a half-loaded
// Store, bursts coalesced) and that a settled cluster sees no more writes.

import { afterEach, describe, expect, it } from 'vitest';
import { createGatewayStatusPublisher } from '../gateway/status/status-publisher.ts';
import { Kinds, type KubeObject } from '../src/model/object.ts';
import { createLogger } from '../src/observe/logger.ts';
import { createKubernetesSource, type KubernetesSource } from '../src/sources/kubernetes/source.ts';
import { createMemoryStore } from '../src/store/memory.ts';
import type { Store } from '../src/store.ts';
import {
  type FakeApiServer,
  type FakeObject,
  startFakeApiServer,
} from './support/fake-apiserver.ts';

const GW = 'gateway.networking.k8s.io';
const V1 = `${GW}/v1`;
const OURS = 'pier.dev/gateway';
const THEIRS = 'example.com/other';
const T0 = '2026-01-01T00:00:00Z';

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const theirEntry = {
  parentRef: { name: 'other-edge' },
  controllerName: THEIRS,
  conditions: [
    {
      type: 'Accepted',
      status: 'True',
      reason: 'Accepted',
      message: 'theirs',
      lastTransitionTime: T0,
    },
  ],
};

function route(name: string, parents: string[], backend: string, status?: unknown): FakeObject {
  return {
    apiVersion: V1,
    kind: 'HTTPRoute',
    metadata: { namespace: 'shop', name },
    spec: {
      parentRefs: parents.map((p) => ({ name: p })),
      hostnames: [`${name}.example`],
      rules: [{ backendRefs: [{ name: backend, port: 80 }] }],
    },
    ...(status === undefined ? {} : { status }),
  };
}

const CLUSTER: FakeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'shop', name: 'web' },
    spec: { ports: [{ port: 80 }] },
  },
  {
    apiVersion: V1,
    kind: 'GatewayClass',
    metadata: { name: 'pier' },
    spec: { controllerName: OURS },
  },
  {
    apiVersion: V1,
    kind: 'GatewayClass',
    metadata: { name: 'theirs' },
    spec: { controllerName: THEIRS },
  },
  {
    apiVersion: V1,
    kind: 'Gateway',
    metadata: { namespace: 'shop', name: 'edge' },
    spec: {
      gatewayClassName: 'pier',
      listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
    },
  },
  {
    apiVersion: V1,
    kind: 'Gateway',
    metadata: { namespace: 'shop', name: 'other-edge' },
    spec: {
      gatewayClassName: 'theirs',
      listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
    },
  },
  route('web', ['edge'], 'web'),
  route('broken', ['edge'], 'nowhere'),
  // Attached to their Gateway and ours: their entry must stay as it is.
  route('shared', ['other-edge', 'edge'], 'web', { parents: [theirEntry] }),
  // Only theirs: never touched.
  route('foreign', ['other-edge'], 'web', { parents: [theirEntry] }),
];

interface Cond {
  type: string;
  status: string;
  reason: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}
interface Parent {
  parentRef: { name: string };
  controllerName: string;
  conditions: Cond[];
}

describe('Gateway API status through the Kubernetes source', () => {
  let api: FakeApiServer | undefined;
  let store: Store | undefined;
  let source: KubernetesSource | undefined;

  afterEach(async () => {
    await source?.close();
    await store?.close();
    await api?.close();
    source = undefined;
    store = undefined;
    api = undefined;
  });

  const patches = () => api!.requests.filter((r) => r.method === 'PATCH');

  /** The cluster in a fake API server. */
  async function startCluster(): Promise<FakeApiServer> {
    api = await startFakeApiServer();
    for (const object of CLUSTER) api.create(structuredClone(object));
    return api;
  }

  /** A source leading that cluster with the gateway's publisher; its warn lines go to `lines`. */
  async function startSource(identity: string, lines: Record<string, unknown>[] = []) {
    store = createMemoryStore();
    source = createKubernetesSource({
      store,
      logger: createLogger(
        { level: 'warn', format: 'json' },
        { destination: { write: (line: string) => void lines.push(JSON.parse(line)) } },
      ),
      kubeconfig: api!.kubeconfig,
      identity,
      leaseMs: 3000,
      renewMs: 500,
      watchTimeoutSeconds: 30,
      backoff: { initialMs: 50, maxMs: 400 },
      statusPublishers: [createGatewayStatusPublisher({ controllerName: OURS })],
      statusDelayMs: 50,
      statusBackoff: { initialMs: 50, maxMs: 400 },
    });
    await source.start();
    return source;
  }
  const get = (kind: string, namespace: string | undefined, name: string) =>
    api!.get(GW, kind, namespace, name) as
      | (FakeObject & { status?: Record<string, unknown> })
      | undefined;
  const parentsOf = (name: string) =>
    (get('HTTPRoute', 'shop', name)?.status?.parents ?? []) as Parent[];
  const conditionOf = (conditions: Cond[] | undefined, type: string) =>
    conditions?.find((c) => c.type === type);
  /** The Store holds the route with this many parents in its status (our writes came back). */
  const storeParents = async (name: string) =>
    (
      (
        (await store!.get({ kind: Kinds.HTTPRoute, namespace: 'shop', name })) as
          | (KubeObject & { status?: { parents?: unknown[] } })
          | undefined
      )?.status?.parents ?? []
    ).length;

  /** Waits until no PATCH came for `quietMs`, then checks none comes for another second. */
  async function settledWithoutWrites(what: string) {
    let count = patches().length;
    let since = Date.now();
    await until(() => {
      if (patches().length !== count) {
        count = patches().length;
        since = Date.now();
      }
      return Date.now() - since > 500;
    }, `${what}: the writes to settle`);
    const before = patches().length;
    await sleep(1000);
    expect(
      patches()
        .slice(before)
        .map((r) => r.path),
      `${what}: PATCHes over a quiet second`,
    ).toEqual([]);
  }

  it('writes class, Gateway and route status once, keeps other controllers entries, and stops', async () => {
    api = await startCluster();
    source = await startSource('status-test');

    await until(
      () =>
        parentsOf('web').length === 1 &&
        parentsOf('broken').length === 1 &&
        parentsOf('shared').length === 2 &&
        get('Gateway', 'shop', 'edge')?.status !== undefined &&
        get('GatewayClass', undefined, 'pier')?.status !== undefined,
      'status on the cluster objects',
    );

    // GatewayClass: Accepted.
    const klass = get('GatewayClass', undefined, 'pier')!;
    expect(conditionOf(klass.status!.conditions as Cond[], 'Accepted')).toMatchObject({
      status: 'True',
      reason: 'Accepted',
      observedGeneration: 1,
    });
    expect(get('GatewayClass', undefined, 'theirs')?.status).toBeUndefined();

    // Gateway: Accepted, Programmed, the listener with its attached routes.
    const gateway = get('Gateway', 'shop', 'edge')!.status as {
      conditions: Cond[];
      listeners: {
        name: string;
        attachedRoutes: number;
        supportedKinds: unknown[];
        conditions: Cond[];
      }[];
    };
    expect(gateway.conditions.map((c) => `${c.type}=${c.status}`)).toEqual([
      'Accepted=True',
      'Programmed=True',
    ]);
    expect(gateway).not.toHaveProperty('addresses');
    expect(gateway.listeners).toHaveLength(1);
    expect(gateway.listeners[0]).toMatchObject({ name: 'http', attachedRoutes: 3 });
    expect(gateway.listeners[0]!.supportedKinds).toContainEqual({ group: GW, kind: 'HTTPRoute' });
    expect(get('Gateway', 'shop', 'other-edge')?.status).toBeUndefined();

    // Routes: ours per parentRef; BackendNotFound for the broken one; theirs kept.
    const [web] = parentsOf('web');
    expect(web).toMatchObject({ controllerName: OURS, parentRef: { name: 'edge' } });
    expect(conditionOf(web!.conditions, 'Accepted')).toMatchObject({
      status: 'True',
      observedGeneration: 1,
    });
    expect(conditionOf(web!.conditions, 'ResolvedRefs')).toMatchObject({ status: 'True' });
    const [broken] = parentsOf('broken');
    expect(conditionOf(broken!.conditions, 'ResolvedRefs')).toMatchObject({
      status: 'False',
      reason: 'BackendNotFound',
    });
    const shared = parentsOf('shared');
    expect(shared[0]).toEqual(theirEntry);
    expect(shared[1]).toMatchObject({ controllerName: OURS, parentRef: { name: 'edge' } });
    expect(parentsOf('foreign')).toEqual([theirEntry]);

    // One PATCH per object: nothing planned before the Store held the cluster, nothing twice.
    await until(async () => (await storeParents('shared')) === 2, 'our writes back in the Store');
    await settledWithoutWrites('first sync');
    expect(
      patches()
        .map((r) => r.path)
        .sort(),
    ).toEqual([
      `/apis/${GW}/v1/gatewayclasses/pier/status`,
      `/apis/${GW}/v1/namespaces/shop/gateways/edge/status`,
      `/apis/${GW}/v1/namespaces/shop/httproutes/broken/status`,
      `/apis/${GW}/v1/namespaces/shop/httproutes/shared/status`,
      `/apis/${GW}/v1/namespaces/shop/httproutes/web/status`,
    ]);
    expect(patches().every((r) => r.status === 200)).toBe(true);
    expect(source.status().statusWrites).toMatchObject({ patches: 5, failures: 0 });

    // Changes: web loses its backend (ResolvedRefs flips, Accepted keeps its time, the
    // generation moves); shared leaves our Gateway (our entry goes, theirs stays).
    const acceptedBefore = conditionOf(web!.conditions, 'Accepted')!.lastTransitionTime;
    await sleep(1100); // lastTransitionTime has second precision
    const before = patches().length;
    // As kubectl apply does: the main resource's update leaves status as it is.
    api.update(route('web', ['edge'], 'nowhere', get('HTTPRoute', 'shop', 'web')!.status));
    api.update(route('shared', ['other-edge'], 'web', get('HTTPRoute', 'shop', 'shared')!.status));
    await until(
      () =>
        conditionOf(parentsOf('web')[0]?.conditions, 'ResolvedRefs')?.status === 'False' &&
        parentsOf('shared').length === 1,
      'the changed status',
    );
    const [web2] = parentsOf('web');
    expect(conditionOf(web2!.conditions, 'Accepted')).toMatchObject({
      status: 'True',
      observedGeneration: 2,
      lastTransitionTime: acceptedBefore,
    });
    expect(conditionOf(web2!.conditions, 'ResolvedRefs')!.lastTransitionTime).not.toBe(
      acceptedBefore,
    );
    expect(parentsOf('shared')).toEqual([theirEntry]);
    await settledWithoutWrites('after the changes');
    // web, shared, and the Gateway (attachedRoutes 3 -> 2).
    expect(
      patches()
        .slice(before)
        .map((r) => r.path.split('/').slice(-2, -1)[0])
        .sort(),
    ).toEqual(['edge', 'shared', 'web']);
    expect(
      (get('Gateway', 'shop', 'edge')!.status as typeof gateway).listeners[0]!.attachedRoutes,
    ).toBe(2);

    // No longer the leader: no more writes.
    await source.close();
    const afterClose = patches().length;
    api.update(route('broken', ['edge'], 'web'));
    await sleep(800);
    expect(patches().length).toBe(afterClose);
  });

  it('retries a failed write with backoff and logs it once', async () => {
    api = await startCluster();
    // Every PATCH of the first two syncs and two of the third fail: only retries get
    // the status written (nothing else changes to wake the writer).
    api.failNext(12, 500, '/status');
    const lines: { code?: string; object?: string }[] = [];
    source = await startSource('status-retry', lines);
    await until(
      () =>
        parentsOf('web').length === 1 &&
        parentsOf('shared').length === 2 &&
        get('GatewayClass', undefined, 'pier')?.status !== undefined &&
        get('Gateway', 'shop', 'edge')?.status !== undefined &&
        parentsOf('broken').length === 1,
      'status written after the failures',
    );
    await settledWithoutWrites('after retries');
    const failed = patches().filter((r) => r.status === 500);
    expect(failed).toHaveLength(12);
    const logged = lines.filter((l) => l.code === 'PIER_KUBERNETES_STATUS_WRITE');
    // One line per object and kind of error, however often it was retried.
    expect(logged.map((l) => l.object).sort()).toEqual([
      'gateway.networking.k8s.io/Gateway shop/edge',
      'gateway.networking.k8s.io/GatewayClass pier',
      'gateway.networking.k8s.io/HTTPRoute shop/broken',
      'gateway.networking.k8s.io/HTTPRoute shop/shared',
      'gateway.networking.k8s.io/HTTPRoute shop/web',
    ]);
    expect(source.status().statusWrites).toMatchObject({ failures: 12, patches: 5 });
  });

  it('a 404 (the object is gone) is skipped: not a failure, not logged, no backoff', async () => {
    api = await startCluster();
    api.failNext(1, 404, 'httproutes/web/status');
    const lines: { code?: string }[] = [];
    source = await startSource('status-404', lines);
    await until(() => parentsOf('broken').length === 1, 'the other routes written');
    await settledWithoutWrites('after the 404');
    // The other objects' MODIFIED events made the next plan, which (the route being
    // there after all) wrote it: a real 404 would have been followed by a DELETED.
    expect(
      patches()
        .filter((r) => r.path.endsWith('/httproutes/web/status'))
        .map((r) => r.status),
    ).toEqual([404, 200]);
    expect(parentsOf('web')).toHaveLength(1);
    expect(source.status().statusWrites).toMatchObject({ failures: 0, patches: 5 });
    expect(lines.filter((l) => l.code === 'PIER_KUBERNETES_STATUS_WRITE')).toEqual([]);
  });
});
