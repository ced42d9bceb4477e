import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../model/object.ts';
import type { Store, WatchEvent } from '../store.ts';
import { StoreErrors } from './errors.ts';
import { createInformer, type Informer, type InformerBatch } from './informer.ts';
import { createMemoryStore } from './memory.ts';

const node = (name: string, zone = 'a'): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { zone } } }) as KubeObject;
const service = (name: string): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name } }) as KubeObject;

/**
 * A Store port in front of a memory store that can be switched "down": then
 * list() rejects and open watches throw PIER_STORE_UNAVAILABLE, as the Redis
 * store does when Redis is gone. beforeList runs before each list.
 */
function flaky(inner: Store) {
  const state = { down: false, lists: 0, beforeList: async (_kind: string) => {} };
  const unavailable = () => StoreErrors.UNAVAILABLE('flaky', 'switched off by the test');
  const store: Store = {
    ...inner,
    name: 'flaky',
    async list(kind, options) {
      state.lists++;
      await state.beforeList(kind);
      if (state.down) throw unavailable();
      return inner.list(kind, options);
    },
    watch(from, options) {
      return {
        async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent> {
          const controller = new AbortController();
          const signal = options?.signal
            ? AbortSignal.any([options.signal, controller.signal])
            : controller.signal;
          const poll = setInterval(() => state.down && controller.abort(), 5);
          try {
            for await (const event of inner.watch(from, { ...options, signal })) {
              if (state.down) break;
              yield event;
            }
            if (state.down) throw unavailable();
          } finally {
            clearInterval(poll);
          }
        },
      };
    },
  };
  return { store, state };
}

const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

const quiet = () => {
  const warnings: string[] = [];
  return {
    warnings,
    logger: { warn: (_f: Record<string, unknown>, m: string) => void warnings.push(m) },
  };
};

describe('informer', () => {
  const started: Informer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((i) => i.stop()));
  });
  const start = (informer: Informer) => {
    started.push(informer);
    informer.start();
    return informer;
  };

  it('needs at least one kind', () => {
    expect(() => createInformer(createMemoryStore(), { kinds: [] })).toThrow(/at least one kind/);
  });

  it('retries with backoff until the store is available, then syncs', async () => {
    const { store, state } = flaky(createMemoryStore());
    await store.apply(node('n1'));
    state.down = true;
    const { warnings, logger } = quiet();
    const informer = start(
      createInformer(store, { kinds: ['Node'], logger, backoff: { initialMs: 5, maxMs: 20 } }),
    );
    await until(() => state.lists >= 4, 'several list attempts');
    expect(informer.hasSynced()).toBe(false);
    expect(warnings[0]).toMatch(/list failed; keeping the last known state/);
    state.down = false;
    await informer.waitForSync();
    expect(informer.get({ kind: 'Node', name: 'n1' })?.metadata.name).toBe('n1');
  });

  it('keeps the last known state while the store is down, and reports what changed when it is back', async () => {
    const inner = createMemoryStore();
    const { store, state } = flaky(inner);
    await store.apply(node('stays'));
    await store.apply(node('goes'));
    const { logger } = quiet();
    const informer = start(
      createInformer(store, { kinds: ['Node'], logger, backoff: { initialMs: 5, maxMs: 20 } }),
    );
    const batches: InformerBatch[] = [];
    informer.subscribe((b) => batches.push(b));
    await informer.waitForSync();

    state.down = true;
    const listsBefore = state.lists;
    // Changes the informer cannot see while "down".
    await inner.apply(node('stays', 'b'));
    await inner.delete({ kind: 'Node', name: 'goes' });
    await inner.apply(node('new'));
    await until(() => state.lists >= listsBefore + 2, 'relist attempts');
    expect(
      informer
        .list('Node')
        .map((n) => n.metadata.name)
        .sort(),
    ).toEqual(['goes', 'stays']);
    expect(informer.hasSynced()).toBe(true);

    state.down = false;
    await until(
      () => informer.get({ kind: 'Node', name: 'new' }) !== undefined,
      'the informer to resync',
    );
    const changes = batches
      .slice(1)
      .flatMap((b) => b.changes.map((c) => `${c.type} ${c.object.metadata.name}`));
    expect(changes.sort()).toEqual(['added new', 'deleted goes', 'modified stays']);
    expect(batches.at(-1)?.resync).toBe(true);
    expect(informer.get({ kind: 'Node', name: 'stays' })?.metadata.labels).toEqual({ zone: 'b' });
  });

  it('lists several kinds at their own revisions and applies no change twice', async () => {
    const { store, state } = flaky(createMemoryStore());
    await store.apply(node('n1'));
    await store.apply(service('s1'));
    // Between the Node list and the Service list, both kinds change.
    state.beforeList = async (kind) => {
      if (kind === 'Service' && state.lists === 2) {
        await store.apply(node('n2'));
        await store.apply(service('s2'));
      }
    };
    const informer = createInformer(store, { kinds: ['Node', 'Service'] });
    const batches: InformerBatch[] = [];
    informer.subscribe((b) => batches.push(b));
    start(informer);
    await until(() => informer.get({ kind: 'Node', name: 'n2' }) !== undefined, 'n2');
    await store.apply(service('s3'));
    await until(
      () => informer.get({ kind: 'Service', namespace: 'default', name: 's3' }) !== undefined,
      's3',
    );
    const seen = batches.flatMap((b) =>
      b.changes.map((c) => `${c.type} ${c.object.metadata.name}`),
    );
    expect(seen).toEqual(['added n1', 'added s1', 'added s2', 'added n2', 'added s3']);
  });

  it('goes on when a subscriber throws, and tells the logger', async () => {
    const store = createMemoryStore();
    const { warnings, logger } = quiet();
    const informer = createInformer(store, { kinds: ['Node'], logger });
    const seen: number[] = [];
    informer.subscribe(() => {
      throw new Error('subscriber bug');
    });
    informer.subscribe((b) => seen.push(b.changes.length));
    start(informer);
    await informer.waitForSync();
    await store.apply(node('n1'));
    await until(() => seen.length === 2, 'two batches');
    expect(warnings.filter((w) => w.includes('subscriber threw'))).toHaveLength(2);
  });

  it('unsubscribes', async () => {
    const store = createMemoryStore();
    const informer = createInformer(store, { kinds: ['Node'] });
    let calls = 0;
    const off = informer.subscribe(() => calls++);
    start(informer);
    await informer.waitForSync();
    off();
    await store.apply(node('n1'));
    await until(() => informer.get({ kind: 'Node', name: 'n1' }) !== undefined, 'n1');
    expect(calls).toBe(1);
  });

  it('waitForSync rejects when its signal aborts or the informer stops first', async () => {
    const { store, state } = flaky(createMemoryStore());
    state.down = true;
    const { logger } = quiet();
    const informer = start(createInformer(store, { kinds: ['Node'], logger }));
    const controller = new AbortController();
    const aborted = informer.waitForSync(controller.signal);
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    const stopped = informer.waitForSync();
    await informer.stop();
    await expect(stopped).rejects.toMatchObject({ code: StoreErrors.codes.CLOSED });
  });

  it('stops when the store closes', async () => {
    const store = createMemoryStore();
    const informer = start(createInformer(store, { kinds: ['Node'] }));
    await informer.waitForSync();
    await store.close();
    await informer.stop();
    expect(informer.hasSynced()).toBe(true);
  });
});
