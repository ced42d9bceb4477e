// The status writer: what status publishers (status-publisher.ts) plan,
// PATCHed to the cluster's status subresources by the source's leader.
//
// Record, then sync (convention 4): a watch on the Store (the publishers'
// kinds) only marks the writer dirty; one loop, at most once per delayMs,
// takes a snapshot of those kinds from the Store, asks each publisher for
// its patches and sends them one at a time (one write in flight). Nothing
// is planned before the source has listed every kind and written it to the
// Store (`ready`), so a half-loaded Store never shows up as a wrong status.
//
// No write loop: a publisher plans nothing for an object whose status is
// already what it wants; and until the cluster's MODIFIED event for a
// patch is back in the Store, the same patch (lastTransitionTime aside) for
// the same Store revision of the object is not sent again.
//
// Errors: 404 means the object is gone (its DELETED event follows): skipped.
// Anything else is logged once per object and kind of error, and the sync
// is retried with backoff. The writer runs within one leader term: the
// term's signal ends it, so a deposed leader stops writing.
//
// Only objects the Kubernetes source wrote (pier.dev/source: kubernetes) are
// patched: objects from manifests are not in the cluster.

import {
  describeRef,
  type KindKey,
  type KubeObject,
  refOf,
  revisionOf,
} from '../../model/object.ts';
import { sleep } from '../../sleep.ts';
import type { Store } from '../../store.ts';
import { SOURCE_ANNOTATION } from '../manifests/source.ts';
import { KubernetesErrors } from './errors.ts';
import { type KubernetesApi, KubernetesApiError } from './kubernetes-api.ts';
import { SOURCE_VALUE } from './prepare-object.ts';
import { apiResourceOf, collectionPath } from './resources.ts';
import type { StatusPatch, StatusPublisher, StatusView } from './status-publisher.ts';
import type { WriterLogger } from './store-writer.ts';

export interface StatusWriterOptions {
  store: Store;
  api: KubernetesApi;
  publishers: readonly StatusPublisher[];
  logger: WriterLogger;
  /** True once the Store holds the cluster (every kind listed and written); nothing is planned before. */
  ready: () => boolean;
  /** At most one sync per this many ms (bursts coalesce). Default 200. */
  delayMs?: number;
  /** Backoff after a failed sync (ms). Defaults 500 and 30 000. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** The clock conditions are stamped with (tests). */
  now?: () => Date;
}

export interface StatusWriterStats {
  syncs: number;
  /** PATCHes the API server accepted. */
  patches: number;
  /** PATCHes that failed (404s not counted). */
  failures: number;
}

export interface StatusWriter {
  /** Writes until the signal aborts (the end of the leader's term); resolves after the write in flight. */
  run(signal: AbortSignal): Promise<void>;
  stats(): StatusWriterStats;
}

/** The patch with every lastTransitionTime taken out: two patches that differ only there are the same. */
export function patchIdentity(patch: StatusPatch['patch']): string {
  return JSON.stringify(patch, (key, value) => (key === 'lastTransitionTime' ? undefined : value));
}

export function createStatusWriter(options: StatusWriterOptions): StatusWriter {
  const { store, api, publishers, logger } = options;
  const delayMs = options.delayMs ?? 200;
  const initialBackoff = options.backoff?.initialMs ?? 500;
  const maxBackoff = options.backoff?.maxMs ?? 30_000;
  const now = options.now ?? (() => new Date());
  const kinds: KindKey[] = [...new Set(publishers.flatMap((p) => p.kinds))];
  const stats: StatusWriterStats = { syncs: 0, patches: 0, failures: 0 };
  /** Per object: the last patch sent (lastTransitionTime aside) and the Store revision it was planned from. */
  const sent = new Map<string, { revision: number | undefined; identity: string }>();
  /** `object error-kind` already logged; cleared when the object's write succeeds. */
  const logged = new Set<string>();

  const logOnce = (key: string, kind: string, fields: Record<string, unknown>, message: string) => {
    const id = `${key}\n${kind}`;
    if (logged.has(id)) return;
    logged.add(id);
    logger.warn(fields, message);
  };
  const clearLogged = (key: string) => {
    for (const id of logged) if (id.startsWith(`${key}\n`)) logged.delete(id);
  };

  /** One sync: snapshot, plan, patch. False when something failed (retry with backoff). */
  const sync = async (signal: AbortSignal): Promise<boolean> => {
    stats.syncs++;
    const snapshot = new Map<KindKey, KubeObject[]>();
    const byKey = new Map<string, KubeObject>();
    for (const kind of kinds) {
      const items = (await store.list(kind)).items;
      snapshot.set(kind, items);
      for (const item of items) byKey.set(describeRef(refOf(item)), item);
    }
    const view: StatusView = {
      list: <T extends KubeObject>(kind: KindKey) => (snapshot.get(kind) ?? []) as T[],
    };
    let ok = true;
    const patches: StatusPatch[] = [];
    for (const publisher of publishers) {
      try {
        patches.push(...publisher.plan(view, now()));
      } catch (error) {
        ok = false;
        const e = KubernetesErrors.STATUS_PLAN(publisher.name, (error as Error).message);
        logOnce(`publisher ${publisher.name}`, 'plan', { code: e.code }, e.message);
      }
    }
    for (const key of sent.keys()) if (!byKey.has(key)) sent.delete(key);

    for (const { ref, patch } of patches) {
      if (signal.aborted) break;
      const key = describeRef(ref);
      const object = byKey.get(key);
      if (object?.metadata.annotations?.[SOURCE_ANNOTATION] !== SOURCE_VALUE) continue;
      const resource = apiResourceOf(ref.kind);
      if (resource === undefined) continue;
      const revision = revisionOf(object);
      const identity = patchIdentity(patch);
      const last = sent.get(key);
      if (last !== undefined && last.revision === revision && last.identity === identity) continue;
      const version = object.apiVersion.slice(object.apiVersion.lastIndexOf('/') + 1);
      const path = `${collectionPath(resource, version, ref.namespace)}/${encodeURIComponent(ref.name)}/status`;
      try {
        await api.patchStatus!(path, patch, signal);
        stats.patches++;
        sent.set(key, { revision, identity });
        clearLogged(key);
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof KubernetesApiError && error.status === 404) continue;
        stats.failures++;
        ok = false;
        const kind =
          error instanceof KubernetesApiError ? `${error.status} ${error.reason}` : 'error';
        const e = KubernetesErrors.STATUS_WRITE(key, (error as Error).message);
        logOnce(key, kind, { code: e.code, object: key }, e.message);
      }
    }
    return ok;
  };

  return {
    stats: () => ({ ...stats }),

    async run(signal) {
      if (api.patchStatus === undefined || publishers.length === 0 || kinds.length === 0) return;
      let dirty = true;
      let wake: (() => void) | undefined;
      const notify = () => {
        dirty = true;
        wake?.();
      };

      // Record: any change of the publishers' kinds marks the writer dirty.
      const watching = (async () => {
        let backoff = initialBackoff;
        while (!signal.aborted) {
          try {
            const from = await store.revision();
            notify();
            for await (const event of store.watch(from, { kinds, signal })) {
              if (backoff !== initialBackoff) clearLogged('store watch');
              backoff = initialBackoff;
              if (event.type === 'relist') break;
              notify();
            }
          } catch (error) {
            if (signal.aborted) return;
            logOnce(
              'store watch',
              String((error as { code?: unknown }).code ?? 'error'),
              {},
              `status writer: watching the Store failed (${(error as Error).message}); retrying`,
            );
            await sleep(backoff, signal);
            backoff = Math.min(backoff * 2, maxBackoff);
          }
        }
      })();

      // Sync.
      let lastStart = Number.NEGATIVE_INFINITY;
      let backoff = initialBackoff;
      while (!signal.aborted) {
        if (!dirty) {
          // One abort listener per wait, removed again: a long term waits many times.
          await new Promise<void>((resolve) => {
            const done = () => {
              signal.removeEventListener('abort', done);
              wake = undefined;
              resolve();
            };
            wake = done;
            signal.addEventListener('abort', done, { once: true });
          });
          continue;
        }
        const wait = delayMs - (performance.now() - lastStart);
        if (wait > 0) await sleep(wait, signal);
        if (signal.aborted) break;
        if (!options.ready()) {
          await sleep(100, signal);
          continue;
        }
        dirty = false;
        lastStart = performance.now();
        let ok: boolean;
        try {
          ok = await sync(signal);
        } catch (error) {
          // The Store failed (list): retried like a failed write.
          if (signal.aborted) break;
          ok = false;
          logOnce(
            'store list',
            String((error as { code?: unknown }).code ?? 'error'),
            {},
            `status writer: reading the Store failed (${(error as Error).message}); retrying`,
          );
        }
        if (ok) {
          backoff = initialBackoff;
          clearLogged('store list');
        } else {
          dirty = true;
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, maxBackoff);
        }
      }
      await watching;
    },
  };
}
