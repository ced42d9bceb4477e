// Service + EndpointSlices -> the endpoint set of one Service port: the pure
// half of point 3 (the upstream registry calls it on every recorded change).
//
// Rules, after the EndpointSlice API and kube-proxy:
// - The backendRef's port is the Service port (by number, or by name); each
//   slice carries the target port under the Service port's name (or '' when
//   the port has no name), and may differ between slices (a named targetPort
//   resolving to different numbers in different pods).
// - Only slices labelled kubernetes.io/service-name=<service> in its
//   namespace, of addressType IPv4 or IPv6 (FQDN slices are skipped).
// - Endpoints that are ready; when none is, those serving and terminating
//   (so a rolling update with every pod terminating still answers). A nil
//   ready or serving condition means true, a nil terminating means false.
// - The first address of an endpoint; duplicates (one endpoint in two slices
//   during an update) collapse to one.
// - ExternalName Services resolve to the external name; `useClusterIP`
//   sends to the ClusterIP and lets the node's service proxy balance.
// The result is sorted, so equal inputs give equal outputs and a caller can
// skip no-op updates.

import type { EndpointAddress, UpstreamProtocol } from '../upstream.ts';

// Plain shapes of the Kubernetes objects, as much as this reads of them, so
// that tests can write them by hand; the typed model's Service and
// EndpointSlice (src/model.ts, after validateObject) fit them as they are
// (the test file checks it with validated objects).

export interface ServicePortLike {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
  targetPort?: number | string;
}

export interface ServiceLike {
  metadata: { name: string; namespace?: string };
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalName?: string;
    ports?: ServicePortLike[];
    sessionAffinity?: string;
  };
}

export interface EndpointLike {
  addresses: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  zone?: string;
  nodeName?: string;
  hostname?: string;
}

export interface EndpointSliceLike {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  addressType: string;
  endpoints?: EndpointLike[] | null;
  ports?:
    | {
        name?: string | null;
        port?: number | null;
        protocol?: string | null;
        appProtocol?: string | null;
      }[]
    | null;
}

export interface ResolveOptions {
  /** Send to the Service's ClusterIP instead of the endpoints. */
  useClusterIP?: boolean;
}

export type EndpointSource = 'ready' | 'terminating' | 'cluster-ip' | 'external-name';

export type ResolvedEndpoints =
  | {
      ok: true;
      endpoints: EndpointAddress[];
      /** Which endpoints these are: ready ones, the terminating fallback, the ClusterIP, an external name. */
      source: EndpointSource;
      protocol: UpstreamProtocol;
      /** spec.sessionAffinity: ClientIP asks for a hashing balancer keyed by client IP. */
      sessionAffinity: 'None' | 'ClientIP';
      /** The Service port matched: its number and name. */
      servicePort: number;
      portName: string;
    }
  | { ok: false; reason: 'BackendNotFound' | 'UnsupportedValue'; message: string };

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** appProtocol values that mean HTTP/2 with prior knowledge. */
const H2C_APP_PROTOCOLS = new Set(['kubernetes.io/h2c', 'h2c', 'grpc']);

export function protocolOf(appProtocol: string | undefined | null): UpstreamProtocol {
  return appProtocol != null && H2C_APP_PROTOCOLS.has(appProtocol.toLowerCase()) ? 'h2c' : 'http1';
}

function compareEndpoints(a: EndpointAddress, b: EndpointAddress): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.port - b.port;
}

/**
 * The endpoints of `service`'s port `port` (number or name) from `slices`
 * (slices of other Services are ignored, so a caller may pass all it has).
 */
export function endpointsFromSlices(
  service: ServiceLike,
  port: number | string,
  slices: readonly EndpointSliceLike[],
  options: ResolveOptions = {},
): ResolvedEndpoints {
  const name = service.metadata.name;
  const namespace = service.metadata.namespace ?? 'default';
  const spec = service.spec ?? {};
  const ports = spec.ports ?? [];
  const servicePort =
    typeof port === 'number'
      ? ports.find((p) => p.port === port && (p.protocol ?? 'TCP') === 'TCP')
      : ports.find((p) => (p.name ?? '') === port && (p.protocol ?? 'TCP') === 'TCP');
  const affinity: 'None' | 'ClientIP' = spec.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None';

  if (spec.type === 'ExternalName') {
    const external = spec.externalName;
    if (external === undefined || external === '') {
      return {
        ok: false,
        reason: 'UnsupportedValue',
        message: `Service ${namespace}/${name} is ExternalName without spec.externalName`,
      };
    }
    if (typeof port !== 'number') {
      return {
        ok: false,
        reason: 'BackendNotFound',
        message: `ExternalName Service ${namespace}/${name} has no named port ${port}`,
      };
    }
    return {
      ok: true,
      endpoints: [{ address: external, port, ready: true, serving: true, terminating: false }],
      source: 'external-name',
      protocol: protocolOf(servicePort?.appProtocol),
      sessionAffinity: affinity,
      servicePort: port,
      portName: servicePort?.name ?? '',
    };
  }

  if (servicePort === undefined) {
    return {
      ok: false,
      reason: 'BackendNotFound',
      message: `Service ${namespace}/${name} has no TCP port ${typeof port === 'number' ? port : `named ${port}`}`,
    };
  }
  const portName = servicePort.name ?? '';
  const protocol = protocolOf(servicePort.appProtocol);
  const base = {
    ok: true as const,
    protocol,
    sessionAffinity: affinity,
    servicePort: servicePort.port,
    portName,
  };

  if (options.useClusterIP) {
    const clusterIP = spec.clusterIP;
    if (clusterIP === undefined || clusterIP === '' || clusterIP === 'None') {
      return {
        ok: false,
        reason: 'UnsupportedValue',
        message: `Service ${namespace}/${name} has no ClusterIP (headless) to forward to`,
      };
    }
    return {
      ...base,
      endpoints: [
        {
          address: clusterIP,
          port: servicePort.port,
          ready: true,
          serving: true,
          terminating: false,
        },
      ],
      source: 'cluster-ip',
    };
  }

  const ready: EndpointAddress[] = [];
  const fallback: EndpointAddress[] = [];
  const seen = new Set<string>();
  const seenFallback = new Set<string>();
  for (const slice of slices) {
    if ((slice.metadata.namespace ?? 'default') !== namespace) continue;
    if (slice.metadata.labels?.[SERVICE_NAME_LABEL] !== name) continue;
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const slicePort = (slice.ports ?? []).find(
      (p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP',
    );
    const target = slicePort?.port;
    if (target == null || !Number.isInteger(target) || target < 1 || target > 65535) continue;
    for (const endpoint of slice.endpoints ?? []) {
      const address = endpoint.addresses?.[0];
      if (address === undefined || address === '') continue;
      const c = endpoint.conditions ?? {};
      const isReady = c.ready ?? true;
      const isServing = c.serving ?? isReady;
      const isTerminating = c.terminating ?? false;
      const entry: EndpointAddress = {
        address,
        port: target,
        ready: isReady,
        serving: isServing,
        terminating: isTerminating,
      };
      if (endpoint.zone !== undefined) entry.zone = endpoint.zone;
      if (endpoint.nodeName !== undefined) entry.nodeName = endpoint.nodeName;
      const key = `${address} ${target}`;
      if (isReady) {
        if (!seen.has(key)) {
          seen.add(key);
          ready.push(entry);
        }
      } else if (isServing && isTerminating && !seenFallback.has(key)) {
        seenFallback.add(key);
        fallback.push(entry);
      }
    }
  }
  if (ready.length > 0)
    return { ...base, endpoints: ready.sort(compareEndpoints), source: 'ready' };
  return { ...base, endpoints: fallback.sort(compareEndpoints), source: 'terminating' };
}
