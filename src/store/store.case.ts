// The cases every Store implementation passes (convention 6, hono's
// common.case pattern): src/store/memory.test.ts runs them on the memory
// store, test/store-redis.test.ts on a real redis-server.
//
// makeStore gets the change-log length the case needs. For Redis that is the
// stream's MAXLEN ~, which keeps at least that many changes (it trims whole
// stream nodes), so cases that need trimming write several hundred changes.

import { afterEach, describe, expect, it } from 'vitest';
import { isPierError } from '../errors.ts';
import { Kinds, type KubeObject, revisionOf } from '../model/object.ts';
import type { ChangeEvent, Store, WatchEvent, WatchOptions } from '../store.ts';
import { StoreErrors } from './errors.ts';
import { createInformer, type InformerBatch } from './informer.ts';

export interface StoreCaseOptions {
  /** How many changes watch() must at least be able to replay. */
  changeLogLength: number;
}

export type MakeStore = (options: StoreCaseOptions) => Store | Promise<Store>;

const DEFAULT_LOG = 1000;
const WAIT_MS = 5000;

export function service(
  namespace: string,
  name: string,
  labels?: Record<string, string>,
  port = 80,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: labels === undefined ? { namespace, name } : { namespace, name, labels },
    spec: { ports: [{ port }], selector: { app: name }, clusterIP: '', extra: [] },
  } as KubeObject;
}

function node(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: { podCIDR: '10.244.1.0/24' },
  } as KubeObject;
}

function route(namespace: string, name: string): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { namespace, name },
    spec: { parentRefs: [{ name: 'gw' }] },
  } as KubeObject;
}

/** Takes events until `count` arrived, a relist arrived, or WAIT_MS passed. */
export async function take(
  store: Store,
  fromRevision: number,
  count: number,
  options: Omit<WatchOptions, 'signal'> = {},
): Promise<WatchEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), WAIT_MS);
  const events: WatchEvent[] = [];
  try {
    for await (const event of store.watch(fromRevision, {
      ...options,
      signal: controller.signal,
    })) {
      events.push(event);
      if (event.type === 'relist' || events.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

function revisions(events: WatchEvent[]): (number | 'relist')[] {
  return events.map((e) => (e.type === 'relist' ? 'relist' : e.revision));
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let r = from; r <= to; r++) out.push(r);
  return out;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isPierError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  return error as Error;
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function runStoreCases(name: string, makeStore: MakeStore): void {
  describe(`Store cases: ${name}`, () => {
    const open: Store[] = [];
    const make = async (options: Partial<StoreCaseOptions> = {}) => {
      const store = await makeStore({ changeLogLength: options.changeLogLength ?? DEFAULT_LOG });
      open.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    describe('get / list / apply / delete', () => {
      it('stores an object and stamps it with the revision of the write', async () => {
        const store = await make();
        const before = await store.revision();
        const stored = await store.apply(service('default', 'web'));
        expect(stored.metadata.resourceVersion).toBe(String(before + 1));
        expect(await store.revision()).toBe(before + 1);
        expect(await store.get({ kind: 'Service', namespace: 'default', name: 'web' })).toEqual(
          stored,
        );
        expect(stored).toMatchObject(service('default', 'web'));
      });

      it('keeps JSON content as it is (empty arrays and objects, nested values)', async () => {
        const store = await make();
        const object = {
          ...service('default', 'web'),
          data: { empty: {}, list: [], n: 1.5, s: 'é' },
        };
        await store.apply(object as KubeObject);
        const got = await store.get({ kind: 'Service', namespace: 'default', name: 'web' });
        expect((got as unknown as { data: unknown }).data).toEqual({
          empty: {},
          list: [],
          n: 1.5,
          s: 'é',
        });
      });

      it('ignores a resourceVersion the caller sets', async () => {
        const store = await make();
        const object = service('default', 'web');
        object.metadata.resourceVersion = '999';
        const stored = await store.apply(object);
        expect(revisionOf(stored)).toBe(await store.revision());
      });

      it('hands out frozen objects and keeps its own copy of what it was given', async () => {
        const store = await make();
        const input = service('default', 'web', { app: 'web' });
        const stored = await store.apply(input);
        input.metadata.labels!.app = 'changed';
        expect(() => {
          (stored.metadata.labels as Record<string, string>).app = 'changed';
        }).toThrow(TypeError);
        const got = await store.get({ kind: 'Service', namespace: 'default', name: 'web' });
        expect(got?.metadata.labels).toEqual({ app: 'web' });
        expect(Object.isFrozen(got?.metadata)).toBe(true);
      });

      it('keys objects by kind, namespace and name; cluster-scoped objects have no namespace', async () => {
        const store = await make();
        await store.apply(service('a', 'web'));
        await store.apply(service('b', 'web'));
        await store.apply(route('a', 'web'));
        await store.apply(node('web'));
        expect(
          (await store.get({ kind: 'Service', namespace: 'a', name: 'web' }))?.metadata.namespace,
        ).toBe('a');
        expect(
          (await store.get({ kind: 'Service', namespace: 'b', name: 'web' }))?.metadata.namespace,
        ).toBe('b');
        expect(
          (await store.get({ kind: Kinds.HTTPRoute, namespace: 'a', name: 'web' }))?.kind,
        ).toBe('HTTPRoute');
        expect((await store.get({ kind: 'Node', name: 'web' }))?.kind).toBe('Node');
        expect(await store.get({ kind: 'Service', name: 'web' })).toBeUndefined();
        expect(
          await store.get({ kind: Kinds.HTTPRoute, namespace: 'b', name: 'web' }),
        ).toBeUndefined();
        expect(await store.get({ kind: 'Secret', namespace: 'a', name: 'web' })).toBeUndefined();
      });

      it('lists a kind sorted by namespace and name, optionally one namespace, at its revision', async () => {
        const store = await make();
        for (const [ns, n] of [
          ['b', 'x'],
          ['a', 'y'],
          ['a', 'x'],
          ['c', 'a'],
        ] as const) {
          await store.apply(service(ns, n));
        }
        await store.apply(route('a', 'z'));
        const all = await store.list('Service');
        expect(all.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
          'a/x',
          'a/y',
          'b/x',
          'c/a',
        ]);
        expect(all.revision).toBe(await store.revision());
        const inA = await store.list('Service', { namespace: 'a' });
        expect(inA.items.map((o) => o.metadata.name)).toEqual(['x', 'y']);
        expect((await store.list('Service', { namespace: 'none' })).items).toEqual([]);
        expect((await store.list('Secret')).items).toEqual([]);
      });

      it('replaces an object (modified) and deletes it; deleting nothing uses no revision', async () => {
        const store = await make();
        await store.apply(service('default', 'web', undefined, 80));
        const second = await store.apply(service('default', 'web', undefined, 81));
        expect(
          (second as unknown as { spec: { ports: { port: number }[] } }).spec.ports[0]!.port,
        ).toBe(81);
        const ref = { kind: 'Service', namespace: 'default', name: 'web' };
        const before = await store.revision();
        expect(await store.delete(ref)).toBe(true);
        expect(await store.revision()).toBe(before + 1);
        expect(await store.get(ref)).toBeUndefined();
        expect(await store.delete(ref)).toBe(false);
        expect(await store.revision()).toBe(before + 1);
        expect((await store.list('Service')).items).toEqual([]);
      });
    });

    describe('label selectors', () => {
      // labels of each object, in kubectl notation; then selector -> names it selects
      const objects: Record<string, string> = {
        a: 'app=web,env=prod,tier=front',
        b: 'app=web,env=staging',
        c: 'app=db,env=prod,tier=back',
        d: '',
        e: 'app=web,canary=true,weight=30',
      };
      const table: [selector: string | Record<string, string>, names: string][] = [
        ['', 'a b c d e'],
        ['app=web', 'a b e'],
        ['app==web', 'a b e'],
        ['app!=web', 'c d'],
        ['app=web,env=prod', 'a'],
        ['app=web,env!=prod', 'b e'],
        ['tier', 'a c'],
        ['!tier', 'b d e'],
        ['env in (prod,staging)', 'a b c'],
        ['env notin (prod)', 'b d e'],
        ['app in (web),!canary', 'a b'],
        ['  app = web ,  tier  ', 'a'],
        ['weight>10', 'e'],
        ['weight<10', ''],
        ['app=nothing', ''],
        [{ app: 'web', env: 'prod' }, 'a'],
        [{}, 'a b c d e'],
      ];
      const parse = (text: string) =>
        text === ''
          ? undefined
          : Object.fromEntries(text.split(',').map((kv) => kv.split('=') as [string, string]));

      it.each(table)('%j selects %j', async (selector, names) => {
        const store = await make();
        for (const [n, labels] of Object.entries(objects))
          await store.apply(service('ns', n, parse(labels)));
        const result = await store.list('Service', { labelSelector: selector });
        expect(result.items.map((o) => o.metadata.name).join(' ')).toBe(names);
      });

      it.each([
        'app=',
        'in (a)',
        'app in (a',
        'app in ()',
        'a b',
        'app=we b',
        'app=-x',
        'x>y',
        '!',
        'a,',
      ])('rejects %j with PIER_STORE_BAD_SELECTOR', async (selector) => {
        const store = await make();
        await store.apply(service('ns', 'a', { app: '' }));
        if (selector === 'app=') {
          // `app=` is valid: the label is present with the empty value.
          expect((await store.list('Service', { labelSelector: selector })).items).toHaveLength(1);
          return;
        }
        await expectCode(
          store.list('Service', { labelSelector: selector }),
          StoreErrors.codes.BAD_SELECTOR,
        );
      });
    });

    describe('bad input changes nothing', () => {
      const bad: [string, unknown][] = [
        ['not an object', 'Service'],
        ['no apiVersion', { kind: 'Service', metadata: { name: 'x' } }],
        ['no name', { apiVersion: 'v1', kind: 'Service', metadata: {} }],
        ['name with /', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a/b' } }],
        [
          'labels not strings',
          { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', labels: { a: 1 } } },
        ],
        [
          'a BigInt',
          { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { n: 1n } },
        ],
      ];
      it.each(bad)('apply(%s) -> PIER_STORE_INVALID_OBJECT', async (_what, object) => {
        const store = await make();
        const before = await store.revision();
        await expectCode(store.apply(object as KubeObject), StoreErrors.codes.INVALID_OBJECT);
        expect(await store.revision()).toBe(before);
        expect((await store.list('Service')).items).toEqual([]);
      });

      it('rejects bad references, revisions and expectedRevision', async () => {
        const store = await make();
        await expectCode(
          store.get({ kind: 'Service', name: '' }),
          StoreErrors.codes.INVALID_ARGUMENT,
        );
        await expectCode(store.delete({ kind: '', name: 'x' }), StoreErrors.codes.INVALID_ARGUMENT);
        await expectCode(
          store.apply(service('a', 'b'), { expectedRevision: -1 }),
          StoreErrors.codes.INVALID_ARGUMENT,
        );
        expect(() => store.watch(1.5)).toThrow(/fromRevision/);
        expect(await store.revision()).toBe(0);
      });
    });

    describe('optimistic concurrency', () => {
      it('creates only when absent with expectedRevision 0', async () => {
        const store = await make();
        const created = await store.apply(service('default', 'web'), { expectedRevision: 0 });
        const error = await expectCode(
          store.apply(service('default', 'web'), { expectedRevision: 0 }),
          StoreErrors.codes.CONFLICT,
        );
        expect(error.message).toContain('Service default/web');
        expect(error.message).toContain(`store has ${revisionOf(created)}`);
      });

      it('replaces and deletes only at the expected revision, naming both revisions on a conflict', async () => {
        const store = await make();
        const first = await store.apply(service('default', 'web'));
        const r1 = revisionOf(first)!;
        const second = await store.apply(service('default', 'web', undefined, 81), {
          expectedRevision: r1,
        });
        const r2 = revisionOf(second)!;
        const error = await expectCode(
          store.apply(service('default', 'web', undefined, 82), { expectedRevision: r1 }),
          StoreErrors.codes.CONFLICT,
        );
        expect(error.message).toMatch(new RegExp(`expected revision ${r1}\\b.*store has ${r2}\\b`));
        const ref = { kind: 'Service', namespace: 'default', name: 'web' };
        await expectCode(store.delete(ref, { expectedRevision: r1 }), StoreErrors.codes.CONFLICT);
        expect(await store.revision()).toBe(r2);
        expect(await store.delete(ref, { expectedRevision: r2 })).toBe(true);
        await expectCode(store.delete(ref, { expectedRevision: r2 }), StoreErrors.codes.CONFLICT);
        expect(await store.delete(ref, { expectedRevision: 0 })).toBe(false);
      });

      it('loses no update when writers race with expectedRevision', async () => {
        const store = await make();
        const ref = { kind: 'Service', namespace: 'default', name: 'counter' };
        await store.apply({ ...service('default', 'counter'), count: 0 } as KubeObject);
        const writers = 5;
        const each = 20;
        let conflicts = 0;
        const increment = async () => {
          for (;;) {
            const current = (await store.get(ref))!;
            const next = { ...current, count: (current as unknown as { count: number }).count + 1 };
            try {
              await store.apply(next, { expectedRevision: revisionOf(current)! });
              return;
            } catch (error) {
              if (!isPierError(error, StoreErrors.codes.CONFLICT)) throw error;
              conflicts++;
            }
          }
        };
        await Promise.all(
          range(1, writers).map(async () => {
            for (let i = 0; i < each; i++) await increment();
          }),
        );
        const final = (await store.get(ref)) as unknown as { count: number };
        expect(final.count).toBe(writers * each);
        // every successful write took one revision, every conflict none
        expect(await store.revision()).toBe(1 + writers * each);
        expect(conflicts).toBeGreaterThan(0);
      });
    });

    describe('revisions', () => {
      it('counts every write by exactly one, across kinds', async () => {
        const store = await make();
        const seen: number[] = [];
        seen.push(revisionOf(await store.apply(service('a', 'x')))!);
        seen.push(revisionOf(await store.apply(node('n1')))!);
        seen.push(revisionOf(await store.apply(service('a', 'x', { v: '2' })))!);
        await store.delete({ kind: 'Node', name: 'n1' });
        seen.push(await store.revision());
        seen.push(revisionOf(await store.apply(route('a', 'r')))!);
        expect(seen).toEqual(range(seen[0]!, seen[0]! + 4));
      });
    });

    describe('watch', () => {
      const writeTen = async (store: Store) => {
        await store.apply(service('a', 'web')); // 1 added
        await store.apply(node('n1')); // 2 added
        await store.apply(service('a', 'web', { v: '2' })); // 3 modified
        await store.apply(route('a', 'r')); // 4 added
        await store.delete({ kind: 'Service', namespace: 'a', name: 'web' }); // 5 deleted
        await store.apply(service('b', 'api')); // 6 added
        await store.apply(node('n2')); // 7 added
        await store.delete({ kind: 'Node', name: 'n1' }); // 8 deleted
        await store.apply(service('b', 'api', { v: '3' })); // 9 modified
        await store.apply(route('a', 'r2')); // 10 added
      };

      it('replays every change after any revision, in order, none twice', async () => {
        const store = await make();
        await writeTen(store);
        const head = await store.revision();
        for (let from = 0; from < head; from++) {
          const events = await take(store, from, head - from);
          expect(revisions(events), `from ${from}`).toEqual(range(from + 1, head));
        }
      });

      it('says what changed: added, modified, deleted with the last stored object', async () => {
        const store = await make();
        await writeTen(store);
        const events = (await take(store, 0, 10)) as ChangeEvent[];
        expect(events.map((e) => `${e.type} ${e.object.kind} ${e.object.metadata.name}`)).toEqual([
          'added Service web',
          'added Node n1',
          'modified Service web',
          'added HTTPRoute r',
          'deleted Service web',
          'added Service api',
          'added Node n2',
          'deleted Node n1',
          'modified Service api',
          'added HTTPRoute r2',
        ]);
        const deleted = events[4]!;
        expect(deleted.object.metadata.labels).toEqual({ v: '2' });
        expect(revisionOf(deleted.object)).toBe(3);
        for (const e of events)
          if (e.type !== 'deleted') expect(revisionOf(e.object)).toBe(e.revision);
      });

      it('filters by kind', async () => {
        const store = await make();
        await writeTen(store);
        const events = await take(store, 0, 3, { kinds: ['Node'] });
        expect(revisions(events)).toEqual([2, 7, 8]);
        const routes = await take(store, 3, 2, { kinds: [Kinds.HTTPRoute, 'Secret'] });
        expect(revisions(routes)).toEqual([4, 10]);
      });

      it('delivers live changes to a watcher waiting at the head', async () => {
        const store = await make();
        await store.apply(node('n0'));
        const head = await store.revision();
        const watching = take(store, head, 3);
        await new Promise((r) => setTimeout(r, 50));
        await store.apply(node('n1'));
        await store.apply(node('n2'));
        await store.delete({ kind: 'Node', name: 'n0' });
        expect(revisions(await watching)).toEqual(range(head + 1, head + 3));
      });

      it('answers relist when the log was trimmed past the revision, and replays what it kept', async () => {
        const length = 5;
        const store = await make({ changeLogLength: length });
        for (let i = 0; i < 300; i++) await store.apply(service('a', `s${i % 7}`));
        const head = await store.revision();
        const events = await take(store, 0, 1);
        expect(events).toHaveLength(1);
        expect(events[0]!.type).toBe('relist');
        expect((events[0] as { reason: string }).reason).toMatch(/trimmed/);
        expect(revisions(await take(store, head - length, length))).toEqual(
          range(head - length + 1, head),
        );
      });

      it('answers relist for a revision the store has not reached', async () => {
        const store = await make();
        await store.apply(node('n1'));
        const events = await take(store, 1000, 1);
        expect(events.map((e) => e.type)).toEqual(['relist']);
      });

      it('ends when its signal aborts, also while waiting', async () => {
        const store = await make();
        await store.apply(node('n1'));
        const controller = new AbortController();
        const seen: WatchEvent[] = [];
        const done = (async () => {
          for await (const event of store.watch(0, { signal: controller.signal })) seen.push(event);
        })();
        await eventually(() => seen.length === 1, 'the first event');
        controller.abort();
        await done;
        await store.apply(node('n2'));
        expect(revisions(seen)).toEqual([1]);
      });

      it('a watcher that stops reading blocks neither writers nor other watchers', async () => {
        const store = await make({ changeLogLength: 50 });
        const stalled = store.watch(0)[Symbol.asyncIterator]();
        const writes = 300;
        const live = take(store, 0, writes);
        await store.apply(node('first'));
        expect((await stalled.next()).value).toMatchObject({ revision: 1 });
        for (let i = 1; i < writes; i++) {
          await store.apply(node(`n${i}`));
          // a reader that keeps up: let it run between small bursts
          if (i % 10 === 0) await new Promise((r) => setImmediate(r));
        }
        expect(revisions(await live)).toEqual(range(1, writes));
        // The stalled watcher, reading again, gets either the rest in order or relist.
        const rest: WatchEvent[] = [];
        for (;;) {
          const { value, done } = await stalled.next();
          if (done) break;
          rest.push(value);
          if (value.type === 'relist' || value.revision === writes) break;
        }
        await stalled.return?.();
        const got = revisions(rest);
        if (got[0] === 'relist') expect(got).toEqual(['relist']);
        else expect(got).toEqual(range(2, writes));
      });

      it('keeps the order of concurrent writes', async () => {
        const store = await make();
        const watching = take(store, 0, 100);
        await Promise.all(range(1, 100).map((i) => store.apply(node(`n${i}`))));
        expect(revisions(await watching)).toEqual(range(1, 100));
      });
    });

    describe('informer', () => {
      it('lists, follows changes in batches, and answers reads from memory', async () => {
        const store = await make();
        await store.apply(service('a', 'web', { app: 'web' }));
        await store.apply(node('n1'));
        await store.apply(route('a', 'ignored'));
        const informer = createInformer(store, { kinds: ['Service', 'Node'] });
        const batches: InformerBatch[] = [];
        informer.subscribe((b) => batches.push(b));
        expect(informer.hasSynced()).toBe(false);
        informer.start();
        try {
          await informer.waitForSync();
          expect(informer.hasSynced()).toBe(true);
          expect(batches[0]?.resync).toBe(true);
          expect(
            batches[0]?.changes.map((c) => `${c.type} ${c.object.metadata.name}`).sort(),
          ).toEqual(['added n1', 'added web']);
          expect(
            informer.get({ kind: 'Service', namespace: 'a', name: 'web' })?.metadata.labels,
          ).toEqual({
            app: 'web',
          });
          expect(() => informer.list(Kinds.HTTPRoute)).toThrow(/watches only/);

          await store.apply(service('a', 'web', { app: 'web', v: '2' }));
          await store.apply(service('b', 'api', { app: 'api' }));
          await store.delete({ kind: 'Node', name: 'n1' });
          await store.apply(route('a', 'still-ignored'));
          const head = await store.revision();
          // Subscribers hear changes a macrotask after the index has them
          // (one batch per burst): wait for the batch, not the index.
          await eventually(
            () => batches.at(-1)?.revision === head - 1,
            'the informer to deliver the changes',
          );
          expect(informer.revision()).toBe(head - 1);
          const changes = batches.slice(1).flatMap((b) => b.changes);
          expect(changes.map((c) => `${c.type} ${c.object.metadata.name}`)).toEqual([
            'modified web',
            'added api',
            'deleted n1',
          ]);
          expect(changes[0]?.previous?.metadata.labels).toEqual({ app: 'web' });
          expect(
            informer
              .list('Service')
              .map((o) => o.metadata.name)
              .sort(),
          ).toEqual(['api', 'web']);
          expect(informer.list('Service', { namespace: 'b' }).map((o) => o.metadata.name)).toEqual([
            'api',
          ]);
          expect(
            informer.list('Service', { labelSelector: 'v' }).map((o) => o.metadata.name),
          ).toEqual(['web']);
          expect(informer.list('Node')).toEqual([]);
          expect(informer.get({ kind: 'Node', name: 'n1' })).toBeUndefined();
        } finally {
          await informer.stop();
        }
      });

      it('converges after a burst of writes, by watching or by relisting', async () => {
        const store = await make({ changeLogLength: 5 });
        for (let i = 0; i < 5; i++) await store.apply(node(`n${i}`));
        const informer = createInformer(store, {
          kinds: ['Node'],
          logger: { warn: () => {} },
        });
        const batches: InformerBatch[] = [];
        informer.subscribe((b) => batches.push(b));
        informer.start();
        try {
          await informer.waitForSync();
          // Hundreds of writes at once, more than the log keeps.
          const writes: Promise<unknown>[] = [];
          for (let i = 0; i < 400; i++) writes.push(store.apply(node(`m${i % 50}`)));
          writes.push(store.delete({ kind: 'Node', name: 'n0' }));
          await Promise.all(writes);
          const head = await store.revision();
          await eventually(() => informer.revision() === head, 'the informer to reach the head');
          // Changes reach subscribers a macrotask after the index (one batch per burst).
          await new Promise((resolve) => setImmediate(resolve));
          const names = informer
            .list('Node')
            .map((o) => o.metadata.name)
            .sort();
          expect(names).toEqual(
            [...range(1, 4).map((i) => `n${i}`), ...range(0, 49).map((i) => `m${i}`)].sort(),
          );
          // Whatever path it took (watch or relist), subscribers saw n0 go.
          const deleted = batches.flatMap((b) => b.changes).filter((c) => c.type === 'deleted');
          expect(deleted.map((c) => c.object.metadata.name)).toEqual(['n0']);
        } finally {
          await informer.stop();
        }
      });
    });

    describe('close', () => {
      it('ends watchers and rejects later calls with PIER_STORE_CLOSED', async () => {
        const store = await make();
        await store.apply(node('n1'));
        const seen: WatchEvent[] = [];
        const done = (async () => {
          for await (const event of store.watch(0)) seen.push(event);
        })();
        await eventually(() => seen.length === 1, 'the first event');
        await store.close();
        await done;
        await expectCode(store.apply(node('n2')), StoreErrors.codes.CLOSED);
        await expectCode(store.list('Node'), StoreErrors.codes.CLOSED);
      });
    });
  });
}
