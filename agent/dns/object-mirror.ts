// A worker thread's copy of the objects the zone is built from, kept by the
// change batches the main thread's informer forwards (structured clones of
// the changed objects only). It answers get() and list() as the informer
// does, so the zone sync reads it the same way.

import {
  type KindKey,
  type KubeObject,
  kindKeyOf,
  type ObjectRef,
} from '../../src/model/object.ts';
import { parseLabelSelector } from '../../src/store/label-selector.ts';
import type { ListOptions } from '../../src/store.ts';
import type { ObjectChange, ObjectView } from './zone-sync.ts';

export type MirrorChange = Pick<ObjectChange, 'type' | 'object' | 'previous'>;

export interface ObjectMirror extends ObjectView {
  /** Applies changes; `reset` first forgets everything (a full snapshot follows in `changes`). */
  apply(changes: readonly MirrorChange[], reset: boolean): void;
}

export function createObjectMirror(): ObjectMirror {
  /** kind -> namespace -> name -> object */
  const index = new Map<KindKey, Map<string, Map<string, KubeObject>>>();
  return {
    apply(changes, reset) {
      if (reset) index.clear();
      for (const { type, object } of changes) {
        const kind = kindKeyOf(object);
        const ns = object.metadata.namespace ?? '';
        let byNs = index.get(kind);
        if (byNs === undefined) {
          byNs = new Map();
          index.set(kind, byNs);
        }
        let byName = byNs.get(ns);
        if (byName === undefined) {
          byName = new Map();
          byNs.set(ns, byName);
        }
        if (type === 'deleted') byName.delete(object.metadata.name);
        else byName.set(object.metadata.name, object);
      }
    },
    get<T extends KubeObject = KubeObject>(ref: ObjectRef): T | undefined {
      return index
        .get(ref.kind)
        ?.get(ref.namespace ?? '')
        ?.get(ref.name) as T | undefined;
    },
    list<T extends KubeObject = KubeObject>(kind: KindKey, options: ListOptions = {}): T[] {
      const byNs = index.get(kind);
      if (byNs === undefined) return [];
      const selector = parseLabelSelector(options.labelSelector);
      const out: T[] = [];
      const add = (byName: Map<string, KubeObject> | undefined) => {
        for (const object of byName?.values() ?? []) {
          if (selector.empty || selector.matches(object.metadata.labels)) out.push(object as T);
        }
      };
      if (options.namespace !== undefined) add(byNs.get(options.namespace));
      else for (const byName of byNs.values()) add(byName);
      return out;
    },
  };
}
