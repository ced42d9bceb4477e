// Record, then sync (convention 4): Store changes only mark the zone dirty;
// one rebuild turns the objects as they are now into a new zone and hands
// it to the engine. The first change after a quiet spell is rebuilt on the
// next turn of the event loop (a burst of changes coalesces); under steady
// churn rebuilds are at least `minIntervalMs` apart. A rebuild of 10k
// Services takes tens of milliseconds (see load/results/dns.md), so a
// change is in answers well within 100 ms. A full rebuild from scratch is
// always what runs: there is no incremental state to drift.

import { type KindKey, Kinds, type KubeObject } from '../../src/model/object.ts';
import type { EndpointSlice, Namespace, Pod, Service } from '../../src/model.ts';
import type { DnsStats } from './stats.ts';
import { buildZone, type Zone, type ZoneOptions } from './zone.ts';

/** The kinds the zone is built from. */
export const ZONE_KINDS: readonly KindKey[] = [
  Kinds.Service,
  Kinds.EndpointSlice,
  Kinds.Pod,
  Kinds.Namespace,
];

/** Synchronous reads of the last known objects: the informer, or a worker's mirror of it. */
export interface ObjectView {
  list<T extends KubeObject = KubeObject>(kind: KindKey): T[];
}

export interface ZoneSyncOptions {
  view: ObjectView;
  zone: Omit<ZoneOptions, 'serial'>;
  apply: (zone: Zone) => void;
  minIntervalMs: number;
  stats: DnsStats;
  /** Objects left out of the zone, reported once per rebuild that finds them. */
  onProblems: (problems: string[]) => void;
}

export interface ZoneSync {
  /** Records that objects changed; a rebuild follows. */
  markDirty(): void;
  /** Rebuilds now (also what a scheduled rebuild runs) and returns the zone. */
  rebuild(): Zone;
  close(): void;
}

export function createZoneSync(options: ZoneSyncOptions): ZoneSync {
  // Serials only need to grow: seconds since the epoch at start, plus one per build.
  let serial = Math.floor(Date.now() / 1000);
  let lastBuild = 0;
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let lastProblems = '';

  const rebuild = (): Zone => {
    if (timer !== undefined) {
      clearTimeout(timer as NodeJS.Timeout);
      clearImmediate(timer as NodeJS.Immediate);
      timer = undefined;
    }
    const started = performance.now();
    const zone = buildZone(
      {
        services: options.view.list<Service>(Kinds.Service),
        endpointSlices: options.view.list<EndpointSlice>(Kinds.EndpointSlice),
        pods: options.view.list<Pod>(Kinds.Pod),
        namespaces: options.view.list<Namespace>(Kinds.Namespace),
      },
      { ...options.zone, serial: serial++ },
    );
    options.apply(zone);
    lastBuild = performance.now();
    options.stats.recordRebuild(
      (lastBuild - started) / 1000,
      zone.nodes.size,
      zone.problems.length,
    );
    const problems = zone.problems.join('\n');
    if (problems !== lastProblems && zone.problems.length > 0) options.onProblems(zone.problems);
    lastProblems = problems;
    return zone;
  };

  return {
    markDirty() {
      if (timer !== undefined) return;
      const wait = lastBuild + options.minIntervalMs - performance.now();
      timer = wait <= 0 ? setImmediate(rebuild) : setTimeout(rebuild, wait);
    },
    rebuild,
    close() {
      if (timer !== undefined) {
        clearTimeout(timer as NodeJS.Timeout);
        clearImmediate(timer as NodeJS.Immediate);
        timer = undefined;
      }
    },
  };
}
