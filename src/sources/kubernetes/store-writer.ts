// Record, then sync (convention 4): reflectors only record what the cluster
// holds (desired), and one loop writes the difference to the Store, one
// write at a time, latest state only: ten quick updates of one object while
// the Store is slow become one write.
//
// What the Store holds for this source (written) is read from the Store
// itself whenever a scope is listed, so a relist, a new leader, or writes
// behind the source's back all converge to exactly the cluster's objects:
// objects that vanished while nobody watched are deleted, unchanged ones are
// not rewritten (compared by fingerprint, as the manifests source does).
//
// Every write is conditional (expectedRevision): the source only replaces
// what it wrote itself. An object of the same name written by someone else
// (the manifests source, an operator) is left alone and reported once; a
// conflict with a stale view (a deposed leader's last write) re-reads and
// retries.

import { isPierError } from '../../errors.ts';
import {
  describeRef,
  type KindKey,
  type KubeObject,
  type ObjectRef,
  refOf,
  revisionOf,
} from '../../model/object.ts';
import { sleep } from '../../sleep.ts';
import { StoreErrors } from '../../store/errors.ts';
import type { Store } from '../../store.ts';
import { fingerprint } from '../manifests/plan.ts';
import { SOURCE_ANNOTATION } from '../manifests/source.ts';
import { KubernetesErrors } from './errors.ts';
import { type Prepared, SOURCE_VALUE } from './prepare-object.ts';

/** The part of the cluster one reflector lists: a kind, optionally one namespace or one name. */
export interface Scope {
  kind: KindKey;
  namespace?: string;
  name?: string;
}

export interface ScopeSink {
  /** A complete list of the scope: anything not in it is gone. */
  replace(items: readonly Prepared[]): void;
  /** An object added or changed; an invalid one keeps the last valid version. */
  upsert(prepared: Prepared): void;
  /** An object deleted. */
  remove(ref: ObjectRef): void;
}

export interface WriterLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface StoreWriterOptions {
  store: Store;
  logger: WriterLogger;
  /** Backoff after a failed Store call (ms). Defaults 100 and 5000. */
  backoff?: { initialMs?: number; maxMs?: number };
}

export interface WriterStats {
  applied: number;
  deleted: number;
  conflicts: number;
  /** Keys left alone because another writer owns them. */
  foreign: number;
  /** Keys waiting to be written. */
  pending: number;
}

export interface StoreWriter {
  scope(scope: Scope): ScopeSink;
  /** Resolves once everything recorded so far is written (or left alone). */
  idle(): Promise<void>;
  isIdle(): boolean;
  stats(): WriterStats;
  /** Stops writing after the write in flight; what is not written yet is dropped. */
  close(): Promise<void>;
}

interface Desired {
  ref: ObjectRef;
  /** Undefined: the cluster's version is invalid; keep whatever the Store has. */
  object?: KubeObject;
  fingerprint?: string;
}

interface Written {
  ref: ObjectRef;
  fingerprint: string;
  revision: number;
}

const MAX_CONFLICT_RETRIES = 3;

export function inScope(scope: Scope, ref: ObjectRef): boolean {
  return (
    ref.kind === scope.kind &&
    (scope.namespace === undefined || ref.namespace === scope.namespace) &&
    (scope.name === undefined || ref.name === scope.name)
  );
}

function ownerOf(object: KubeObject): string | undefined {
  return object.metadata.annotations?.[SOURCE_ANNOTATION];
}

export function createStoreWriter(options: StoreWriterOptions): StoreWriter {
  const { store, logger } = options;
  const initialBackoff = options.backoff?.initialMs ?? 100;
  const maxBackoff = options.backoff?.maxMs ?? 5000;
  const desired = new Map<string, Desired>();
  const written = new Map<string, Written>();
  const dirty = new Set<string>();
  const reloads: Scope[] = [];
  const foreign = new Map<string, ObjectRef>();
  const conflictRetries = new Map<string, number>();
  const idleWaiters: (() => void)[] = [];
  const stats = { applied: 0, deleted: 0, conflicts: 0 };
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  let failing = false;
  let backoff = initialBackoff;

  const pendingWork = () => reloads.length > 0 || dirty.size > 0;
  const isIdle = () => running === undefined && !pendingWork();

  const settleIdle = () => {
    if (!isIdle()) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  };

  const pause = (ms: number) => sleep(ms, stop.signal);

  /** What the Store holds of this source in the scope: the base every later write is checked against. */
  const reload = async (scope: Scope) => {
    const { items } = await store.list(
      scope.kind,
      scope.namespace === undefined ? {} : { namespace: scope.namespace },
    );
    for (const [key, entry] of written) if (inScope(scope, entry.ref)) written.delete(key);
    for (const [key, ref] of foreign) if (inScope(scope, ref)) foreign.delete(key);
    for (const item of items) {
      const ref = refOf(item);
      if (ownerOf(item) !== SOURCE_VALUE || !inScope(scope, ref)) continue;
      written.set(describeRef(ref), {
        ref,
        fingerprint: fingerprint(item),
        revision: revisionOf(item) ?? 0,
      });
    }
    for (const [key, entry] of desired) if (inScope(scope, entry.ref)) dirty.add(key);
    for (const [key, entry] of written) if (inScope(scope, entry.ref)) dirty.add(key);
  };

  const conflict = async (key: string, ref: ObjectRef) => {
    stats.conflicts++;
    const current = await store.get(ref);
    if (current === undefined) {
      written.delete(key);
    } else if (ownerOf(current) === SOURCE_VALUE) {
      written.set(key, {
        ref,
        fingerprint: fingerprint(current),
        revision: revisionOf(current) ?? 0,
      });
    } else {
      written.delete(key);
      foreign.set(key, ref);
      const owner = ownerOf(current);
      const error = KubernetesErrors.OWNED_ELSEWHERE(
        describeRef(ref),
        owner === undefined ? 'another writer' : `the ${owner} source`,
      );
      logger.warn(
        { code: error.code, kind: ref.kind, namespace: ref.namespace, name: ref.name },
        error.message,
      );
      return;
    }
    const retries = (conflictRetries.get(key) ?? 0) + 1;
    conflictRetries.set(key, retries);
    if (retries <= MAX_CONFLICT_RETRIES) dirty.add(key);
    else
      logger.warn(
        { kind: ref.kind, namespace: ref.namespace, name: ref.name },
        `${describeRef(ref)}: the Store keeps changing under this source (another writer?); retrying at the next relist`,
      );
  };

  const syncKey = async (key: string) => {
    if (foreign.has(key)) return;
    const want = desired.get(key);
    const have = written.get(key);
    if (want?.object !== undefined && want.fingerprint !== undefined) {
      if (have?.fingerprint === want.fingerprint) return;
      try {
        const stored = await store.apply(want.object, { expectedRevision: have?.revision ?? 0 });
        written.set(key, {
          ref: want.ref,
          fingerprint: want.fingerprint,
          revision: revisionOf(stored) ?? 0,
        });
        conflictRetries.delete(key);
        stats.applied++;
      } catch (error) {
        if (!isPierError(error, StoreErrors.codes.CONFLICT)) throw error;
        await conflict(key, want.ref);
      }
    } else if (want === undefined && have !== undefined) {
      try {
        await store.delete(have.ref, { expectedRevision: have.revision });
        written.delete(key);
        conflictRetries.delete(key);
        stats.deleted++;
      } catch (error) {
        if (!isPierError(error, StoreErrors.codes.CONFLICT)) throw error;
        await conflict(key, have.ref);
      }
    }
  };

  const loop = async () => {
    while (!stop.signal.aborted && pendingWork()) {
      const scope = reloads[0];
      const key = scope === undefined ? dirty.values().next().value : undefined;
      try {
        if (scope !== undefined) {
          await reload(scope);
          reloads.shift();
        } else if (key !== undefined) {
          dirty.delete(key);
          try {
            await syncKey(key);
          } catch (error) {
            dirty.add(key);
            throw error;
          }
        }
        if (failing) {
          failing = false;
          logger.info({ store: store.name }, 'Store writable again; catching up');
        }
        backoff = initialBackoff;
      } catch (error) {
        if (stop.signal.aborted || isPierError(error, StoreErrors.codes.CLOSED)) break;
        if (!failing) {
          failing = true;
          logger.warn(
            { err: error, code: (error as { code?: unknown }).code, store: store.name },
            'cannot write to the Store; keeping the latest cluster state and retrying',
          );
        }
        await pause(backoff);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  };

  const kick = () => {
    if (running !== undefined || stop.signal.aborted) return;
    running = loop().finally(() => {
      running = undefined;
      if (pendingWork() && !stop.signal.aborted) kick();
      else settleIdle();
    });
  };

  const keyOf = (ref: ObjectRef) => describeRef(ref);

  return {
    scope(scope: Scope): ScopeSink {
      return {
        replace(items) {
          const fresh = new Map<string, Desired>();
          for (const p of items) {
            if (p.ref === undefined || !inScope(scope, p.ref)) continue;
            const key = keyOf(p.ref);
            if (p.ok) fresh.set(key, { ref: p.ref, object: p.object, fingerprint: p.fingerprint });
            else fresh.set(key, desired.get(key) ?? { ref: p.ref });
          }
          for (const [key, entry] of desired) {
            if (inScope(scope, entry.ref) && !fresh.has(key)) desired.delete(key);
          }
          for (const [key, entry] of fresh) desired.set(key, entry);
          reloads.push(scope);
          kick();
        },
        upsert(p) {
          if (p.ref === undefined || !inScope(scope, p.ref)) return;
          const key = keyOf(p.ref);
          if (p.ok) {
            desired.set(key, { ref: p.ref, object: p.object, fingerprint: p.fingerprint });
            dirty.add(key);
            kick();
          } else if (!desired.has(key)) {
            desired.set(key, { ref: p.ref });
          }
        },
        remove(ref) {
          if (!inScope(scope, ref)) return;
          const key = keyOf(ref);
          desired.delete(key);
          dirty.add(key);
          kick();
        },
      };
    },

    idle() {
      if (isIdle()) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },

    isIdle,

    stats: () => ({ ...stats, foreign: foreign.size, pending: dirty.size + reloads.length }),

    async close() {
      stop.abort();
      await running;
      for (const resolve of idleWaiters.splice(0)) resolve();
    },
  };
}
