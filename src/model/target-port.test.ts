import { describe, expect, it } from 'vitest';
import type { EndpointSlice } from './core/endpoint-slice.ts';
import type { Service } from './core/service.ts';
import { resolveTargetPort } from './target-port.ts';
import { parseYaml } from './test-table.ts';
import { validateObject } from './validate.ts';

function valid<T>(yaml: string): T {
  const result = validateObject(parseYaml(yaml));
  if (!result.ok) throw result.error;
  return result.object as T;
}

const service = valid<Service>(`
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: metrics, port: 9090, targetPort: 9091}
  - {name: dns, port: 53, protocol: UDP, targetPort: 5353}
`);

const sliceA = valid<EndpointSlice>(`
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-a, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}, {name: metrics, port: 9091}]
endpoints: [{addresses: [10.0.0.1]}]
`);

// Pods of another version name their port differently: the slice says where it is.
const sliceB = valid<EndpointSlice>(`
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-b, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8081}]
endpoints: [{addresses: [10.0.0.2]}]
`);

const handWritten = valid<EndpointSlice>(`
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-manual, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.3]}]
`);

// service port (name) | slice | endpoint port
const table: [string, EndpointSlice, number | undefined][] = [
  ['http', sliceA, 8080],
  ['http', sliceB, 8081],
  ['metrics', sliceA, 9091],
  ['metrics', sliceB, undefined], // slice B does not serve metrics
  ['dns', sliceA, undefined], // no UDP port in slice A
  ['metrics', handWritten, 9091], // no ports listed: a numeric targetPort as is
  ['http', handWritten, undefined], // ...but a named one cannot be resolved
];

describe('resolveTargetPort', () => {
  it.each(table)('%s in %#', (portName, slice, expected) => {
    const port = service.spec.ports.find((p) => p.name === portName);
    if (port === undefined) throw new Error(`no port ${portName}`);
    expect(resolveTargetPort(port, slice)).toBe(expected);
  });
});
