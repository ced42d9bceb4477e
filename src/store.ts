// The Store: the one place every Pier process reads its objects from.
//
// Implementations live in src/store/: `memory` (embedded, one process) and
// `redis` (shared by processes and hosts). Both pass the same suite,
// src/store/store.case.ts.
//
// Invariants every implementation keeps:
// - A global revision counts every write; each apply or delete bumps it by
//   exactly one, and the written object carries it as metadata.resourceVersion.
// - watch(fromRevision) delivers every change with a revision greater than
//   fromRevision, in revision order, none twice, or, when it can no longer
//   (the change log was trimmed past fromRevision), one `relist` event and
//   then ends: the watcher lists again and watches from the list's revision.
// - list() returns a consistent snapshot together with the revision it is at.
// - Objects handed out (get, list, apply, watch) are deep-frozen: the Store
//   and every informer share them. Copy (structuredClone) before changing one.
// - Bad input (a malformed object, reference, selector or revision) is a
//   PierError with a PIER_STORE_* code (src/store/errors.ts) and changes nothing.

import type { KindKey, KubeObject, ObjectRef } from './model/object.ts';

export interface ListOptions {
  namespace?: string;
  /**
   * A Kubernetes label selector as kubectl reads it (`app=web,tier!=db`,
   * `env in (a,b)`, `!canary`), or a map of labels that must all be equal.
   */
  labelSelector?: string | Readonly<Record<string, string>>;
}

export interface ListResult<T extends KubeObject = KubeObject> {
  items: T[];
  /** The Store revision this snapshot is at: watch from here to miss nothing. */
  revision: number;
}

export interface WriteOptions {
  /**
   * Optimistic concurrency: the write succeeds only if the stored object's
   * revision is this one (0: only if it does not exist). Omitted: last write wins.
   */
  expectedRevision?: number;
}

export type ChangeType = 'added' | 'modified' | 'deleted';

export interface ChangeEvent {
  type: ChangeType;
  /** For `deleted`, the object as it was last stored. */
  object: KubeObject;
  revision: number;
}

export interface RelistEvent {
  type: 'relist';
  /** Why the watch cannot go on, for logs. */
  reason: string;
}

export type WatchEvent = ChangeEvent | RelistEvent;

export interface WatchOptions {
  /** Only these kinds; all when omitted. */
  kinds?: readonly KindKey[];
  /** Ends the watch: the iterator returns. */
  signal?: AbortSignal;
}

export interface Store {
  /** A short name for logs and /debug/state: `memory`, `redis`. */
  readonly name: string;
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined>;
  list<T extends KubeObject = KubeObject>(
    kind: KindKey,
    options?: ListOptions,
  ): Promise<ListResult<T>>;
  /**
   * Creates or replaces the object; returns it as stored, with its new
   * resourceVersion. The object's own resourceVersion is ignored: pass
   * expectedRevision for a conditional write (PIER_STORE_CONFLICT on a mismatch).
   */
  apply<T extends KubeObject>(object: T, options?: WriteOptions): Promise<T>;
  /** Removes the object; false when there was none (and then no revision is used). */
  delete(ref: ObjectRef, options?: WriteOptions): Promise<boolean>;
  /** The revision of the latest write. */
  revision(): Promise<number>;
  /**
   * Changes after fromRevision (0: from the beginning, if the log still has
   * it). A watcher that falls too far behind gets `relist` rather than making
   * writers wait or the Store buffer without bound.
   */
  watch(fromRevision: number, options?: WatchOptions): AsyncIterable<WatchEvent>;
  /** Ends every watch and releases connections; later calls reject with PIER_STORE_CLOSED. */
  close(): Promise<void>;
}
