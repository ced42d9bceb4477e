// What the proxy needs of one Service and its EndpointSlices, per Service
// port: the addresses it answers on, its policies, and the endpoints it may
// send each kind of traffic to. Pure: the same objects give the same answer.
//
// Endpoint choice follows kube-proxy (CategorizeEndpoints):
// - cluster endpoints: the ready ones; when none is ready, the ones that are
//   serving and terminating (a rolling update's last pods keep answering
//   rather than the Service going dark);
// - local endpoints: the same choice among the endpoints on this node
//   (`nodeName`), for the Local traffic policies;
// - an address:port listed by several slices counts once.
//
// IPv4 only, like the pod network: IPv6 cluster IPs and slices are skipped.

import {
  type EndpointSlice,
  isEndpointReady,
  isEndpointServing,
  isEndpointTerminating,
  isIPv4,
  resolveTargetPort,
  type Service,
  serviceClusterIPs,
  serviceNameOfSlice,
} from '../../src/model.ts';

export type L4Proto = 'tcp' | 'udp' | 'sctp';

export interface ProxyEndpoint {
  ip: string;
  port: number;
  /** On this node (the slice's nodeName is this node's name). */
  local: boolean;
  /** The slice did not say where it runs: it may be on this node (a hairpin candidate). */
  nodeUnknown: boolean;
}

export interface ServicePortInfo {
  /** `namespace/name/proto/port`: unique per Service port, and the name of its chains. */
  key: string;
  /** `namespace/name` */
  service: string;
  proto: L4Proto;
  port: number;
  /** The IPv4 cluster IP; undefined for a Service without one. */
  clusterIP?: string;
  /** externalIPs and load-balancer ingress IPs: traffic to them follows externalTrafficPolicy. */
  externalIPs: string[];
  nodePort?: number;
  /** sessionAffinity ClientIP: how long a client sticks to its endpoint. */
  affinitySeconds?: number;
  internalLocal: boolean;
  externalLocal: boolean;
  clusterEndpoints: ProxyEndpoint[];
  localEndpoints: ProxyEndpoint[];
}

export interface ServicePortsOptions {
  /** This node's name, compared with the endpoints' nodeName. */
  nodeName: string;
}

const PROTOS: Record<string, L4Proto> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/**
 * The proxied ports of a Service, in spec order. Headless and ExternalName
 * Services, and Services without an IPv4 address to answer on, have none.
 */
export function servicePortsOf(
  service: Service,
  slices: readonly EndpointSlice[],
  options: ServicePortsOptions,
): ServicePortInfo[] {
  const spec = service.spec;
  if (spec.type === 'ExternalName') return [];
  const clusterIP = serviceClusterIPs(service).find(isIPv4);
  const externalIPs = uniqueIPv4([
    ...(spec.externalIPs ?? []),
    ...(service.status?.loadBalancer?.ingress ?? [])
      .filter((i) => i.ipMode !== 'Proxy')
      .flatMap((i) => (i.ip === undefined ? [] : [i.ip])),
  ]).filter((ip) => ip !== clusterIP);
  const namespace = service.metadata.namespace ?? 'default';
  const name = `${namespace}/${service.metadata.name}`;
  const withNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  const affinitySeconds =
    spec.sessionAffinity === 'ClientIP'
      ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800)
      : undefined;
  const ipv4Slices = slices.filter((s) => s.addressType === 'IPv4');

  const out: ServicePortInfo[] = [];
  for (const servicePort of spec.ports ?? []) {
    const proto = PROTOS[servicePort.protocol];
    if (proto === undefined) continue;
    const nodePort = withNodePorts ? servicePort.nodePort : undefined;
    if (clusterIP === undefined && externalIPs.length === 0 && nodePort === undefined) continue;
    const all = endpointsOf(servicePort, ipv4Slices, options.nodeName);
    const info: ServicePortInfo = {
      key: `${name}/${proto}/${servicePort.port}`,
      service: name,
      proto,
      port: servicePort.port,
      externalIPs,
      internalLocal: spec.internalTrafficPolicy === 'Local',
      externalLocal: spec.externalTrafficPolicy === 'Local',
      clusterEndpoints: choose(all),
      localEndpoints: choose(all.filter((e) => e.endpoint.local)),
    };
    if (clusterIP !== undefined) info.clusterIP = clusterIP;
    if (nodePort !== undefined) info.nodePort = nodePort;
    if (affinitySeconds !== undefined) info.affinitySeconds = affinitySeconds;
    out.push(info);
  }
  return out;
}

interface Candidate {
  endpoint: ProxyEndpoint;
  ready: boolean;
  servingTerminating: boolean;
  /** Address and port as one number, for sorting. */
  order: number;
}

function endpointsOf(
  servicePort: NonNullable<Service['spec']['ports']>[number],
  slices: readonly EndpointSlice[],
  nodeName: string,
): Candidate[] {
  const byAddress = new Map<string, Candidate>();
  for (const slice of slices) {
    const port = resolveTargetPort(servicePort, slice);
    if (port === undefined) continue;
    for (const endpoint of slice.endpoints) {
      const ready = isEndpointReady(endpoint);
      const servingTerminating = isEndpointServing(endpoint) && isEndpointTerminating(endpoint);
      for (const ip of endpoint.addresses) {
        if (!isIPv4(ip)) continue;
        const id = `${ip}:${port}`;
        const seen = byAddress.get(id);
        // The same address in two slices: the more useful condition wins.
        if (seen !== undefined && (seen.ready || !ready)) continue;
        byAddress.set(id, {
          endpoint: {
            ip,
            port,
            local: endpoint.nodeName === nodeName,
            nodeUnknown: endpoint.nodeName === undefined,
          },
          ready,
          servingTerminating,
          order: ipNumber(ip) * 65536 + port,
        });
      }
    }
  }
  return [...byAddress.values()].sort((a, b) => a.order - b.order);
}

function choose(candidates: readonly Candidate[]): ProxyEndpoint[] {
  const ready = candidates.filter((c) => c.ready);
  const chosen = ready.length > 0 ? ready : candidates.filter((c) => c.servingTerminating);
  return chosen.map((c) => c.endpoint);
}

function uniqueIPv4(ips: readonly string[]): string[] {
  return [...new Set(ips.filter(isIPv4))];
}

function ipNumber(ip: string): number {
  let value = 0;
  let part = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      value = value * 256 + part;
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  return value * 256 + part;
}

/** `namespace/name` of a Service. */
export function serviceName(service: Service): string {
  return `${service.metadata.namespace ?? 'default'}/${service.metadata.name}`;
}

/** `namespace/name` of the Service a slice belongs to, or undefined for a slice of none. */
export function sliceServiceName(slice: EndpointSlice): string | undefined {
  const name = serviceNameOfSlice(slice);
  return name === undefined ? undefined : `${slice.metadata.namespace ?? 'default'}/${name}`;
}

/** Every Service's proxied ports, by `namespace/name`. */
export function servicePortsByService(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  options: ServicePortsOptions,
): Map<string, ServicePortInfo[]> {
  const slicesOf = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const name = sliceServiceName(s);
    if (name === undefined) continue;
    const list = slicesOf.get(name);
    if (list === undefined) slicesOf.set(name, [s]);
    else list.push(s);
  }
  const out = new Map<string, ServicePortInfo[]>();
  for (const service of services) {
    const name = serviceName(service);
    out.set(name, servicePortsOf(service, slicesOf.get(name) ?? [], options));
  }
  return out;
}
