// The informer: how every component reads the Store.
//
// It lists the kinds it was given, then watches from there, and keeps an
// in-memory index that answers get/list synchronously (the data planes read
// it on their hot paths, never the Store). Subscribers get each batch of
// changes and only record them (convention 4); their own rate-limited sync
// does the work.
//
// When the watch cannot go on (`relist`), the informer lists again and
// diffs the new snapshot against its index, so subscribers see the adds,
// updates and deletes they missed, never a flush. When the Store is
// unavailable it keeps its last known state, backs off and retries.
//
// Several kinds are listed one after another, each at its own revision. The
// watch starts at the lowest of them and skips, per kind, the changes that
// kind's snapshot already holds, so nothing is missed or applied twice.

import { isPierError } from '../errors.ts';
import { type KindKey, type KubeObject, kindKeyOf, type ObjectRef } from '../model/object.ts';
import type { ChangeType, ListOptions, Store } from '../store.ts';
import { StoreErrors } from './errors.ts';
import { parseLabelSelector } from './label-selector.ts';
import { logInfo, type StoreLogger, stderrLogger } from './logger.ts';

export interface InformerChange<T extends KubeObject = KubeObject> {
  type: ChangeType;
  /** The object now; for `deleted`, as last known. */
  object: T;
  /** For `modified`, the object as it was before. */
  previous?: T;
}

export interface InformerBatch {
  changes: readonly InformerChange[];
  /** The Store revision the index is at after this batch. */
  revision: number;
  /** True for a batch that comes from a (re)list rather than from the watch. */
  resync: boolean;
}

export type InformerSubscriber = (batch: InformerBatch) => void;

export interface InformerOptions {
  kinds: readonly KindKey[];
  logger?: StoreLogger;
  /** Backoff after a failed list or watch: first wait, and the cap (ms). Defaults 100 and 5000. */
  backoff?: { initialMs?: number; maxMs?: number };
}

export interface Informer {
  /** Starts listing and watching; a no-op when already started. */
  start(): void;
  /** Stops the watch; the index keeps its contents. */
  stop(): Promise<void>;
  /** True once every kind has been listed. */
  hasSynced(): boolean;
  /** Resolves once synced; rejects when the signal aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<void>;
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): T | undefined;
  /** The kind's objects (optionally one namespace, a label selector), in no particular order. */
  list<T extends KubeObject = KubeObject>(kind: KindKey, options?: ListOptions): T[];
  /** Calls fn with every later batch; returns the unsubscribe function. */
  subscribe(fn: InformerSubscriber): () => void;
  /** The Store revision the index reflects. */
  revision(): number;
}

/** kind -> namespace ('' for cluster scope) -> name -> object */
type Index = Map<KindKey, Map<string, Map<string, KubeObject>>>;

export function createInformer(store: Store, options: InformerOptions): Informer {
  const kinds = [...new Set(options.kinds)];
  if (kinds.length === 0)
    throw StoreErrors.INVALID_ARGUMENT('createInformer', 'kinds must name at least one kind');
  const logger = options.logger ?? stderrLogger;
  const initialBackoff = options.backoff?.initialMs ?? 100;
  const maxBackoff = options.backoff?.maxMs ?? 5000;

  const index: Index = new Map(kinds.map((k) => [k, new Map()]));
  const subscribers = new Set<InformerSubscriber>();
  let revision = 0;
  let synced = false;
  const syncWaiters = new Set<{ resolve: () => void; reject: (e: Error) => void }>();
  let controller: AbortController | undefined;
  let running: Promise<void> | undefined;

  // Changes from the watch wait here until the next macrotask, so a burst of
  // writes reaches subscribers as one batch.
  let pending: InformerChange[] = [];
  let flushScheduled: ReturnType<typeof setImmediate> | undefined;

  const emit = (changes: InformerChange[], resync: boolean) => {
    const batch: InformerBatch = { changes, revision, resync };
    for (const fn of subscribers) {
      try {
        fn(batch);
      } catch (error) {
        logger.warn({ err: error }, 'informer subscriber threw; it should only record changes');
      }
    }
  };

  const flush = () => {
    if (flushScheduled !== undefined) {
      clearImmediate(flushScheduled);
      flushScheduled = undefined;
    }
    if (pending.length === 0) return;
    const changes = pending;
    pending = [];
    emit(changes, false);
  };

  const namespaceOf = (o: KubeObject) => o.metadata.namespace ?? '';

  const lookup = (kind: KindKey, namespace: string, name: string) =>
    index.get(kind)?.get(namespace)?.get(name);

  const put = (kind: KindKey, object: KubeObject) => {
    const byKind = index.get(kind)!;
    const ns = namespaceOf(object);
    let byName = byKind.get(ns);
    if (byName === undefined) {
      byName = new Map();
      byKind.set(ns, byName);
    }
    byName.set(object.metadata.name, object);
  };

  const remove = (kind: KindKey, namespace: string, name: string) => {
    const byName = index.get(kind)?.get(namespace);
    if (byName === undefined) return;
    byName.delete(name);
    if (byName.size === 0) index.get(kind)!.delete(namespace);
  };

  /** Applies one watched change to the index; the change subscribers see, if any. */
  const applyChange = (
    kind: KindKey,
    type: ChangeType,
    object: KubeObject,
  ): InformerChange | undefined => {
    const ns = namespaceOf(object);
    const previous = lookup(kind, ns, object.metadata.name);
    if (type === 'deleted') {
      if (previous === undefined) return undefined;
      remove(kind, ns, object.metadata.name);
      return { type: 'deleted', object: previous };
    }
    put(kind, object);
    return previous === undefined
      ? { type: 'added', object }
      : { type: 'modified', object, previous };
  };

  /** Replaces a kind's contents with a fresh list, returning the difference. */
  const replaceKind = (kind: KindKey, items: readonly KubeObject[], changes: InformerChange[]) => {
    const old = index.get(kind)!;
    const fresh = new Map<string, Map<string, KubeObject>>();
    for (const object of items) {
      const ns = namespaceOf(object);
      let byName = fresh.get(ns);
      if (byName === undefined) {
        byName = new Map();
        fresh.set(ns, byName);
      }
      byName.set(object.metadata.name, object);
      const previous = old.get(ns)?.get(object.metadata.name);
      if (previous === undefined) changes.push({ type: 'added', object });
      else if (previous.metadata.resourceVersion !== object.metadata.resourceVersion) {
        changes.push({ type: 'modified', object, previous });
      }
    }
    for (const [ns, byName] of old) {
      for (const [name, object] of byName) {
        if (fresh.get(ns)?.get(name) === undefined) changes.push({ type: 'deleted', object });
      }
    }
    index.set(kind, fresh);
  };

  const markSynced = () => {
    if (synced) return;
    synced = true;
    for (const waiter of syncWaiters) waiter.resolve();
    syncWaiters.clear();
  };

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms * (0.8 + Math.random() * 0.4));
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    });

  const run = async (signal: AbortSignal) => {
    let backoff = initialBackoff;
    const fail = async (what: string, error: unknown) => {
      logger.warn(
        {
          err: error,
          code: (error as { code?: unknown }).code,
          store: store.name,
          retryInMs: backoff,
        },
        `informer ${what} failed; keeping the last known state and retrying`,
      );
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, maxBackoff);
    };

    while (!signal.aborted) {
      // List every kind, then swap the snapshot in at once.
      const listed = new Map<KindKey, number>();
      const snapshots: { kind: KindKey; items: KubeObject[] }[] = [];
      try {
        for (const kind of kinds) {
          const result = await store.list(kind);
          listed.set(kind, result.revision);
          snapshots.push({ kind, items: result.items });
        }
      } catch (error) {
        if (signal.aborted || isPierError(error, StoreErrors.codes.CLOSED)) return;
        await fail('list', error);
        continue;
      }
      if (signal.aborted) return;
      flush();
      const changes: InformerChange[] = [];
      for (const { kind, items } of snapshots) replaceKind(kind, items, changes);
      const from = Math.min(...listed.values());
      revision = Math.max(...listed.values());
      const first = !synced;
      markSynced();
      if (changes.length > 0 || first) emit(changes, true);

      // Watch until the Store says to list again (or we stop).
      try {
        for await (const event of store.watch(from, { kinds, signal })) {
          if (event.type === 'relist') {
            logInfo(logger, { reason: event.reason, store: store.name }, 'informer relisting');
            break;
          }
          backoff = initialBackoff;
          const kind = kindKeyOf(event.object);
          if (!index.has(kind)) continue;
          if (event.revision <= (listed.get(kind) ?? 0)) continue;
          if (event.revision > revision) revision = event.revision;
          const change = applyChange(kind, event.type, event.object);
          if (change !== undefined) {
            pending.push(change);
            flushScheduled ??= setImmediate(flush);
          }
        }
      } catch (error) {
        if (signal.aborted || isPierError(error, StoreErrors.codes.CLOSED)) break;
        flush();
        await fail('watch', error);
      }
      flush();
    }
  };

  return {
    start() {
      if (controller !== undefined && !controller.signal.aborted) return;
      controller = new AbortController();
      const signal = controller.signal;
      running = run(signal).catch((error) => {
        logger.warn({ err: error }, 'informer stopped on an unexpected error');
      });
    },

    async stop() {
      controller?.abort();
      await running;
      flush();
      for (const waiter of syncWaiters) waiter.reject(StoreErrors.CLOSED('informer'));
      syncWaiters.clear();
    },

    hasSynced: () => synced,

    waitForSync(signal?: AbortSignal) {
      if (synced) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const onAbort = () => {
          syncWaiters.delete(waiter);
          reject(signal!.reason);
        };
        const waiter = {
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          reject: (error: Error) => {
            signal?.removeEventListener('abort', onAbort);
            reject(error);
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        syncWaiters.add(waiter);
      });
    },

    get<T extends KubeObject = KubeObject>(ref: ObjectRef): T | undefined {
      return lookup(ref.kind, ref.namespace ?? '', ref.name) as T | undefined;
    },

    list<T extends KubeObject = KubeObject>(kind: KindKey, listOptions: ListOptions = {}): T[] {
      const byKind = index.get(kind);
      if (byKind === undefined) {
        throw StoreErrors.INVALID_ARGUMENT(
          `informer list ${kind}`,
          `this informer watches only ${kinds.join(', ')}`,
        );
      }
      const selector = parseLabelSelector(listOptions.labelSelector);
      const out: T[] = [];
      const add = (byName: Map<string, KubeObject> | undefined) => {
        if (byName === undefined) return;
        for (const object of byName.values()) {
          if (selector.empty || selector.matches(object.metadata.labels)) out.push(object as T);
        }
      };
      if (listOptions.namespace !== undefined) add(byKind.get(listOptions.namespace));
      else for (const byName of byKind.values()) add(byName);
      return out;
    },

    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },

    revision: () => revision,
  };
}
