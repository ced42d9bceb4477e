// Record, then sync (convention 4): Store changes only record which zone
// fragments they affect (a Service, the Service an EndpointSlice or a
// pod's subdomain points at, a Pod, a Namespace); one rebuild, on the next
// turn of the event loop, recomputes just those fragments from the objects
// as they are now and tells the engine which names changed. Under steady
// churn rebuilds are at least `minIntervalMs` apart, so a change reaches
// answers in well under 100 ms. rebuildAll() recomputes every fragment and
// drops the ones whose objects are gone: the full, idempotent resync.

import {
  type KindKey,
  Kinds,
  type KubeObject,
  kindKeyOf,
  type ObjectRef,
} from '../../src/model/object.ts';
import {
  type EndpointSlice,
  type Namespace,
  type Pod,
  SERVICE_NAME_LABEL,
  type Service,
} from '../../src/model.ts';
import type { ListOptions } from '../../src/store.ts';
import type { DnsStats } from './stats.ts';
import {
  APEX_KEY,
  createZoneIndex,
  type Fragment,
  namespaceFragment,
  namespaceKey,
  podFragment,
  podKey,
  podSubdomainOf,
  serviceFragment,
  serviceKey,
  setFrom,
  type Zone,
  type ZoneIndex,
  type ZoneOptions,
} from './zone.ts';

/** The kinds the zone is built from. */
export const ZONE_KINDS: readonly KindKey[] = [
  Kinds.Service,
  Kinds.EndpointSlice,
  Kinds.Pod,
  Kinds.Namespace,
];

/** Synchronous reads of the last known objects: the informer, or a worker's mirror of it. */
export interface ObjectView {
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): T | undefined;
  list<T extends KubeObject = KubeObject>(kind: KindKey, options?: ListOptions): T[];
}

export interface ObjectChange {
  type: 'added' | 'modified' | 'deleted';
  object: KubeObject;
  previous?: KubeObject;
}

export interface ZoneSyncOptions {
  view: ObjectView;
  zone: ZoneOptions;
  /** After each rebuild: the names whose answers changed, or `all`. */
  changed: (names: Set<string> | 'all') => void;
  minIntervalMs: number;
  stats: DnsStats;
  /** Fragments left out (`svc/bar/foo: has no namespace`), when that list changes. */
  onProblems: (problems: string[]) => void;
}

export interface ZoneSync {
  /** The live zone. */
  readonly zone: Zone;
  /** Records changes; a rebuild follows. */
  record(changes: readonly ObjectChange[]): void;
  /** Marks everything for recomputation (after the view was replaced). */
  recordAll(): void;
  /** Runs the pending rebuild now (what the scheduled one runs). */
  flush(): void;
  close(): void;
}

export function createZoneSync(options: ZoneSyncOptions): ZoneSync {
  const { view } = options;
  const index: ZoneIndex = createZoneIndex(options.zone);
  const dirty = new Set<string>();
  let all = true;
  let lastBuild = 0;
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let lastProblems = '';

  const serviceOf = (key: string): Fragment => {
    const [, ns, name] = key.split('/') as [string, string, string];
    const svc = view.get<Service>({ kind: Kinds.Service, namespace: ns, name });
    if (svc === undefined) throw new Gone();
    const slices = view.list<EndpointSlice>(Kinds.EndpointSlice, {
      namespace: ns,
      labelSelector: { [SERVICE_NAME_LABEL]: name },
    });
    const pods =
      svc.spec?.clusterIP === 'None'
        ? view
            .list<Pod>(Kinds.Pod, { namespace: ns })
            .filter((p) => podSubdomainOf(p) === `${ns}/${name}`)
        : [];
    return serviceFragment(svc, slices, pods, options.zone);
  };
  const podOf = (key: string): Fragment => {
    const [, ns, name] = key.split('/') as [string, string, string];
    const pod =
      options.zone.pods === 'verified'
        ? view.get<Pod>({ kind: Kinds.Pod, namespace: ns, name })
        : undefined;
    if (pod === undefined) throw new Gone();
    return podFragment(pod, options.zone);
  };
  const namespaceOf = (key: string): Fragment => {
    const name = key.slice(3);
    if (view.get<Namespace>({ kind: Kinds.Namespace, name }) === undefined) throw new Gone();
    return namespaceFragment(name, options.zone);
  };

  const recompute = (key: string) => {
    const compute = key.startsWith('svc/')
      ? serviceOf
      : key.startsWith('pod/')
        ? podOf
        : key.startsWith('ns/')
          ? namespaceOf
          : undefined;
    if (compute === undefined) return;
    try {
      index.set(key, compute(key));
    } catch (error) {
      if (error instanceof Gone) index.set(key, undefined);
      else
        setFrom(index, key, () => {
          throw error;
        });
    }
  };

  const keysOf = (object: KubeObject): string[] => {
    const ns = object.metadata.namespace ?? '';
    const name = object.metadata.name;
    switch (kindKeyOf(object)) {
      case Kinds.Service:
        return [serviceKey(ns, name)];
      case Kinds.EndpointSlice: {
        const svc = object.metadata.labels?.[SERVICE_NAME_LABEL];
        return svc ? [serviceKey(ns, svc)] : [];
      }
      case Kinds.Pod: {
        const at = podSubdomainOf(object as Pod);
        return [podKey(ns, name), ...(at ? [`svc/${at}`] : [])];
      }
      case Kinds.Namespace:
        return [namespaceKey(name)];
      default:
        return [];
    }
  };

  const rebuild = () => {
    if (timer !== undefined) clearTimeout(timer);
    if (immediate !== undefined) clearImmediate(immediate);
    timer = undefined;
    immediate = undefined;
    const started = performance.now();
    if (all) {
      const wanted = new Set<string>([APEX_KEY]);
      for (const s of view.list<Service>(Kinds.Service))
        wanted.add(serviceKey(s.metadata.namespace ?? '', s.metadata.name));
      for (const n of view.list<Namespace>(Kinds.Namespace))
        wanted.add(namespaceKey(n.metadata.name));
      if (options.zone.pods === 'verified') {
        for (const p of view.list<Pod>(Kinds.Pod))
          wanted.add(podKey(p.metadata.namespace ?? '', p.metadata.name));
      }
      for (const key of [...index.keys()]) if (!wanted.has(key)) index.set(key, undefined);
      for (const key of wanted) recompute(key);
      index.takeTouched();
      options.changed('all');
    } else {
      for (const key of dirty) recompute(key);
      options.changed(index.takeTouched());
    }
    all = false;
    dirty.clear();
    lastBuild = performance.now();
    options.stats.recordRebuild(
      (lastBuild - started) / 1000,
      index.zone.nodes.size,
      index.zone.problems.size,
    );
    const problems = [...index.zone.problems].map(([key, why]) => `${key}: ${why}`);
    const text = problems.join('\n');
    if (text !== lastProblems && problems.length > 0) options.onProblems(problems);
    lastProblems = text;
  };

  const schedule = () => {
    if (timer !== undefined || immediate !== undefined) return;
    const wait = lastBuild + options.minIntervalMs - performance.now();
    if (wait <= 0) immediate = setImmediate(rebuild);
    else timer = setTimeout(rebuild, wait);
  };

  rebuild();

  return {
    zone: index.zone,
    record(changes) {
      for (const c of changes) {
        for (const key of keysOf(c.object)) dirty.add(key);
        if (c.previous) for (const key of keysOf(c.previous)) dirty.add(key);
      }
      if (dirty.size > 0) schedule();
    },
    recordAll() {
      all = true;
      schedule();
    },
    flush: rebuild,
    close() {
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      timer = undefined;
      immediate = undefined;
    },
  };
}

/** The fragment's object no longer exists: the fragment goes. */
class Gone extends Error {}
