// Service + EndpointSlices -> endpoints, as a table. Endpoints are written as
// `address [ready|!ready] [terminating] [serving|!serving] [zone=z]`; the
// expectation is the resulting `address:port` list and its source.

import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type EndpointSlice, type Service, validateObject } from '../../src/model.ts';
import {
  type EndpointLike,
  type EndpointSliceLike,
  endpointsFromSlices,
  type ServiceLike,
  type ServicePortLike,
} from './endpoints-from-slices.ts';

function service(
  ports: ServicePortLike[],
  spec: ServiceLike['spec'] = {},
  name = 'web',
): ServiceLike {
  return {
    metadata: { name, namespace: 'shop' },
    spec: { clusterIP: '10.96.0.10', ports, ...spec },
  };
}

function endpoint(text: string): EndpointLike {
  const [address, ...flags] = text.split(' ');
  const conditions: NonNullable<EndpointLike['conditions']> = {};
  const result: EndpointLike = { addresses: [address!], conditions };
  for (const flag of flags) {
    if (flag === 'ready') conditions.ready = true;
    else if (flag === '!ready') conditions.ready = false;
    else if (flag === 'serving') conditions.serving = true;
    else if (flag === '!serving') conditions.serving = false;
    else if (flag === 'terminating') conditions.terminating = true;
    else if (flag.startsWith('zone=')) result.zone = flag.slice(5);
    else throw new Error(`unknown flag ${flag}`);
  }
  return result;
}

function slice(
  ports: { name?: string; port: number; protocol?: string }[],
  endpoints: string[],
  extra: { service?: string; namespace?: string; addressType?: string } = {},
): EndpointSliceLike {
  return {
    metadata: {
      name: `${extra.service ?? 'web'}-x`,
      namespace: extra.namespace ?? 'shop',
      labels: { 'kubernetes.io/service-name': extra.service ?? 'web' },
    },
    addressType: extra.addressType ?? 'IPv4',
    ports,
    endpoints: endpoints.map(endpoint),
  };
}

const http = [{ name: 'http', port: 80 }];
const httpSlicePort = [{ name: 'http', port: 8080 }];

describe('endpointsFromSlices', () => {
  it.each([
    {
      case: 'ready endpoints on the target port, sorted',
      service: service(http),
      port: 80 as number | string,
      slices: [slice(httpSlicePort, ['10.0.0.2', '10.0.0.1 ready'])],
      expect: ['10.0.0.1:8080', '10.0.0.2:8080'],
      source: 'ready',
    },
    {
      case: 'the port by name',
      service: service(http),
      port: 'http',
      slices: [slice(httpSlicePort, ['10.0.0.1'])],
      expect: ['10.0.0.1:8080'],
      source: 'ready',
    },
    {
      case: 'not-ready endpoints are left out',
      service: service(http),
      port: 80,
      slices: [
        slice(httpSlicePort, ['10.0.0.1 !ready', '10.0.0.2', '10.0.0.3 !ready terminating']),
      ],
      expect: ['10.0.0.2:8080'],
      source: 'ready',
    },
    {
      case: 'serving-and-terminating ones only when none is ready',
      service: service(http),
      port: 80,
      slices: [
        slice(httpSlicePort, [
          '10.0.0.1 !ready serving terminating',
          '10.0.0.4 !ready terminating', // serving unset: defers to ready
          '10.0.0.2 !ready !serving terminating',
          '10.0.0.3 !ready',
        ]),
      ],
      expect: ['10.0.0.1:8080'],
      source: 'terminating',
    },
    {
      case: 'a named targetPort resolving differently per slice',
      service: service(http),
      port: 80,
      slices: [
        slice(httpSlicePort, ['10.0.0.1']),
        slice([{ name: 'http', port: 9090 }], ['10.0.0.2']),
      ],
      expect: ['10.0.0.1:8080', '10.0.0.2:9090'],
      source: 'ready',
    },
    {
      case: 'the slice port of the matching name among several',
      service: service([
        { name: 'http', port: 80 },
        { name: 'admin', port: 81 },
      ]),
      port: 81,
      slices: [
        slice(
          [
            { name: 'http', port: 8080 },
            { name: 'admin', port: 9901 },
          ],
          ['10.0.0.1'],
        ),
      ],
      expect: ['10.0.0.1:9901'],
      source: 'ready',
    },
    {
      case: 'an unnamed Service port matches the unnamed slice port',
      service: service([{ port: 80 }]),
      port: 80,
      slices: [slice([{ port: 3000 }], ['10.0.0.1'])],
      expect: ['10.0.0.1:3000'],
      source: 'ready',
    },
    {
      case: 'slices of other Services, namespaces, FQDN slices are ignored',
      service: service(http),
      port: 80,
      slices: [
        slice(httpSlicePort, ['10.0.0.1']),
        slice(httpSlicePort, ['10.0.0.9'], { service: 'api' }),
        slice(httpSlicePort, ['10.0.0.8'], { namespace: 'other' }),
        slice(httpSlicePort, ['db.example.com'], { addressType: 'FQDN' }),
      ],
      expect: ['10.0.0.1:8080'],
      source: 'ready',
    },
    {
      case: 'one endpoint in two slices counts once',
      service: service(http),
      port: 80,
      slices: [slice(httpSlicePort, ['10.0.0.1']), slice(httpSlicePort, ['10.0.0.1'])],
      expect: ['10.0.0.1:8080'],
      source: 'ready',
    },
    {
      case: 'IPv6 slices',
      service: service(http),
      port: 80,
      slices: [slice(httpSlicePort, ['fd00::2', 'fd00::1'], { addressType: 'IPv6' })],
      expect: ['fd00::1:8080', 'fd00::2:8080'],
      source: 'ready',
    },
    {
      case: 'no slices: empty, not an error (503 at request time)',
      service: service(http),
      port: 80,
      slices: [],
      expect: [],
      source: 'terminating',
    },
  ])('$case', ({ service: svc, port, slices, expect: expected, source }) => {
    const result = endpointsFromSlices(svc, port, slices);
    if (!result.ok) throw new Error(result.message);
    expect(result.endpoints.map((e) => `${e.address}:${e.port}`)).toEqual(expected);
    expect(result.source).toBe(source);
  });

  it('keeps zone and node of an endpoint', () => {
    const result = endpointsFromSlices(service(http), 80, [
      slice(httpSlicePort, ['10.0.0.1 zone=eu-1a']),
    ]);
    expect(result.ok && result.endpoints[0]).toMatchObject({
      address: '10.0.0.1',
      zone: 'eu-1a',
      ready: true,
    });
  });

  it.each([
    { case: 'no such port number', port: 81, reason: 'BackendNotFound', message: /no TCP port 81/ },
    { case: 'no such port name', port: 'grpc', reason: 'BackendNotFound', message: /named grpc/ },
  ])('fails: $case', ({ port, reason, message }) => {
    const result = endpointsFromSlices(service(http), port, []);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.message).toMatch(message);
    }
  });

  it('forwards to the ClusterIP on request', () => {
    const result = endpointsFromSlices(service(http), 80, [slice(httpSlicePort, ['10.0.0.1'])], {
      useClusterIP: true,
    });
    expect(result.ok && result.endpoints.map((e) => `${e.address}:${e.port}`)).toEqual([
      '10.96.0.10:80',
    ]);
    expect(result.ok && result.source).toBe('cluster-ip');
  });

  it('cannot forward to the ClusterIP of a headless Service', () => {
    const result = endpointsFromSlices(service(http, { clusterIP: 'None' }), 80, [], {
      useClusterIP: true,
    });
    expect(result).toMatchObject({ ok: false, reason: 'UnsupportedValue' });
  });

  it('resolves an ExternalName Service to its name', () => {
    const result = endpointsFromSlices(
      service([], { type: 'ExternalName', externalName: 'api.example.com' }),
      443,
      [],
    );
    expect(result).toMatchObject({
      ok: true,
      source: 'external-name',
      endpoints: [{ address: 'api.example.com', port: 443 }],
    });
  });

  it.each([
    { appProtocol: undefined, protocol: 'http1' },
    { appProtocol: 'http', protocol: 'http1' },
    { appProtocol: 'kubernetes.io/ws', protocol: 'http1' },
    { appProtocol: 'kubernetes.io/h2c', protocol: 'h2c' },
    { appProtocol: 'grpc', protocol: 'h2c' },
  ])('appProtocol $appProtocol -> $protocol', ({ appProtocol, protocol }) => {
    const port: ServicePortLike = { name: 'http', port: 80 };
    if (appProtocol !== undefined) port.appProtocol = appProtocol;
    const result = endpointsFromSlices(service([port]), 80, []);
    expect(result.ok && result.protocol).toBe(protocol);
  });

  it('reports sessionAffinity ClientIP', () => {
    const result = endpointsFromSlices(service(http, { sessionAffinity: 'ClientIP' }), 80, []);
    expect(result.ok && result.sessionAffinity).toBe('ClientIP');
  });
});

describe('endpointsFromSlices with the typed model', () => {
  it('takes validated Service and EndpointSlice objects as they are', () => {
    const validated = (yaml: string) => {
      const result = validateObject(parseYaml(yaml));
      if (!result.ok) throw result.error;
      return result.object;
    };
    const svc = validated(`
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  clusterIP: 10.96.0.10
  sessionAffinity: ClientIP
  ports: [{ name: http, port: 80, targetPort: web, appProtocol: kubernetes.io/h2c }]
`) as Service;
    const slice = validated(`
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: shop, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: 8080 }]
endpoints:
  - { addresses: [10.244.1.5], conditions: { ready: true }, zone: a }
  - { addresses: [10.244.1.6], conditions: { ready: false, serving: true, terminating: true } }
`) as EndpointSlice;
    const resolved = endpointsFromSlices(svc, 'http', [slice]);
    expect(resolved).toMatchObject({
      ok: true,
      source: 'ready',
      protocol: 'h2c',
      sessionAffinity: 'ClientIP',
      servicePort: 80,
      portName: 'http',
      endpoints: [{ address: '10.244.1.5', port: 8080, zone: 'a' }],
    });
  });
});
