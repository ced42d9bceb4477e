// The service proxy on nftables. Record, then sync:
//
//   informer batch -> record the names of the Services it touches -> request()
//   runner (at most once per minSyncInterval) -> syncOnce():
//     check the kernel still has our last generation (else: full)
//     build: fragments of the recorded Services only (or all, for a full sync)
//     plan:  one nft script (incremental, or delete-and-recreate the table)
//     apply: one `nft -f` transaction; on failure nothing changed, retry full
//     conntrack: delete the UDP entries the change made stale
//
// Nothing is written before the informer has listed everything: an empty
// first sync would replace a working table (left by the previous agent) with
// an empty one. Stopping leaves the table in place: traffic keeps flowing
// while the agent restarts, until its first sync swaps the table atomically.

import { Kinds, kindKeyOf } from '../../src/model/object.ts';
import type { EndpointSlice, Service } from '../../src/model.ts';
import { createInformer, type Informer, type InformerBatch } from '../../src/store/informer.ts';
import type {
  ServiceProxy,
  ServiceProxyInfo,
  ServiceProxyPorts,
  ServiceProxySettings,
  SyncReport,
} from '../service-proxy.ts';
import { ProxyErrors } from './errors.ts';
import { buildRuleset, emptyRuleset, type ServiceChanges } from './nftables/build.ts';
import { DEFAULT_SHARDS, FAMILY, Names } from './nftables/layout.ts';
import type { LayoutOptions, Ruleset } from './nftables/model.ts';
import { markerText, plan } from './nftables/plan.ts';
import {
  type ServicePortInfo,
  serviceName,
  servicePortsByService,
  servicePortsOf,
  sliceServiceName,
} from './service-ports.ts';
import { staleConntrack } from './stale-conntrack.ts';
import { createSyncRunner } from './sync-runner.ts';

export function createNftablesProxier(
  settings: ServiceProxySettings,
  ports: ServiceProxyPorts,
): ServiceProxy {
  const { store, nftables, reader, conntrack, logger } = ports;
  const now = ports.now ?? Date.now;
  const netns = settings.netns === undefined ? {} : { netns: settings.netns };
  const options: LayoutOptions = {
    table: settings.table,
    masqueradeBit: settings.masqueradeBit,
    shards: settings.shards ?? DEFAULT_SHARDS,
    ...(settings.clusterCidr === undefined ? {} : { clusterCidr: settings.clusterCidr }),
  };
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(settings.table))
    throw ProxyErrors.BAD_SETTING('table', 'must be an nft name like pier_services');
  if (
    !Number.isInteger(settings.masqueradeBit) ||
    settings.masqueradeBit < 0 ||
    settings.masqueradeBit > 31
  )
    throw ProxyErrors.BAD_SETTING('masqueradeBit', 'must be an integer from 0 to 31');

  const informer: Informer = createInformer(store, {
    kinds: [Kinds.Service, Kinds.EndpointSlice],
    logger,
  });
  /** What the kernel holds, as far as we know; undefined: unknown (start, after a failure). */
  let current: Ruleset | undefined;
  let dirty = new Set<string>();
  let lastFull = Number.NEGATIVE_INFINITY;
  /** The marker the last full write left, and when it was last read back. */
  let writtenMarker: string | undefined;
  let lastCheck = Number.NEGATIVE_INFINITY;
  let checkNext = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;
  let fullReason: string | undefined = 'start';
  let syncs = 0;
  let fullSyncs = 0;
  let failedSyncs = 0;
  let lastSync: (SyncReport & { at: string }) | undefined;
  let reportedConflicts = new Map<string, string>();
  let unsubscribe: (() => void) | undefined;
  let started = false;

  /** The slices of each Service, kept from the informer's batches (a label lookup would scan them all). */
  const slicesOf = new Map<string, Map<string, EndpointSlice>>();
  const sliceKey = (slice: EndpointSlice) => slice.metadata.name;
  const forget = (slice: EndpointSlice) => {
    const name = sliceServiceName(slice);
    if (name === undefined) return;
    const slices = slicesOf.get(name);
    slices?.delete(sliceKey(slice));
    if (slices?.size === 0) slicesOf.delete(name);
  };
  const keep = (slice: EndpointSlice) => {
    const name = sliceServiceName(slice);
    if (name === undefined) return;
    let slices = slicesOf.get(name);
    if (slices === undefined) {
      slices = new Map();
      slicesOf.set(name, slices);
    }
    slices.set(sliceKey(slice), slice);
  };

  const record = (batch: InformerBatch) => {
    for (const change of batch.changes) {
      if (kindKeyOf(change.object) === Kinds.Service) {
        dirty.add(serviceName(change.object as Service));
        continue;
      }
      const slice = change.object as EndpointSlice;
      const previous = change.previous as EndpointSlice | undefined;
      if (previous !== undefined) forget(previous);
      if (change.type === 'deleted') forget(slice);
      else keep(slice);
      for (const s of [slice, previous]) {
        const name = s === undefined ? undefined : sliceServiceName(s);
        if (name !== undefined) dirty.add(name);
      }
    }
    if (dirty.size > 0) runner.request();
  };

  const portsOf = (name: string): ServicePortInfo[] | undefined => {
    const [namespace = '', serviceNameOnly = ''] = name.split('/');
    const service = informer.get<Service>({
      kind: Kinds.Service,
      namespace,
      name: serviceNameOnly,
    });
    if (service === undefined) return undefined;
    const slices = [...(slicesOf.get(name)?.values() ?? [])];
    return servicePortsOf(service, slices, { nodeName: settings.nodeName });
  };

  /** Whether the kernel still holds what we last wrote; the reason when not. */
  const kernelDrift = async (expected: string): Promise<string | undefined> => {
    const comments = await reader.chainComments(FAMILY, options.table, Names.generation, netns);
    if (comments === undefined) return 'the table or its marker chain is gone';
    if (comments.length !== 1 || comments[0] !== expected)
      return comments.length === 0 ? 'its rules were flushed' : `its marker says "${comments[0]}"`;
    return undefined;
  };

  const syncOnce = async () => {
    const started = now();
    const phases = { check: 0, build: 0, plan: 0, apply: 0, conntrack: 0 };
    let mark = started;
    const lap = (phase: keyof typeof phases) => {
      const t = now();
      phases[phase] = (t - mark) / 1000;
      mark = t;
    };
    let reason = fullReason;
    if (reason === undefined && now() - lastFull >= settings.fullSyncPeriodMs) reason = 'period';
    // Reading the marker makes nft load the whole table (0.4 s at 10k Services):
    // it is read once per syncPeriod and when asked (sync()), not before every
    // change. A deleted table fails the next incremental sync on its own.
    const due = checkNext || now() - lastCheck >= settings.syncPeriodMs;
    if (reason === undefined && writtenMarker !== undefined && due) {
      checkNext = false;
      lastCheck = now();
      const drift = await kernelDrift(writtenMarker);
      if (drift !== undefined) {
        logger.warn(
          { err: ProxyErrors.TABLE_CHANGED(options.table, drift), table: options.table },
          'service proxy table changed behind its back; writing it again',
        );
        reason = 'table changed';
      }
    }
    lap('check');
    const full = reason !== undefined || current === undefined;
    const taken = dirty;
    dirty = new Set();

    let desired: Ruleset;
    let changes: ServiceChanges;
    if (full) {
      changes = servicePortsByService(
        informer.list<Service>(Kinds.Service),
        informer.list<EndpointSlice>(Kinds.EndpointSlice),
        { nodeName: settings.nodeName },
      );
      desired = buildRuleset(
        { ...emptyRuleset(options), generation: current?.generation ?? 0 },
        changes,
      );
    } else {
      const some = new Map<string, ServicePortInfo[] | undefined>();
      for (const name of taken) some.set(name, portsOf(name));
      changes = some;
      desired = buildRuleset(current as Ruleset, changes);
    }
    lap('build');
    const result = plan(desired, full ? undefined : current);
    lap('plan');
    const report: SyncReport = {
      ok: false,
      full,
      seconds: 0,
      ...(reason === undefined ? {} : { reason }),
      services: result.stats.services,
      chainsAdded: result.stats.chainsAdded,
      chainsChanged: result.stats.chainsChanged,
      chainsRemoved: result.stats.chainsRemoved,
      elementsAdded: result.stats.elementsAdded,
      elementsRemoved: result.stats.elementsRemoved,
      conntrackDeleted: 0,
      phases,
    };
    try {
      await nftables.apply(result.script, netns);
      lap('apply');
    } catch (error) {
      // Nothing changed in the kernel: keep what we know, try again in full.
      for (const name of taken) dirty.add(name);
      fullReason = 'after a failure';
      failedSyncs++;
      report.seconds = (now() - started) / 1000;
      finish(report);
      throw ProxyErrors.SYNC_FAILED(options.table, (error as Error).message);
    }
    const before = current;
    current = desired;
    fullReason = undefined;
    failures = 0;
    if (full) {
      lastFull = now();
      lastCheck = now();
      writtenMarker = markerText(desired.generation);
      fullSyncs++;
    }
    syncs++;
    report.ok = true;
    report.conntrackDeleted = await flushStale(before, desired, full ? undefined : taken);
    lap('conntrack');
    report.seconds = (now() - started) / 1000;
    reportConflicts(desired);
    finish(report);
    const fields = { ...report, generation: desired.generation, table: options.table };
    if (full) logger.info(fields, 'service proxy synced (full)');
    else logger.debug(fields, 'service proxy synced');
  };

  const finish = (report: SyncReport) => {
    lastSync = { ...report, at: new Date(now()).toISOString() };
    ports.observeSync?.(report);
  };

  const flushStale = async (
    before: Ruleset | undefined,
    after: Ruleset,
    names: Set<string> | undefined,
  ): Promise<number> => {
    if (before === undefined) return 0;
    const filters = [];
    for (const name of names ?? new Set([...before.fragments.keys(), ...after.fragments.keys()])) {
      const a = before.fragments.get(name);
      const b = after.fragments.get(name);
      if (a === b) continue;
      filters.push(...staleConntrack(a?.ports ?? [], b?.ports ?? []));
    }
    let deleted = 0;
    for (const filter of filters) {
      try {
        deleted += await conntrack.delete(filter, netns);
      } catch (error) {
        logger.warn({ err: error, filter }, 'deleting stale conntrack entries failed');
      }
    }
    return deleted;
  };

  const reportConflicts = (ruleset: Ruleset) => {
    const next = new Map<string, string>();
    for (const [name, fragment] of ruleset.fragments) {
      if (fragment.conflicts.length === 0) continue;
      const claims = fragment.conflicts.join(', ');
      next.set(name, claims);
      if (reportedConflicts.get(name) !== claims)
        logger.warn({ err: ProxyErrors.PORT_CONFLICT(name, claims) }, 'Service port conflict');
    }
    reportedConflicts = next;
  };

  const runner = createSyncRunner({
    minIntervalMs: settings.minSyncIntervalMs,
    maxIntervalMs: settings.syncPeriodMs,
    run: syncOnce,
    onError: (error) => {
      // Back off while it keeps failing (nft missing, a kernel without nf_tables):
      // minSyncInterval doubled per failure, up to syncPeriod.
      failures++;
      const waitMs = Math.min(
        settings.syncPeriodMs,
        Math.max(settings.minSyncIntervalMs, 100) * 2 ** Math.min(failures - 1, 20),
      );
      logger.error({ err: error, retryInMs: waitMs }, 'service proxy sync failed; retrying');
      if (retry !== undefined) clearTimeout(retry);
      retry = setTimeout(() => {
        retry = undefined;
        runner.request();
      }, waitMs);
    },
  });

  return {
    async start() {
      if (started) return;
      started = true;
      unsubscribe = informer.subscribe(record);
      informer.start();
      await informer.waitForSync();
      dirty.clear();
      await runner.runNow();
    },
    async stop() {
      unsubscribe?.();
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      await runner.stop();
      await informer.stop();
    },
    sync() {
      checkNext = true;
      return runner.runNow();
    },
    ready: () => current !== undefined,
    info(): ServiceProxyInfo {
      let servicePorts = 0;
      let endpoints = 0;
      for (const fragment of current?.fragments.values() ?? []) {
        servicePorts += fragment.ports.length;
        for (const p of fragment.ports) endpoints += p.clusterEndpoints.length;
      }
      return {
        table: options.table,
        services: current?.fragments.size ?? 0,
        servicePorts,
        endpoints,
        generation: current?.generation ?? 0,
        syncs,
        fullSyncs,
        failedSyncs,
        ...(lastSync === undefined ? {} : { lastSync }),
        conflicts: [...reportedConflicts].map(([service, claims]) => ({
          service,
          claims: claims.split(', '),
        })),
      };
    },
  };
}
