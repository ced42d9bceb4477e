// A small cluster for the fake API server: one of every kind Pier reads, as
// kubectl would create them (core kinds at v1, the Gateway API at the
// versions a v1.2 experimental install serves), plus a Secret Pier must not
// read (not TLS). Tests copy these before changing them.

import type { FakeObject } from './fake-apiserver.ts';

const NS = 'shop';

export const CLUSTER_FIXTURES: readonly FakeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } },
    spec: { podCIDR: '10.244.1.0/24' },
    status: { addresses: [{ type: 'InternalIP', address: '192.168.50.11' }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: NS, name: 'web', labels: { app: 'web' } },
    spec: {
      selector: { app: 'web' },
      clusterIP: '10.96.0.20',
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
    },
  },
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: NS, name: 'web-abcde', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'node-1' }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: NS, name: 'web-1', labels: { app: 'web' } },
    spec: { nodeName: 'node-1', containers: [{ name: 'web', image: 'nginx' }] },
    status: { phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace: NS, name: 'web-tls' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' },
  },
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace: NS, name: 'db-password' },
    type: 'Opaque',
    data: { password: 'aHVudGVyMg==' },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: 'pier' },
    spec: { controllerName: 'pier.dev/gateway' },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { namespace: NS, name: 'edge' },
    spec: { gatewayClassName: 'pier', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { namespace: NS, name: 'web' },
    spec: {
      parentRefs: [{ name: 'edge' }],
      hostnames: ['shop.example.com'],
      rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
    },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { namespace: NS, name: 'from-edge' },
    spec: {
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'edge' }],
      to: [{ group: '', kind: 'Service' }],
    },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind: 'TCPRoute',
    metadata: { namespace: NS, name: 'db' },
    spec: {
      parentRefs: [{ name: 'edge' }],
      rules: [{ backendRefs: [{ name: 'db', port: 5432 }] }],
    },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'pier' },
    spec: { controller: 'pier.dev/ingress' },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { namespace: NS, name: 'web' },
    spec: {
      ingressClassName: 'pier',
      rules: [
        {
          host: 'shop.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'web', port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  },
];

/** The Store keys the fixtures should end up as (the Opaque Secret is not read). */
export const FIXTURE_KEYS: readonly string[] = [
  'Namespace shop',
  'Node node-1',
  'Service shop/web',
  'discovery.k8s.io/EndpointSlice shop/web-abcde',
  'Pod shop/web-1',
  'Secret shop/web-tls',
  'gateway.networking.k8s.io/GatewayClass pier',
  'gateway.networking.k8s.io/Gateway shop/edge',
  'gateway.networking.k8s.io/HTTPRoute shop/web',
  'gateway.networking.k8s.io/ReferenceGrant shop/from-edge',
  'gateway.networking.k8s.io/TCPRoute shop/db',
  'networking.k8s.io/IngressClass pier',
  'networking.k8s.io/Ingress shop/web',
].toSorted();
