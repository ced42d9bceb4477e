// The Kubernetes source against the fake API server (real HTTP on loopback),
// on the memory Store and on a real Redis Store: the same cases for both.
// The Store must end up holding exactly the cluster's objects through
// creates, updates and deletes, dropped watches, an API server outage, 410
// Gone, invalid objects, CRDs that come and go, and stale objects a previous
// leader left behind.

import { afterEach, describe, expect, it } from 'vitest';
import { describeRef, Kinds, type KubeObject, refOf } from '../src/model/object.ts';
import { createLogger, type Logger } from '../src/observe/logger.ts';
import {
  createKubernetesSource,
  type KubernetesSource,
  type KubernetesSourceOptions,
} from '../src/sources/kubernetes/source.ts';
import { SOURCE_ANNOTATION } from '../src/sources/manifests/source.ts';
import { createMemoryStore } from '../src/store/memory.ts';
import { createRedisStore } from '../src/store/redis.ts';
import type { Store } from '../src/store.ts';
import {
  type FakeApiServer,
  type FakeObject,
  selfSignedCertificate,
  startFakeApiServer,
} from './support/fake-apiserver.ts';
import { CLUSTER_FIXTURES, FIXTURE_KEYS } from './support/fake-apiserver-fixtures.ts';
import { describeWithRedis } from './support/redis-server.ts';

interface LogLine {
  level: string;
  msg: string;
  code?: string;
  [field: string]: unknown;
}

function collectingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger(
    { level: 'debug', format: 'json' },
    { destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } },
  );
  return { logger, lines };
}

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ALL_KINDS = [
  Kinds.Namespace,
  Kinds.Node,
  Kinds.Service,
  Kinds.EndpointSlice,
  Kinds.Pod,
  Kinds.Secret,
  Kinds.GatewayClass,
  Kinds.Gateway,
  Kinds.HTTPRoute,
  Kinds.GRPCRoute,
  Kinds.ReferenceGrant,
  Kinds.TCPRoute,
  Kinds.UDPRoute,
  Kinds.TLSRoute,
  Kinds.IngressClass,
  Kinds.Ingress,
];

/** `kind ns/name` of every object the Kubernetes source owns in the Store, sorted. */
async function ownedKeys(store: Store): Promise<string[]> {
  const keys: string[] = [];
  for (const kind of ALL_KINDS) {
    for (const item of (await store.list(kind)).items) {
      if (item.metadata.annotations?.[SOURCE_ANNOTATION] === 'kubernetes')
        keys.push(describeRef(refOf(item)));
    }
  }
  return keys.sort();
}

async function converged(store: Store, expected: readonly string[], what: string): Promise<void> {
  let last: string[] = [];
  try {
    await until(async () => {
      last = await ownedKeys(store);
      return JSON.stringify(last) === JSON.stringify([...expected].sort());
    }, what);
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\n  store: ${last.join(', ')}\n  want:  ${[...expected].sort().join(', ')}`,
    );
  }
}

const clone = <T>(value: T): T => structuredClone(value);

function service(namespace: string, name: string, port = 80): FakeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name },
    spec: { ports: [{ port }] },
  };
}

const portOf = (object: KubeObject | undefined) =>
  (object as unknown as { spec: { ports: { port: number }[] } } | undefined)?.spec.ports[0]?.port;

type StoreFactory = () => Promise<Store>;

function sourceCases(makeStore: StoreFactory): void {
  let api: FakeApiServer | undefined;
  let store: Store | undefined;
  const sources: KubernetesSource[] = [];

  afterEach(async () => {
    for (const source of sources.splice(0)) await source.close();
    await store?.close();
    await api?.close();
    store = undefined;
    api = undefined;
  });

  async function setup(
    options: {
      gatewayApi?: boolean;
      fixtures?: boolean;
      before?: (store: Store, api: FakeApiServer) => Promise<void>;
    } = {},
    sourceOptions: Partial<KubernetesSourceOptions> = {},
  ) {
    api = await startFakeApiServer({ gatewayApi: options.gatewayApi ?? true });
    if (options.fixtures ?? true) {
      for (const object of CLUSTER_FIXTURES) {
        if (options.gatewayApi === false && object.apiVersion.startsWith('gateway.')) continue;
        api.create(clone(object));
      }
    }
    store = await makeStore();
    await options.before?.(store, api);
    const { logger, lines } = collectingLogger();
    const source = createKubernetesSource({
      store,
      logger,
      kubeconfig: api.kubeconfig,
      identity: 'test',
      leaseMs: 3000,
      renewMs: 500,
      watchTimeoutSeconds: 30,
      notInstalledRetryMs: 300,
      backoff: { initialMs: 50, maxMs: 400 },
      ...sourceOptions,
    });
    sources.push(source);
    await source.start();
    return { api, store, source, lines };
  }

  const synced = (source: KubernetesSource) =>
    until(() => source.status().synced, 'the source to sync');
  const lists = (fake: FakeApiServer) =>
    fake.requests.filter((r) => !r.watch && r.status === 200).length;

  it('converges with the cluster through creates, updates and deletes', async () => {
    const { api, store, source } = await setup();
    await synced(source);
    await converged(store, FIXTURE_KEYS, 'the fixtures');

    const route = await store.get({ kind: Kinds.HTTPRoute, namespace: 'shop', name: 'web' });
    expect(route?.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route?.metadata.annotations?.[SOURCE_ANNOTATION]).toBe('kubernetes');
    expect(route?.metadata).not.toHaveProperty('managedFields');
    const grant = await store.get({
      kind: Kinds.ReferenceGrant,
      namespace: 'shop',
      name: 'from-edge',
    });
    expect(grant?.apiVersion).toBe('gateway.networking.k8s.io/v1beta1');
    // validateObject's defaults: the route's rule got its default match.
    expect(JSON.stringify(route)).toContain('"PathPrefix"');

    api.create(service('shop', 'api', 8080));
    api.update({ ...service('shop', 'web', 81), metadata: { namespace: 'shop', name: 'web' } });
    api.delete('gateway.networking.k8s.io/v1', 'HTTPRoute', 'shop', 'web');
    api.delete('v1', 'Node', undefined, 'node-1');
    const expected = FIXTURE_KEYS.filter(
      (k) => k !== 'gateway.networking.k8s.io/HTTPRoute shop/web' && k !== 'Node node-1',
    ).concat('Service shop/api');
    await converged(store, expected, 'creates and deletes');
    await until(
      async () =>
        portOf(await store.get({ kind: Kinds.Service, namespace: 'shop', name: 'web' })) === 81,
      'the update of Service shop/web',
    );
  });

  it('rewrites nothing when the cluster did not change what Pier keeps', async () => {
    const { api, store, source } = await setup();
    await synced(source);
    await converged(store, FIXTURE_KEYS, 'the fixtures');
    const before = await store.get({ kind: Kinds.Service, namespace: 'shop', name: 'web' });
    // A write that changes only server-set fields (resourceVersion, managedFields time) ...
    api.update(clone(CLUSTER_FIXTURES.find((o) => o.kind === 'Service')!));
    // ... then a change elsewhere, so we know the first event was processed.
    api.create(service('shop', 'marker'));
    await converged(store, [...FIXTURE_KEYS, 'Service shop/marker'], 'the marker');
    const after = await store.get({ kind: Kinds.Service, namespace: 'shop', name: 'web' });
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
  });

  it('resumes dropped watches from the last resourceVersion without a relist or a missed change', async () => {
    const { api, store, source } = await setup();
    await synced(source);
    await converged(store, FIXTURE_KEYS, 'the fixtures');
    const listsBefore = lists(api);

    // Connections cut, and changes made while the source reconnects.
    api.dropWatches();
    api.create(service('shop', 'during-drop'));
    api.delete('v1', 'Pod', 'shop', 'web-1');
    await converged(
      store,
      [...FIXTURE_KEYS.filter((k) => k !== 'Pod shop/web-1'), 'Service shop/during-drop'],
      'changes made across the drop',
    );

    // The API server goes away for a while; the cluster changes meanwhile.
    await api.stop();
    api.create(service('shop', 'during-outage'));
    api.update({ ...service('shop', 'web', 99), metadata: { namespace: 'shop', name: 'web' } });
    await new Promise((r) => setTimeout(r, 300));
    await api.start();
    await converged(
      store,
      [
        ...FIXTURE_KEYS.filter((k) => k !== 'Pod shop/web-1'),
        'Service shop/during-drop',
        'Service shop/during-outage',
      ],
      'changes made during the outage',
    );
    await until(
      async () =>
        portOf(await store.get({ kind: Kinds.Service, namespace: 'shop', name: 'web' })) === 99,
      'the update made during the outage',
    );
    expect(lists(api)).toBe(listsBefore);
    const resumed = api.requests.filter((r) => r.watch && r.path === '/api/v1/services').at(-1);
    expect(resumed?.query).toMatchObject({ allowWatchBookmarks: 'true' });
    expect(Number(resumed?.query.resourceVersion)).toBeGreaterThan(1000);
  });

  it('moves on with bookmarks, so a watch resumed after compaction needs no relist', async () => {
    const { api, store, source } = await setup();
    await synced(source);
    await converged(store, FIXTURE_KEYS, 'the fixtures');
    // Writes to a kind Pier does not read move the cluster's resourceVersion past every watch's.
    for (let i = 0; i < 5; i++) {
      api.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { namespace: 'shop', name: `cm-${i}` },
      });
    }
    // Bookmarks go to the watches open at the time; a watch still being
    // (re)opened gets the next one, as a real API server sends them
    // periodically. So send one on every poll.
    await until(() => {
      api.bookmark();
      return source
        .status()
        .resources.every((r) => Number(r.resourceVersion) === api.resourceVersion);
    }, 'every watch to take the bookmark');
    const listsBefore = lists(api);
    api.compact();
    api.dropWatches();
    api.create(service('shop', 'after-compaction'));
    await converged(
      store,
      [...FIXTURE_KEYS, 'Service shop/after-compaction'],
      'the change after compaction',
    );
    expect(lists(api)).toBe(listsBefore);
  });

  it('lists again after 410 Gone and deletes what vanished while it was away', async () => {
    const { api, store, source, lines } = await setup();
    await synced(source);
    await converged(store, FIXTURE_KEYS, 'the fixtures');
    const listsBefore = lists(api);

    await api.stop();
    api.delete('v1', 'Service', 'shop', 'web');
    api.delete('gateway.networking.k8s.io/v1', 'Gateway', 'shop', 'edge');
    api.create(service('shop', 'while-away'));
    api.compact();
    await api.start();

    await converged(
      store,
      FIXTURE_KEYS.filter(
        (k) => k !== 'Service shop/web' && k !== 'gateway.networking.k8s.io/Gateway shop/edge',
      ).concat('Service shop/while-away'),
      'the relist after 410',
    );
    expect(lists(api)).toBeGreaterThan(listsBefore);
    expect(lines.some((l) => l.msg === 'watch expired (410 Gone); listing again')).toBe(true);
  });

  it('skips invalid objects with a log naming kind, namespace/name and path, keeping the last valid version', async () => {
    const { api, store, source, lines } = await setup();
    await synced(source);
    await converged(store, FIXTURE_KEYS, 'the fixtures');

    api.create(service('shop', 'bad', 0));
    api.update({ ...service('shop', 'web', 70_000), metadata: { namespace: 'shop', name: 'web' } });
    api.create(service('shop', 'good'));
    await converged(store, [...FIXTURE_KEYS, 'Service shop/good'], 'the valid object');
    await until(
      () => lines.filter((l) => l.code === 'PIER_KUBERNETES_INVALID_OBJECT').length >= 2,
      'the invalid objects to be logged',
    );
    const logged = lines.filter((l) => l.code === 'PIER_KUBERNETES_INVALID_OBJECT');
    expect(logged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'Service',
          namespace: 'shop',
          name: 'bad',
          path: 'spec.ports[0].port',
        }),
        expect.objectContaining({
          kind: 'Service',
          namespace: 'shop',
          name: 'web',
          path: 'spec.ports[0].port',
        }),
      ]),
    );
    expect(logged.find((l) => l.name === 'bad')?.msg).toContain(
      'Service shop/bad: spec.ports[0].port:',
    );
    expect(portOf(await store.get({ kind: Kinds.Service, namespace: 'shop', name: 'web' }))).toBe(
      80,
    );

    // Fixed: taken in.
    api.update(service('shop', 'bad', 8443));
    await converged(
      store,
      [...FIXTURE_KEYS, 'Service shop/good', 'Service shop/bad'],
      'the fixed object',
    );
  });

  it('tolerates Gateway API not being installed, reports it once, and picks it up when it is', async () => {
    const { api, store, source, lines } = await setup({ gatewayApi: false });
    await synced(source);
    const core = FIXTURE_KEYS.filter((k) => !k.startsWith('gateway.'));
    await converged(store, core, 'the core kinds');
    await new Promise((r) => setTimeout(r, 1000)); // several slow retries
    const reports = lines.filter((l) => l.code === 'PIER_KUBERNETES_NOT_INSTALLED');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ group: 'gateway.networking.k8s.io' });
    expect(reports[0]!.msg).toContain('HTTPRoute');
    expect(source.status().resources.find((r) => r.kind === Kinds.HTTPRoute)?.state).toBe(
      'not-installed',
    );

    api.install('gateway.networking.k8s.io');
    for (const object of CLUSTER_FIXTURES)
      if (object.apiVersion.startsWith('gateway.')) api.create(clone(object));
    await converged(store, FIXTURE_KEYS, 'the Gateway API objects once installed');

    // Deleting the CRDs deletes their objects, in the Store too.
    api.uninstall('gateway.networking.k8s.io');
    await converged(store, core, 'the Gateway API objects gone with their CRDs');
  });

  it('on gaining the lease, deletes what a previous leader left that the cluster no longer has', async () => {
    const stale: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        namespace: 'shop',
        name: 'gone',
        annotations: { [SOURCE_ANNOTATION]: 'kubernetes' },
      },
      spec: { ports: [{ port: 1 }] },
    } as KubeObject;
    const theirs: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        namespace: 'shop',
        name: 'web',
        annotations: { [SOURCE_ANNOTATION]: 'manifests' },
      },
      spec: { ports: [{ port: 7 }] },
    } as KubeObject;
    const { store, source, lines } = await setup({
      before: async (s) => {
        await s.apply(stale);
        await s.apply(theirs);
      },
    });
    await synced(source);
    // The manifests source's Service web stays as it is, and is reported; the stale one is gone.
    await converged(
      store,
      FIXTURE_KEYS.filter((k) => k !== 'Service shop/web'),
      'the cleanup',
    );
    const web = await store.get({ kind: Kinds.Service, namespace: 'shop', name: 'web' });
    expect(portOf(web)).toBe(7);
    expect(web?.metadata.annotations?.[SOURCE_ANNOTATION]).toBe('manifests');
    expect(
      lines.some((l) => l.code === 'PIER_KUBERNETES_OWNED_ELSEWHERE' && l.name === 'web'),
    ).toBe(true);
  });

  it('logs and retries a kind it may not read (403) while the rest flows and the process is ready', async () => {
    const { store, source, lines } = await setup({
      before: async (_store, fake) => fake.failNext(1_000_000, 403, '/nodes'),
    });
    await converged(
      store,
      FIXTURE_KEYS.filter((k) => k !== 'Node node-1'),
      'everything but Nodes',
    );
    await until(() => source.ready(), 'readiness');
    expect(source.status().synced).toBe(false);
    const nodes = source.status().resources.find((r) => r.kind === Kinds.Node);
    expect(nodes).toMatchObject({ state: 'retrying', synced: false, attempted: true });
    expect(nodes?.lastError).toContain('403');
    const warnings = lines.filter((l) => l.level === 'warn' && l.kind === Kinds.Node);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ status: 403, msg: 'list failed; retrying' });
  });

  it('reads only the namespaces it is given, and Pods by field selector', async () => {
    const { api, store, source } = await setup(
      {},
      { namespaces: ['shop'], fieldSelectors: { [Kinds.Pod]: 'spec.nodeName=node-1' } },
    );
    api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    api.create(service('other', 'elsewhere'));
    api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'shop', name: 'on-node-2' },
      spec: { nodeName: 'node-2', containers: [{ name: 'c', image: 'x' }] },
    });
    await synced(source);
    await converged(store, FIXTURE_KEYS, 'the shop namespace only');
    const serviceWatches = api.requests.filter((r) => r.watch && r.path.endsWith('/services'));
    expect(serviceWatches.every((r) => r.path === '/api/v1/namespaces/shop/services')).toBe(true);
    const podLists = api.requests.filter((r) => !r.watch && r.path.endsWith('/pods'));
    expect(podLists.every((r) => r.query.fieldSelector === 'spec.nodeName=node-1')).toBe(true);
    const secretLists = api.requests.filter((r) => !r.watch && r.path.endsWith('/secrets'));
    expect(secretLists.every((r) => r.query.fieldSelector === 'type=kubernetes.io/tls')).toBe(true);
  });
}

describe('kubernetes source on the memory Store', () => {
  sourceCases(async () => createMemoryStore());
});

describe('kubernetes source over TLS', () => {
  it("checks the server's certificate against the kubeconfig's CA", async () => {
    const tls = selfSignedCertificate();
    const api = await startFakeApiServer({ tls });
    const stores: Store[] = [];
    const sources: KubernetesSource[] = [];
    try {
      api.create(service('shop', 'web'));
      const { logger, lines } = collectingLogger();
      const start = async (kubeconfig: string) => {
        const store = createMemoryStore();
        const source = createKubernetesSource({
          store,
          logger,
          kubeconfig,
          kinds: [Kinds.Service],
          leaseMs: 3000,
          renewMs: 500,
          backoff: { initialMs: 50, maxMs: 200 },
        });
        stores.push(store);
        sources.push(source);
        await source.start();
        return { store, source };
      };

      const trusted = await start(api.kubeconfig);
      await until(() => trusted.source.status().synced, 'the source to sync over TLS');
      expect(await ownedKeys(trusted.store)).toEqual(['Service shop/web']);
      expect(trusted.source.status().server).toMatch(/^https:\/\/127\.0\.0\.1:/);

      // A kubeconfig that trusts another CA: nothing is read, and the log says why.
      const untrusted = await start(
        api.kubeconfigFor('pier-test-token', selfSignedCertificate().cert),
      );
      await until(
        () => lines.some((l) => l.code === 'PIER_KUBERNETES_UNREACHABLE' && l.level === 'warn'),
        'the certificate error to be logged',
      );
      const error = lines.find((l) => l.code === 'PIER_KUBERNETES_UNREACHABLE')!;
      expect(JSON.stringify(error)).toMatch(/certificate|self.signed/i);
      expect(await ownedKeys(untrusted.store)).toEqual([]);
    } finally {
      for (const source of sources) await source.close();
      for (const store of stores) await store.close();
      await api.close();
    }
  });
});

let clusters = 0;
describeWithRedis('kubernetes source on a Redis Store', (server) => {
  // A key prefix per test: each starts from an empty Store.
  sourceCases(async () =>
    createRedisStore({ url: server().url, cluster: `k8s-${process.pid}-${++clusters}` }),
  );
});
