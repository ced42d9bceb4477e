// The Kubernetes source: a live cluster's objects kept in the Store.
//
//   kubeconfig / pod service account -> http-api.ts (the one client-node import)
//   one reflector per kind (and namespace) -> reflector.ts: list, watch, resume, relist
//   record -> store-writer.ts: the latest state per object, written when it changed
//   one elected writer -> leader.ts: of the processes sharing a Store, only the
//                         lease holder lists, watches and writes; the others stand by
//                         and take over when its lease runs out
//
// The leader starts from a fresh list of every kind on each term, and each
// list is diffed against what the Store holds of this source, so a new
// leader, a relist after 410 Gone, or a Store that was written behind the
// source's back all end with the Store holding exactly the cluster's objects.
// Objects carry pier.dev/source: kubernetes; the source never touches others.
//
// Status back to the cluster: the leader also runs the status writer
// (status-writer.ts) over the publishers it was given (status-publisher.ts
// says why the seam is there), within the same term, so one process per
// cluster writes status and a deposed leader stops.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { isDns1123Label } from '../../model/fields.ts';
import { type KindKey, Kinds } from '../../model/object.ts';
import type { Logger } from '../../observe/logger.ts';
import type { Store } from '../../store.ts';
import { KubernetesErrors } from './errors.ts';
import type { HttpApiOptions } from './http-api.ts';
import type { KubernetesApi } from './kubernetes-api.ts';
import { createLeaderElector } from './leader.ts';
import {
  createReflector,
  type InstallReporter,
  type Reflector,
  type ReflectorStatus,
} from './reflector.ts';
import { type ApiResource, apiResourceOf, SOURCE_KINDS } from './resources.ts';
import type { StatusPublisher } from './status-publisher.ts';
import { createStatusWriter, type StatusWriter, type StatusWriterStats } from './status-writer.ts';
import {
  createStoreWriter,
  type Scope,
  type StoreWriter,
  type WriterStats,
} from './store-writer.ts';

/** The lease the source's processes elect their writer with. */
export const LEASE_NAME = 'kubernetes-source';

export interface KubernetesSourceOptions {
  store: Store;
  logger: Logger;
  /** A kubeconfig file; empty or omitted: the pod's service account in a pod, else $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
  /** Use the pod's service account whatever else is set. */
  inCluster?: boolean;
  /** The kubeconfig context; its current-context when omitted. */
  context?: string;
  /** The kinds to read; all of SOURCE_KINDS when omitted. */
  kinds?: readonly KindKey[];
  /** Only these namespaces (namespaced kinds, and these Namespace objects); all when empty. */
  namespaces?: readonly string[];
  /** Extra field selectors per kind: `{ Pod: 'spec.nodeName=node-1' }`. */
  fieldSelectors?: Readonly<Record<KindKey, string>>;
  /** This process in the election; host/pid/random by default. */
  identity?: string;
  /** Lease duration and renew period (ms). Defaults 15 000 and 2 000, as client-go's. */
  leaseMs?: number;
  renewMs?: number;
  /** Tuning, mostly for tests. */
  watchTimeoutSeconds?: number;
  notInstalledRetryMs?: number;
  pageSize?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** HTTP client tuning (request and watch-idle timeouts). */
  http?: Pick<HttpApiOptions, 'requestTimeoutMs' | 'watchIdleTimeoutMs'>;
  /** The API port; the HTTP client of the kubeconfig when omitted. */
  api?: KubernetesApi;
  /** What the leader writes to status subresources (none: no status is written). */
  statusPublishers?: readonly StatusPublisher[];
  /** Status writer tuning (tests): coalescing delay and backoff (ms). */
  statusDelayMs?: number;
  statusBackoff?: { initialMs?: number; maxMs?: number };
}

export type SourceRole = 'leader' | 'follower' | 'stopped';

export interface KubernetesSourceStatus {
  role: SourceRole;
  identity: string;
  /** The lease holder as last seen (`` when free). */
  holder?: string;
  server?: string;
  /** Leading, every kind listed once, and all of it written. */
  synced: boolean;
  resources: ReflectorStatus[];
  /** The current (or last) term's writes. */
  writes?: WriterStats;
  /** The current (or last) term's status writes, when publishers were given. */
  statusWrites?: StatusWriterStats;
}

export interface KubernetesSource {
  /** Creates the client (throws NO_CONFIG / BAD_CONFIG) and stands for election; does not wait to lead. */
  start(): Promise<void>;
  /** Stops reading; a leader waits for its last write and releases the lease. */
  close(): Promise<void>;
  status(): KubernetesSourceStatus;
  /** For readiness: standing by, or leading with every kind tried once and written. */
  ready(): boolean;
}

interface Plan {
  resource: ApiResource;
  scope: Scope;
  namespace?: string;
  fieldSelector?: string;
}

/** One reflector per kind, or per kind and namespace when namespaces are given. */
export function planReflectors(
  kinds: readonly KindKey[],
  namespaces: readonly string[],
  fieldSelectors: Readonly<Record<KindKey, string>> = {},
): Plan[] {
  const plans: Plan[] = [];
  for (const kind of kinds) {
    const resource = apiResourceOf(kind);
    if (resource === undefined) {
      throw KubernetesErrors.BAD_OPTION(
        'kinds',
        `${kind} is not a kind the source reads (it reads ${SOURCE_KINDS.join(', ')})`,
      );
    }
    const extra = fieldSelectors[kind];
    const withExtra = (selector?: string) =>
      [selector, extra].filter((s): s is string => s !== undefined && s !== '').join(',') ||
      undefined;
    if (namespaces.length > 0 && resource.namespaced) {
      for (const namespace of namespaces) {
        plans.push({
          resource,
          namespace,
          scope: { kind, namespace },
          fieldSelector: withExtra(),
        });
      }
    } else if (namespaces.length > 0 && kind === Kinds.Namespace) {
      for (const name of namespaces) {
        plans.push({
          resource,
          scope: { kind, name },
          fieldSelector: withExtra(`metadata.name=${name}`),
        });
      }
    } else {
      plans.push({ resource, scope: { kind }, fieldSelector: withExtra() });
    }
  }
  return plans;
}

function createInstallReporter(logger: Logger): InstallReporter {
  const reported = new Set<KindKey>();
  const pending = new Map<string, { kinds: string[]; tried: Set<string> }>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Kinds of one group usually go missing together (the Gateway API CRDs):
  // one line per group rather than eight.
  const flush = () => {
    timer = undefined;
    for (const [group, { kinds, tried }] of pending) {
      const error = KubernetesErrors.NOT_INSTALLED(
        kinds.join(', '),
        `${group === '' ? 'core' : group} ${[...tried].join(', ')}`,
      );
      logger.warn({ code: error.code, group, kinds }, error.message);
    }
    pending.clear();
  };
  return {
    missing(resource, tried) {
      if (reported.has(resource.kind)) return;
      reported.add(resource.kind);
      const entry = pending.get(resource.group) ?? { kinds: [], tried: new Set<string>() };
      entry.kinds.push(resource.kindName);
      for (const version of tried) entry.tried.add(version);
      pending.set(resource.group, entry);
      timer ??= setTimeout(flush, 200);
      timer.unref?.();
    },
    installed(resource, version) {
      if (!reported.delete(resource.kind)) return;
      logger.info(
        { kind: resource.kind, version },
        `${resource.kind} is served now (${version}); reading it`,
      );
    },
  };
}

export function createKubernetesSource(options: KubernetesSourceOptions): KubernetesSource {
  const { store } = options;
  const logger = options.logger;
  const kinds = options.kinds ?? SOURCE_KINDS;
  const namespaces = [...new Set(options.namespaces ?? [])];
  for (const namespace of namespaces) {
    if (!isDns1123Label(namespace)) {
      throw KubernetesErrors.BAD_OPTION(
        'namespaces',
        `${JSON.stringify(namespace)} is not a namespace name (a DNS label: a-z, 0-9, -)`,
      );
    }
  }
  const plans = planReflectors(kinds, namespaces, options.fieldSelectors);
  const identity = options.identity ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const leaseMs = options.leaseMs ?? 15_000;
  const renewMs = options.renewMs ?? 2_000;
  if (renewMs >= (leaseMs * 2) / 3) {
    throw KubernetesErrors.BAD_OPTION(
      'renewMs',
      `a renewal every ${renewMs} ms must come well within the ${leaseMs} ms lease: under two thirds of it (settings: kubernetes.renewSeconds under two thirds of kubernetes.leaseSeconds)`,
    );
  }
  const elector = createLeaderElector(store, {
    name: LEASE_NAME,
    identity,
    leaseMs,
    renewMs,
    logger,
  });
  const reporter = createInstallReporter(logger);

  let api: KubernetesApi | undefined;
  let ownsApi = false;
  let started = false;
  let closed = false;
  let term:
    | { writer: StoreWriter; reflectors: Reflector[]; statusWriter?: StatusWriter }
    | undefined;
  let lastWrites: WriterStats | undefined;
  let lastStatusWrites: StatusWriterStats | undefined;
  let termSynced = false;

  const lead = async (signal: AbortSignal) => {
    if (api === undefined) return;
    const writer = createStoreWriter({ store, logger, backoff: options.backoff });
    const reflectors = plans.map((plan) =>
      createReflector({
        api: api!,
        resource: plan.resource,
        namespace: plan.namespace,
        fieldSelector: plan.fieldSelector,
        sink: writer.scope(plan.scope),
        logger,
        reporter,
        pageSize: options.pageSize,
        watchTimeoutSeconds: options.watchTimeoutSeconds,
        notInstalledRetryMs: options.notInstalledRetryMs,
        backoff: options.backoff,
      }),
    );
    // Status only once every kind was tried and written: a half-loaded Store would show wrong status.
    const statusWriter =
      (options.statusPublishers ?? []).length > 0 && api.patchStatus !== undefined
        ? createStatusWriter({
            store,
            api,
            publishers: options.statusPublishers!,
            logger,
            ready: () => reflectors.every((r) => r.status().attempted) && writer.isIdle(),
            delayMs: options.statusDelayMs,
            backoff: options.statusBackoff,
          })
        : undefined;
    term = { writer, reflectors, statusWriter };
    termSynced = false;
    logger.info(
      {
        server: api.server,
        kinds: kinds.length,
        namespaces: namespaces.length === 0 ? 'all' : namespaces,
      },
      'leading: listing and watching the cluster into the Store',
    );
    try {
      await Promise.all([...reflectors.map((r) => r.run(signal)), statusWriter?.run(signal)]);
    } finally {
      await writer.close();
      lastWrites = writer.stats();
      lastStatusWrites = statusWriter?.stats();
      term = undefined;
    }
  };

  const status = (): KubernetesSourceStatus => {
    const role: SourceRole =
      !started || closed ? 'stopped' : elector.isLeader() ? 'leader' : 'follower';
    const current = term;
    const resources = current?.reflectors.map((r) => r.status()) ?? [];
    return {
      role,
      identity,
      holder: elector.holder(),
      server: api?.server,
      synced:
        role === 'leader' &&
        current !== undefined &&
        resources.every((r) => r.synced) &&
        current.writer.isIdle(),
      resources,
      writes: current?.writer.stats() ?? lastWrites,
      statusWrites: current?.statusWriter?.stats() ?? lastStatusWrites,
    };
  };

  return {
    async start() {
      if (started) return;
      if (options.api !== undefined) api = options.api;
      else {
        const { createHttpApi } = await import('./http-api.ts');
        api = await createHttpApi({
          kubeconfig: options.kubeconfig,
          inCluster: options.inCluster,
          context: options.context,
          ...options.http,
        });
        ownsApi = true;
      }
      started = true;
      elector.start({ onStartedLeading: lead });
      logger.info(
        { server: api.server, identity },
        'kubernetes source started; standing for election',
      );
    },

    async close() {
      if (closed) return;
      closed = true;
      await elector.stop();
      if (ownsApi) await api?.close();
    },

    status,

    ready() {
      const role = status().role;
      if (role === 'follower') return true;
      const current = term;
      if (role !== 'leader' || current === undefined) return false;
      // Latched per term: ready once every kind was tried (listed, found missing, or
      // failed: a 403 is for the logs, not a reason to take the process out) and
      // written; a busy writer later on is not unreadiness.
      if (!termSynced) {
        termSynced =
          current.reflectors.every((r) => r.status().attempted) && current.writer.isIdle();
      }
      return termSynced;
    },
  };
}
