// Kubernetes objects for DNS tests and the benchmark, written as the API
// server stores them (defaults filled in), so they pass validateObject.

import type { KubeObject } from '../../../src/model/object.ts';

export function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export interface ServiceSpec {
  clusterIPs?: string[];
  headless?: boolean;
  externalName?: string;
  ports?: { name?: string; port: number; protocol?: 'TCP' | 'UDP' }[];
  publishNotReadyAddresses?: boolean;
}

export function service(ns: string, name: string, spec: ServiceSpec): KubeObject {
  const ports = (spec.ports ?? []).map((p) => ({ protocol: 'TCP', targetPort: p.port, ...p }));
  const body: Record<string, unknown> = spec.externalName
    ? { type: 'ExternalName', externalName: spec.externalName, ports }
    : {
        type: 'ClusterIP',
        clusterIP: spec.headless ? 'None' : (spec.clusterIPs?.[0] ?? ''),
        clusterIPs: spec.headless ? ['None'] : (spec.clusterIPs ?? []),
        ports,
        ...(spec.publishNotReadyAddresses ? { publishNotReadyAddresses: true } : {}),
      };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: body,
  } as KubeObject;
}

export interface EndpointSpec {
  ip: string;
  hostname?: string;
  ready?: boolean;
}

export function endpointSlice(
  ns: string,
  name: string,
  service: string,
  endpoints: EndpointSpec[],
  ports: { name: string; port: number; protocol?: 'TCP' | 'UDP' }[] = [],
): KubeObject {
  const v6 = endpoints.some((e) => e.ip.includes(':'));
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
    addressType: v6 ? 'IPv6' : 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      ...(e.hostname ? { hostname: e.hostname } : {}),
      conditions: { ready: e.ready ?? true },
    })),
    ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
  } as KubeObject;
}

export function pod(
  ns: string,
  name: string,
  ips: string[],
  spec: { hostname?: string; subdomain?: string } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec,
    status: {
      phase: 'Running',
      podIP: ips[0],
      podIPs: ips.map((ip) => ({ ip })),
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  } as KubeObject;
}

/** The cluster the DNS integration tests ask about: one of each kind of name. */
export function testCluster(): KubeObject[] {
  return [
    namespace('bar'),
    namespace('quux'),
    service('bar', 'foo', {
      clusterIPs: ['10.96.0.10'],
      ports: [
        { name: 'http', port: 80 },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    }),
    service('bar', 'dual', {
      clusterIPs: ['10.96.0.20', 'fd00:96::20'],
      ports: [{ name: 'http', port: 80 }],
    }),
    service('bar', 'db', { headless: true, ports: [{ name: 'pg', port: 5432 }] }),
    endpointSlice(
      'bar',
      'db-1',
      'db',
      [{ ip: '10.0.1.5', hostname: 'db-0' }, { ip: '10.0.1.6' }, { ip: '10.0.1.7', ready: false }],
      [{ name: 'pg', port: 5432 }],
    ),
    service('bar', 'ext', { externalName: 'www.example.com' }),
    service('quux', 'web', { clusterIPs: ['10.96.1.1'], ports: [{ name: 'http', port: 80 }] }),
    pod('quux', 'client', ['10.0.3.3']),
  ];
}
