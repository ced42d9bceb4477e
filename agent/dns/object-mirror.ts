// A worker thread's copy of the objects the zone is built from, kept by the
// change batches the main thread's informer forwards (structured clones of
// the changed objects only). It answers list() like the informer does.

import { type KindKey, type KubeObject, kindKeyOf } from '../../src/model/object.ts';
import type { ObjectView } from './zone-sync.ts';

export interface MirrorChange {
  type: 'added' | 'modified' | 'deleted';
  object: KubeObject;
}

export interface ObjectMirror extends ObjectView {
  /** Applies changes; `reset` first forgets everything (a full snapshot follows in `changes`). */
  apply(changes: readonly MirrorChange[], reset: boolean): void;
}

export function createObjectMirror(): ObjectMirror {
  const byKind = new Map<KindKey, Map<string, KubeObject>>();
  return {
    apply(changes, reset) {
      if (reset) byKind.clear();
      for (const { type, object } of changes) {
        const kind = kindKeyOf(object);
        let objects = byKind.get(kind);
        if (objects === undefined) {
          objects = new Map();
          byKind.set(kind, objects);
        }
        const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
        if (type === 'deleted') objects.delete(key);
        else objects.set(key, object);
      }
    },
    list<T extends KubeObject = KubeObject>(kind: KindKey): T[] {
      return [...(byKind.get(kind)?.values() ?? [])] as T[];
    },
  };
}
