// The Redis store on a real redis-server: the shared Store cases, then what
// only a shared, external store has to get right: several processes, corrupt
// values, Redis going away and coming back, several clusters on one Redis.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { isPierError } from '../src/errors.ts';
import type { KubeObject } from '../src/model/object.ts';
import { createStore } from '../src/store/create-store.ts';
import { StoreErrors } from '../src/store/errors.ts';
import { createInformer, type Informer } from '../src/store/informer.ts';
import { createRedisStore, type RedisStoreOptions } from '../src/store/redis.ts';
import { runStoreCases } from '../src/store/store.case.ts';
import type { ChangeEvent, Store, WatchEvent } from '../src/store.ts';
import { describeWithRedis } from './support/redis-server.ts';

let clusters = 0;
const uniqueCluster = () => `t${process.pid}-${++clusters}`;

const service = (name: string, port = 80, namespace = 'default'): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name },
    spec: { ports: [{ port }] },
  }) as KubeObject;
const portOf = (o: KubeObject | undefined) =>
  (o as unknown as { spec: { ports: { port: number }[] } }).spec.ports[0]!.port;

interface Warning {
  fields: Record<string, unknown>;
  message: string;
}

function recordingLogger() {
  const warnings: Warning[] = [];
  return {
    warnings,
    logger: {
      warn: (fields: Record<string, unknown>, message: string) =>
        warnings.push({ fields, message }),
    },
  };
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

/** Collects a watch in the background until stopped. */
function collect(store: Store, from: number, kinds?: string[]) {
  const controller = new AbortController();
  const events: WatchEvent[] = [];
  const done = (async () => {
    for await (const event of store.watch(from, { kinds, signal: controller.signal }))
      events.push(event);
  })();
  return {
    events,
    revisions: () => events.map((e) => (e.type === 'relist' ? 'relist' : e.revision)),
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

describeWithRedis('redis store', (server) => {
  runStoreCases('redis', ({ changeLogLength }) =>
    createRedisStore({
      url: server().url,
      cluster: uniqueCluster(),
      streamMaxLen: changeLogLength,
      watchBlockMs: 1000,
    }),
  );

  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    // A test that stopped the server must not leave it down for the next one.
    await server().start();
  });
  const open = (options: RedisStoreOptions = {}) => {
    const store = createRedisStore({
      url: server().url,
      watchBlockMs: 1000,
      commandTimeoutMs: 1000,
      ...options,
    });
    cleanup.push(() => store.close());
    return store;
  };
  const inform = async (store: Store, kinds = ['Service']) => {
    const { logger } = recordingLogger();
    const informer: Informer = createInformer(store, {
      kinds,
      logger,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    cleanup.push(() => informer.stop());
    informer.start();
    await informer.waitForSync();
    return informer;
  };

  it('uses only keys under its cluster prefix, with one hash tag', async () => {
    const cluster = uniqueCluster();
    const store = open({ cluster });
    await store.apply(service('web'));
    await store.apply({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'e', namespace: 'default' },
    });
    await store.delete({ kind: 'Service', namespace: 'default', name: 'web' });
    const keys = (await server().cli('--scan', '--pattern', `pier:{${cluster}}:*`))
      .split('\n')
      .sort();
    expect(keys).toEqual([
      `pier:{${cluster}}:changes`,
      `pier:{${cluster}}:objects:discovery.k8s.io/EndpointSlice`,
      `pier:{${cluster}}:revision`,
    ]);
    expect(await server().cli('XLEN', `pier:{${cluster}}:changes`)).toBe('3');
    expect(
      await server().cli('XRANGE', `pier:{${cluster}}:changes`, '-', '+', 'COUNT', '1'),
    ).toMatch(/^1-0\n/);
  });

  it('two store instances on separate connections converge', async () => {
    const cluster = uniqueCluster();
    const a = open({ cluster });
    const b = open({ cluster });
    const seenByA = await inform(a);
    const seenByB = await inform(b);
    await a.apply(service('from-a'));
    await b.apply(service('from-b'));
    const current = (await b.get({ kind: 'Service', namespace: 'default', name: 'from-a' }))!;
    await b.apply(service('from-a', 8080), {
      expectedRevision: Number(current.metadata.resourceVersion),
    });
    await expect(
      a.apply(service('from-a', 9090), {
        expectedRevision: Number(current.metadata.resourceVersion),
      }),
    ).rejects.toMatchObject({
      code: StoreErrors.codes.CONFLICT,
    });
    const head = await a.revision();
    await until(
      () => seenByA.revision() === head && seenByB.revision() === head,
      'both informers at the head',
    );
    const names = (i: Informer) =>
      i
        .list('Service')
        .map((o) => `${o.metadata.name}:${portOf(o)}:${o.metadata.resourceVersion}`)
        .sort();
    expect(names(seenByA)).toEqual(names(seenByB));
    expect(names(seenByA)).toEqual(['from-a:8080:3', 'from-b:80:2']);
  });

  it('a second process writes, this one sees every change', async () => {
    const cluster = uniqueCluster();
    const store = open({ cluster });
    const informer = await inform(store);
    const watched = collect(store, 0);
    cleanup.push(watched.stop);
    const module = fileURLToPath(new URL('../src/store/create-store.ts', import.meta.url));
    const script = `
      const { createStore } = await import(${JSON.stringify(module)});
      const store = createStore(process.argv[1]);
      for (let i = 0; i < 20; i++) {
        await store.apply({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'child', name: 's' + (i % 5) }, spec: { ports: [{ port: 1000 + i }] } });
      }
      await store.delete({ kind: 'Service', namespace: 'child', name: 's0' });
      console.log(await store.revision());
      await store.close();
    `;
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', script, `${server().url}?cluster=${cluster}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    cleanup.push(async () => {
      child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(Number(stdout.trim())).toBe(21);
    await until(() => informer.revision() === 21 && watched.events.length === 21, 'all 21 changes');
    expect(watched.revisions()).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(
      informer
        .list('Service', { namespace: 'child' })
        .map((o) => `${o.metadata.name}:${portOf(o)}`)
        .sort(),
    ).toEqual(['s1:1016', 's2:1017', 's3:1018', 's4:1019']);
  });

  it('logs a corrupt value with its key and skips it; never crashes a list, a watch or an informer', async () => {
    const cluster = uniqueCluster();
    const { warnings, logger } = recordingLogger();
    const store = open({ cluster, logger });
    await store.apply(service('good'));
    const hash = `pier:{${cluster}}:objects:Service`;
    await server().cli('HSET', hash, 'default/bad-json', '{"apiVersion":');
    await server().cli(
      'HSET',
      hash,
      'default/bad-shape',
      '{"apiVersion":"v1","kind":"Service","metadata":{"resourceVersion":"1"}}',
    );
    const watched = collect(store, 0);
    cleanup.push(watched.stop);
    const informer = await inform(store);

    const listed = await store.list('Service');
    expect(listed.items.map((o) => o.metadata.name)).toEqual(['good']);
    expect(informer.list('Service').map((o) => o.metadata.name)).toEqual(['good']);
    const skipped = warnings.filter((w) => w.message.includes('corrupt object'));
    expect(skipped.map((w) => `${w.fields.key} ${w.fields.field}`)).toEqual(
      expect.arrayContaining([`${hash} default/bad-json`, `${hash} default/bad-shape`]),
    );
    await expect(
      store.get({ kind: 'Service', namespace: 'default', name: 'bad-json' }),
    ).rejects.toMatchObject({
      code: StoreErrors.codes.CORRUPT,
      message: expect.stringContaining(`${hash} default/bad-json`),
    });

    // A corrupt change in the stream (revision 2), then a good write (3).
    const stream = `pier:{${cluster}}:changes`;
    await server().cli('XADD', stream, '2-0', 't', 'added', 'k', 'Service', 'o', 'garbage');
    await server().cli('SET', `pier:{${cluster}}:revision`, '2');
    await store.apply(service('after', 81));
    await until(
      () => informer.get({ kind: 'Service', namespace: 'default', name: 'after' }) !== undefined,
      'the good change',
    );
    await until(() => watched.events.length === 2, 'two good changes');
    expect(watched.revisions()).toEqual([1, 3]);
    expect(
      warnings.some(
        (w) =>
          w.message.includes('corrupt change') && w.fields.key === stream && w.fields.id === '2-0',
      ),
    ).toBe(true);

    // A corrupt object can be overwritten (not conditionally) or deleted.
    await expect(store.apply(service('bad-json'), { expectedRevision: 1 })).rejects.toThrow(
      /unreadable revision/,
    );
    await store.apply(service('bad-json'));
    expect(await store.delete({ kind: 'Service', namespace: 'default', name: 'bad-shape' })).toBe(
      true,
    );
    expect((await store.list('Service')).items.map((o) => o.metadata.name)).toEqual([
      'after',
      'bad-json',
      'good',
    ]);
  });

  it('Redis down: informers keep their state, calls fail fast; Redis back: watchers and writers resume, no change missed', async () => {
    const cluster = uniqueCluster();
    const { logger } = recordingLogger();
    const writer = open({ cluster, logger });
    const reader = open({ cluster, logger });
    for (let i = 1; i <= 5; i++) await writer.apply(service(`s${i}`));
    const informer = await inform(reader);
    const watched = collect(reader, 0);
    cleanup.push(watched.stop);
    await until(() => watched.events.length === 5, 'the first five changes');

    await server().stop();
    for (const call of [
      () => writer.apply(service('s6')),
      () => writer.delete({ kind: 'Service', namespace: 'default', name: 's1' }),
      () => writer.list('Service'),
      () => writer.revision(),
    ]) {
      const started = Date.now();
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isPierError(error, StoreErrors.codes.UNAVAILABLE), String(error)).toBe(true);
      // "promptly": well within the 1 s command timeout plus scheduling slack
      expect(Date.now() - started).toBeLessThan(1500);
    }
    expect(informer.list('Service')).toHaveLength(5);
    expect(informer.get({ kind: 'Service', namespace: 'default', name: 's3' })?.metadata.name).toBe(
      's3',
    );

    await server().start();
    // Writers resume as soon as their connection is back.
    await until(async () => {
      try {
        await writer.apply(service('s6'));
        return true;
      } catch (error) {
        if (!isPierError(error, StoreErrors.codes.UNAVAILABLE)) throw error;
        return false;
      }
    }, 'a write to succeed after the restart');
    for (let i = 7; i <= 10; i++) await writer.apply(service(`s${i}`));
    await writer.delete({ kind: 'Service', namespace: 'default', name: 's1' });
    await until(() => watched.events.length === 11, 'all eleven changes');
    expect(watched.revisions()).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect((watched.events.at(-1) as ChangeEvent).type).toBe('deleted');
    await until(() => informer.revision() === 11, 'the informer to catch up');
    expect(
      informer
        .list('Service')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['s10', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9']);
  });

  it('a watcher relists when Redis comes back without its data', async () => {
    const cluster = uniqueCluster();
    const store = open({ cluster, logger: recordingLogger().logger });
    await store.apply(service('a'));
    await store.apply(service('b'));
    const watched = collect(store, 0);
    cleanup.push(watched.stop);
    await until(() => watched.events.length === 2, 'two changes');
    await server().cli(
      'DEL',
      `pier:{${cluster}}:revision`,
      `pier:{${cluster}}:changes`,
      `pier:{${cluster}}:objects:Service`,
    );
    await store.apply(service('c'));
    await until(() => watched.events.at(-1)?.type === 'relist', 'relist');
    expect((watched.events.at(-1) as { reason: string }).reason).toMatch(/ahead of the store/);
  });

  it('two clusters on one Redis do not see each other', async () => {
    const one = open({ cluster: uniqueCluster() });
    const two = open({ cluster: uniqueCluster() });
    const watchedTwo = collect(two, 0);
    cleanup.push(watchedTwo.stop);
    await one.apply(service('web', 1));
    await one.apply(service('api', 1));
    await two.apply(service('web', 2));
    expect(await one.revision()).toBe(2);
    expect(await two.revision()).toBe(1);
    expect(portOf(await one.get({ kind: 'Service', namespace: 'default', name: 'web' }))).toBe(1);
    expect(portOf(await two.get({ kind: 'Service', namespace: 'default', name: 'web' }))).toBe(2);
    expect((await two.list('Service')).items.map((o) => o.metadata.name)).toEqual(['web']);
    await until(() => watchedTwo.events.length >= 1, "cluster two's change");
    await new Promise((r) => setTimeout(r, 100));
    expect(watchedTwo.revisions()).toEqual([1]);
  });

  it('createStore reads redis URLs with ?cluster= and the database number', async () => {
    const cluster = uniqueCluster();
    const store = createStore(`${server().url}/3?cluster=${cluster}`);
    cleanup.push(() => store.close());
    await store.apply(service('in-db-3'));
    expect(await server().cli('-n', '3', 'EXISTS', `pier:{${cluster}}:revision`)).toBe('1');
    expect(await server().cli('-n', '0', 'EXISTS', `pier:{${cluster}}:revision`)).toBe('0');
  });
});

// One node holding every slot of a Redis Cluster refuses any multi-key command
// or script across slots (CROSSSLOT), so the shared cases passing here show
// that the hash tag keeps each Pier cluster's keys in one slot.
describeWithRedis(
  'redis store on a Redis Cluster node',
  (server) => {
    runStoreCases('redis (cluster mode)', ({ changeLogLength }) =>
      createRedisStore({
        url: server().url,
        cluster: uniqueCluster(),
        streamMaxLen: changeLogLength,
        watchBlockMs: 1000,
      }),
    );

    it('the node is in cluster mode and refuses keys across slots', async () => {
      expect(await server().cli('CLUSTER', 'INFO')).toContain('cluster_state:ok');
      expect(await server().cli('MSET', 'pier:{a}:x', '1', 'pier:{b}:x', '1')).toMatch(/CROSSSLOT/);
    });
  },
  { clusterMode: true },
);
