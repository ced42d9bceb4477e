// The upstreams of the current config: one Upstream (gateway/upstream.ts)
// per Service port a route sends to, kept across syncs so that pools,
// in-flight counts and outlier state survive every change that does not
// touch them.
//
// Each sync lists the backends the config wants; the registry resolves each
// to endpoints (endpointsFromSlices: ready ones, the terminating fallback,
// the ClusterIP when useClusterIP), updates the upstreams it has, makes the
// ones it lacks, and closes those no longer wanted: a closing upstream takes
// no new request and its pools close after their requests in flight.
//
// An upstream is keyed by Service port and balancing: a backend reached with
// session affinity (Service sessionAffinity ClientIP, or a route's
// sessionPersistence) gets a hashing balancer (maglev) and pools of its own,
// so that routes without affinity keep least-request.
//
// Backend TLS (the translator's BackendTLSPolicy table, lookup.backendTls)
// belongs to the Service port: its settings are part of the upstream, and a
// change of them gives it new pools. Over TLS, routes of a Gateway with a
// client certificate (spec.tls.backend) get pools of their own that present
// it; a port refused by its policy (no valid CA) gets no endpoint, and
// routing answers its requests with 500.

import type { EndpointSlice, Service } from '../../src/model.ts';
import type { BalancerKind } from '../balancer.ts';
import type { ServiceBackend } from '../router.ts';
import type { BackendTlsSetting } from '../translate/backend-tls.ts';
import type { ClientCertificate } from '../translate/client-certificates.ts';
import { endpointsFromSlices, SERVICE_NAME_LABEL } from '../upstream/endpoints-from-slices.ts';
import {
  createUpstream,
  type Upstream,
  type UpstreamOptions,
  type UpstreamTls,
} from '../upstream.ts';

export interface BackendWant {
  backend: ServiceBackend;
  /** A route asks for affinity (sessionPersistence). */
  persistent: boolean;
  /**
   * The client certificate of the Gateway the route is attached to (spec.tls.backend):
   * presented when the Service port speaks TLS, else of no use.
   */
  clientCertificate?: ClientCertificate | undefined;
}

export interface UpstreamLookup {
  service(namespace: string, name: string): Service | undefined;
  /** Every EndpointSlice the Store holds. */
  slices(): Iterable<EndpointSlice>;
  /** TLS to a Service port's endpoints (BackendTLSPolicy), or a refusal; undefined: plain TCP. */
  backendTls?(namespace: string, name: string, port: number): BackendTlsSetting | undefined;
}

export interface ResolvedUpstream {
  upstream: Upstream;
  /** The Service asks for ClientIP affinity. */
  clientIpAffinity: boolean;
  /** Endpoints set (ready, or the terminating fallback). */
  endpoints: number;
  /** Why there are none, when there are none. */
  problem: string | undefined;
  /** Set when the Service port's BackendTLSPolicy has no valid CA: its requests get 500, and this says why. */
  refused: string | undefined;
}

export interface UpstreamRegistryOptions {
  useClusterIP: boolean;
  /** Options every upstream gets (timeouts, outlier policy, a dispatcher factory in tests). */
  upstream?: Omit<UpstreamOptions, 'name' | 'protocol' | 'balancer'>;
  /** Called for each upstream closed by a sync, with the promise of its drain. */
  onClosed?: (name: string, drained: Promise<void>) => void;
}

export interface UpstreamRegistry {
  /** Resolves every wanted backend (see the header); returns them by want key. */
  sync(wants: Iterable<BackendWant>, lookup: UpstreamLookup): Map<string, ResolvedUpstream>;
  /**
   * The upstream a backend resolved to in the last sync; `clientCertificate`
   * (a ClientCertificate digest) picks the pools that present it, where the
   * Service port speaks TLS.
   */
  get(
    backend: ServiceBackend,
    persistent: boolean,
    clientCertificate?: string,
  ): ResolvedUpstream | undefined;
  /** [service, ejections] per upstream, for metrics. */
  ejections(): Iterable<[string, number]>;
  list(): ResolvedUpstream[];
  /** Closes every upstream after its requests in flight. */
  close(): Promise<void>;
}

export function wantKey(
  backend: ServiceBackend,
  persistent: boolean,
  clientCertificate?: string,
): string {
  const base = `${backend.namespace}/${backend.name}:${backend.port}${persistent ? '#persistent' : ''}`;
  return clientCertificate === undefined ? base : `${base}#client:${clientCertificate}`;
}

interface Entry extends ResolvedUpstream {
  key: string;
  protocol: string;
  balancer: BalancerKind;
  /** '' plain TCP, else the UpstreamTls key or 'refused'. */
  tlsKey: string;
}

export function createUpstreamRegistry(options: UpstreamRegistryOptions): UpstreamRegistry {
  let entries = new Map<string, Entry>();
  const draining = new Set<Promise<void>>();

  const retire = (entry: Entry) => {
    const drained = entry.upstream.close().catch(() => {});
    draining.add(drained);
    void drained.finally(() => draining.delete(drained));
    options.onClosed?.(entry.upstream.name, drained);
  };

  return {
    sync(wants, lookup) {
      // Slices by Service, once per sync.
      const slicesByService = new Map<string, EndpointSlice[]>();
      for (const slice of lookup.slices()) {
        const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
        if (service === undefined) continue;
        const key = `${slice.metadata.namespace ?? 'default'}/${service}`;
        let list = slicesByService.get(key);
        if (list === undefined) {
          list = [];
          slicesByService.set(key, list);
        }
        list.push(slice);
      }

      const next = new Map<string, Entry>();
      for (const want of wants) {
        const { namespace, name, port } = want.backend;
        const tlsSetting = lookup.backendTls?.(namespace, name, port);
        const policyTls =
          tlsSetting !== undefined && 'tls' in tlsSetting ? tlsSetting.tls : undefined;
        // A client certificate counts only over TLS: without it the want shares the plain pools.
        const client = policyTls === undefined ? undefined : want.clientCertificate;
        const key = wantKey(want.backend, want.persistent, client?.digest);
        if (next.has(key)) continue;
        const service = lookup.service(namespace, name);
        const resolved =
          service === undefined
            ? ({ ok: false, message: `Service ${namespace}/${name} does not exist` } as const)
            : endpointsFromSlices(
                service,
                port,
                slicesByService.get(`${namespace}/${name}`) ?? [],
                {
                  useClusterIP: options.useClusterIP,
                },
              );
        const clientIpAffinity = resolved.ok && resolved.sessionAffinity === 'ClientIP';
        const protocol = resolved.ok ? resolved.protocol : 'http1';
        const balancer: BalancerKind =
          want.persistent || clientIpAffinity ? 'maglev' : 'least-request';
        const tls: UpstreamTls | undefined =
          policyTls === undefined || client === undefined
            ? policyTls
            : {
                ...policyTls,
                clientCertificate: { cert: client.cert, key: client.key },
                key: `${policyTls.key}#client:${client.digest}`,
              };
        const refused =
          tlsSetting !== undefined && 'refused' in tlsSetting ? tlsSetting.refused : undefined;
        const tlsKey = tls?.key ?? (refused === undefined ? '' : 'refused');
        let entry = entries.get(key);
        if (
          entry !== undefined &&
          (entry.protocol !== protocol || entry.balancer !== balancer || entry.tlsKey !== tlsKey)
        ) {
          // appProtocol, affinity or backend TLS changed: new pools; the old ones drain.
          retire(entry);
          entries.delete(key);
          entry = undefined;
        }
        if (entry === undefined) {
          entry = {
            key,
            protocol,
            balancer,
            tlsKey,
            clientIpAffinity,
            endpoints: 0,
            problem: undefined,
            refused: undefined,
            upstream: createUpstream({
              ...options.upstream,
              name: `Service ${namespace}/${name}:${port}`,
              protocol,
              balancer,
              tls,
            }),
          };
        }
        // A refused port connects nowhere: no endpoint, and routing answers 500.
        const endpoints = resolved.ok && refused === undefined ? resolved.endpoints : [];
        entry.upstream.setEndpoints(endpoints);
        entry.clientIpAffinity = clientIpAffinity;
        entry.endpoints = endpoints.length;
        entry.refused = refused;
        entry.problem = !resolved.ok
          ? resolved.message
          : refused !== undefined
            ? refused
            : endpoints.length === 0
              ? `Service ${namespace}/${name} has no ready endpoint for port ${port}`
              : undefined;
        next.set(key, entry);
      }
      for (const [key, entry] of entries) if (!next.has(key)) retire(entry);
      entries = next;
      return new Map(entries);
    },
    get(backend, persistent, clientCertificate) {
      // Without TLS to the port, the client certificate's want shares the plain entry.
      return (
        (clientCertificate === undefined
          ? undefined
          : entries.get(wantKey(backend, persistent, clientCertificate))) ??
        entries.get(wantKey(backend, persistent))
      );
    },
    *ejections() {
      for (const entry of entries.values()) {
        let count = 0;
        for (const host of entry.upstream.status()) count += host.ejections;
        yield [`${entry.upstream.name.replace(/^Service /, '')}`, count];
      }
    },
    list() {
      return [...entries.values()];
    },
    async close() {
      for (const entry of entries.values()) retire(entry);
      entries = new Map();
      await Promise.all(draining);
    },
  };
}
