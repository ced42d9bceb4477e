import { describe, expect, it } from 'vitest';
import { checkCase, type ModelCase, parseYaml } from '../test-table.ts';
import { validateObject } from '../validate.ts';
import {
  type EndpointSlice,
  isEndpointReady,
  isEndpointServing,
  isEndpointTerminating,
  serviceNameOfSlice,
} from './endpoint-slice.ts';

const cases: ModelCase[] = [
  {
    name: 'a slice as the controller writes it; port protocol and name defaulted',
    yaml: `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
ports:
- port: 8080
- name: metrics
  port: 9090
  protocol: TCP
  appProtocol: http
endpoints:
- addresses: [10.244.1.5]
  conditions: {ready: true, serving: true, terminating: false}
  nodeName: node-1
  zone: zone-a
  hostname: web-0
  targetRef: {kind: Pod, namespace: default, name: web-0, uid: "1234"}
  hints:
    forZones: [{name: zone-a}]
`,
    accepted: {
      addressType: 'IPv4',
      ports: [
        { name: '', protocol: 'TCP', port: 8080 },
        { name: 'metrics', protocol: 'TCP', port: 9090, appProtocol: 'http' },
      ],
      endpoints: [
        {
          addresses: ['10.244.1.5'],
          conditions: { ready: true },
          nodeName: 'node-1',
          zone: 'zone-a',
        },
      ],
    },
  },
  {
    name: 'an IPv6 slice with no endpoints yet',
    yaml: `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-v6, labels: {kubernetes.io/service-name: web}}
addressType: IPv6
endpoints: []
`,
    accepted: { addressType: 'IPv6', endpoints: [] },
  },
  {
    name: 'an FQDN slice',
    yaml: `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ext}
addressType: FQDN
endpoints:
- addresses: [db.example.com]
`,
    accepted: { endpoints: [{ addresses: ['db.example.com'] }] },
  },
  {
    name: 'an IPv6 address in an IPv4 slice',
    yaml: `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web}
addressType: IPv4
endpoints:
- addresses: ["fd00::5"]
`,
    rejected: { path: 'endpoints[0].addresses[0]', message: 'must be a valid IPv4 address' },
  },
  {
    name: 'an endpoint without addresses',
    yaml: `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web}
addressType: IPv4
endpoints:
- addresses: []
`,
    rejected: { path: 'endpoints[0].addresses', message: 'must have at least 1 item' },
  },
  {
    name: 'no addressType',
    yaml: `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web}
endpoints: []
`,
    rejected: { path: 'addressType', message: 'Required value' },
  },
  {
    name: 'no endpoints list',
    yaml: `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web}
addressType: IPv4
`,
    rejected: { path: 'endpoints', message: 'Required value' },
  },
  {
    name: 'ready written as a string',
    yaml: `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web}
addressType: IPv4
endpoints:
- addresses: [10.0.0.1]
  conditions: {ready: "yes"}
`,
    rejected: {
      path: 'endpoints[0].conditions.ready',
      message: 'must be a boolean (true or false), not a string',
    },
  },
  {
    name: 'duplicate port names',
    yaml: `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web}
addressType: IPv4
endpoints: []
ports: [{name: http, port: 80}, {name: http, port: 81}]
`,
    rejected: { path: 'ports[1]', message: 'duplicate port name "http"' },
  },
  {
    name: 'the discovery v1beta1 version is no longer served',
    yaml: `
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata: {name: web}
addressType: IPv4
endpoints: []
`,
    code: 'PIER_MODEL_UNKNOWN_KIND',
    rejected: {
      path: 'apiVersion',
      message: 'EndpointSlice is not served as discovery.k8s.io/v1beta1; use discovery.k8s.io/v1',
    },
  },
];

function slice(yaml: string): EndpointSlice {
  const result = validateObject(parseYaml(yaml));
  if (!result.ok) throw result.error;
  return result.object as EndpointSlice;
}

describe('EndpointSlice', () => {
  it.each(cases)('$name', (c) => {
    checkCase(c);
  });

  it('links a slice to its Service by the service-name label', () => {
    const linked = slice(`
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-x, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: []
`);
    const orphan = slice(`
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-y}
addressType: IPv4
endpoints: []
`);
    expect(serviceNameOfSlice(linked)).toBe('web');
    expect(serviceNameOfSlice(orphan)).toBeUndefined();
  });

  it('reads unset conditions as Kubernetes consumers do', () => {
    const s = slice(`
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web}
addressType: IPv4
endpoints:
- addresses: [10.0.0.1]
- addresses: [10.0.0.2]
  conditions: {ready: false, serving: true, terminating: true}
- addresses: [10.0.0.3]
  conditions: {ready: false}
`);
    const [unset, draining, notReady] = s.endpoints;
    expect([unset, draining, notReady].map((e) => e && isEndpointReady(e))).toEqual([
      true,
      false,
      false,
    ]);
    expect([unset, draining, notReady].map((e) => e && isEndpointServing(e))).toEqual([
      true,
      true,
      false,
    ]);
    expect([unset, draining, notReady].map((e) => e && isEndpointTerminating(e))).toEqual([
      false,
      true,
      false,
    ]);
  });
});
