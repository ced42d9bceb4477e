// The embedded Store: one process, no dependencies, the default.
//
// The change log is a ring of the last `changeLogLength` changes, indexed
// by revision (every write takes the next revision, so revision r lives at
// slot r % length). A watcher is a cursor into that ring rather than a queue
// of its own: writers append once and wake the waiting watchers, whatever
// their number or speed, and a watcher that falls more than a ring behind
// (slow, or not reading) gets `relist` instead of an ever-growing buffer.
// So the ring is each watcher's bounded buffer, shared.

import {
  describeRef,
  type KindKey,
  type KubeObject,
  kindKeyOf,
  type ObjectRef,
  revisionOf,
} from '../model/object.ts';
import type {
  ChangeEvent,
  ListOptions,
  ListResult,
  Store,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from '../store.ts';
import { StoreErrors } from './errors.ts';
import { parseLabelSelector } from './label-selector.ts';
import {
  byNamespaceAndName,
  checkObject,
  checkRef,
  checkRevision,
  describeObject,
  fieldOfObject,
  fieldOfRef,
  storedCopy,
} from './stored-object.ts';

export interface MemoryStoreOptions {
  /** How many changes watch() can replay; older ones answer `relist`. Default 10 000. */
  changeLogLength?: number;
}

interface LogEntry {
  kind: KindKey;
  event: ChangeEvent;
}

export const DEFAULT_CHANGE_LOG_LENGTH = 10_000;

export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const capacity = options.changeLogLength ?? DEFAULT_CHANGE_LOG_LENGTH;
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw StoreErrors.INVALID_ARGUMENT(
      'changeLogLength',
      `must be a positive integer, got ${String(capacity)}`,
    );
  }
  const kinds = new Map<KindKey, Map<string, KubeObject>>();
  const log: (LogEntry | undefined)[] = new Array(capacity);
  let revision = 0;
  let closed = false;
  // One promise all idle watchers await; a write resolves it and starts afresh.
  let wakeup: PromiseWithResolvers<void> | undefined;

  const notify = () => {
    if (wakeup !== undefined) {
      wakeup.resolve();
      wakeup = undefined;
    }
  };
  const nextWrite = (): Promise<void> => {
    wakeup ??= Promise.withResolvers<void>();
    return wakeup.promise;
  };
  const checkOpen = () => {
    if (closed) throw StoreErrors.CLOSED('memory');
  };

  const record = (kind: KindKey, event: ChangeEvent) => {
    log[event.revision % capacity] = { kind, event: Object.freeze(event) };
    notify();
  };

  const store: Store = {
    name: 'memory',

    async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> {
      checkOpen();
      checkRef(ref);
      return kinds.get(ref.kind)?.get(fieldOfRef(ref)) as T | undefined;
    },

    async list<T extends KubeObject = KubeObject>(
      kind: KindKey,
      options: ListOptions = {},
    ): Promise<ListResult<T>> {
      checkOpen();
      const selector = parseLabelSelector(options.labelSelector);
      const namespace = options.namespace;
      const items: T[] = [];
      for (const object of kinds.get(kind)?.values() ?? []) {
        if (namespace !== undefined && (object.metadata.namespace ?? '') !== namespace) continue;
        if (!selector.empty && !selector.matches(object.metadata.labels)) continue;
        items.push(object as T);
      }
      items.sort(byNamespaceAndName);
      return { items, revision };
    },

    async apply<T extends KubeObject>(object: T, options: WriteOptions = {}): Promise<T> {
      checkOpen();
      checkObject(object);
      const expected = options.expectedRevision;
      if (expected !== undefined) checkRevision('expectedRevision', expected);
      const kind = kindKeyOf(object);
      const field = fieldOfObject(object);
      const objects = kinds.get(kind);
      const current = objects?.get(field);
      if (expected !== undefined) {
        const actual = current === undefined ? 0 : (revisionOf(current) ?? 0);
        if (actual !== expected)
          throw StoreErrors.CONFLICT(describeObject(object), expected, actual);
      }
      // Copy before taking a revision: an object JSON cannot hold must not use one.
      const stored = storedCopy(object, revision + 1);
      revision++;
      if (objects === undefined) kinds.set(kind, new Map([[field, stored]]));
      else objects.set(field, stored);
      record(kind, {
        type: current === undefined ? 'added' : 'modified',
        object: stored,
        revision,
      });
      return stored;
    },

    async delete(ref: ObjectRef, options: WriteOptions = {}): Promise<boolean> {
      checkOpen();
      checkRef(ref);
      const expected = options.expectedRevision;
      if (expected !== undefined) checkRevision('expectedRevision', expected);
      const field = fieldOfRef(ref);
      const objects = kinds.get(ref.kind);
      const current = objects?.get(field);
      const actual = current === undefined ? 0 : (revisionOf(current) ?? 0);
      if (expected !== undefined && actual !== expected) {
        throw StoreErrors.CONFLICT(describeRef(ref), expected, actual);
      }
      if (current === undefined || objects === undefined) return false;
      objects.delete(field);
      if (objects.size === 0) kinds.delete(ref.kind);
      revision++;
      record(ref.kind, { type: 'deleted', object: current, revision });
      return true;
    },

    async revision() {
      checkOpen();
      return revision;
    },

    watch(fromRevision: number, options: WatchOptions = {}): AsyncIterable<WatchEvent> {
      checkRevision('watch fromRevision', fromRevision);
      const only = options.kinds === undefined ? undefined : new Set(options.kinds);
      const signal = options.signal;
      return {
        async *[Symbol.asyncIterator]() {
          let cursor = fromRevision;
          signal?.addEventListener('abort', notify);
          try {
            for (;;) {
              if (closed || signal?.aborted) return;
              if (cursor > revision) {
                yield {
                  type: 'relist',
                  reason: `revision ${cursor} is ahead of the store (at ${revision})`,
                };
                return;
              }
              if (cursor < revision - capacity) {
                yield {
                  type: 'relist',
                  reason: `change log trimmed past revision ${cursor} (it keeps revisions ${revision - capacity + 1} to ${revision})`,
                };
                return;
              }
              if (cursor === revision) {
                await nextWrite();
                continue;
              }
              cursor++;
              const entry = log[cursor % capacity]!;
              if (only === undefined || only.has(entry.kind)) yield entry.event;
            }
          } finally {
            signal?.removeEventListener('abort', notify);
          }
        },
      };
    },

    async close() {
      closed = true;
      kinds.clear();
      log.fill(undefined);
      notify();
    },
  };
  return store;
}
