// What the proxy reads from a Service and its slices, in the cases the flow
// tables do not reach: Services it must leave alone, slices it must skip,
// ports named differently per slice.

import { describe, expect, it } from 'vitest';
import { parseObject, SERVICE_NAME_LABEL } from '../../src/model.ts';
import { servicePortsOf } from './service-ports.ts';
import { service, slice } from './testing/objects.ts';

const at = { nodeName: 'node-1' };
const brief = (ports: ReturnType<typeof servicePortsOf>) =>
  ports.map((p) => ({
    key: p.key,
    cluster: p.clusterEndpoints.map((e) => `${e.ip}:${e.port}${e.local ? ' local' : ''}`),
  }));

describe('servicePortsOf', () => {
  it('leaves headless, ExternalName and IPv6-only Services alone', () => {
    const ports = [{ port: 80 }];
    expect(servicePortsOf(service('h', { clusterIP: 'None', ports }), [], at)).toEqual([]);
    expect(
      servicePortsOf(
        service('x', { type: 'ExternalName', externalName: 'db.example.com' }),
        [],
        at,
      ),
    ).toEqual([]);
    expect(servicePortsOf(service('v6', { clusterIP: 'fd00::10', ports }), [], at)).toEqual([]);
  });

  it('resolves a named targetPort per slice, and counts an address twice listed once', () => {
    const svc = service('web', {
      clusterIP: '10.96.0.10',
      ports: [{ name: 'http', port: 80, targetPort: 'web' }],
    });
    const a = slice(
      'web',
      ['10.244.2.3 node-2', '10.244.1.4 node-1'],
      [{ name: 'http', port: 8080 }],
      'web-a',
    );
    const b = slice(
      'web',
      ['10.244.3.3 node-3', '10.244.2.3 node-2'],
      [{ name: 'http', port: 9090 }],
      'web-b',
    );
    const dup = slice(
      'web',
      ['10.244.2.3 node-2 notready'],
      [{ name: 'http', port: 8080 }],
      'web-c',
    );
    expect(brief(servicePortsOf(svc, [a, b, dup], at))).toEqual([
      {
        key: 'default/web/tcp/80',
        cluster: ['10.244.1.4:8080 local', '10.244.2.3:8080', '10.244.2.3:9090', '10.244.3.3:9090'],
      },
    ]);
  });

  it('skips slices that are not IPv4, and endpoints of a port the slice does not list', () => {
    const svc = service('dns', {
      clusterIP: '10.96.0.53',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'metrics', port: 9153 },
      ],
    });
    const v4 = slice('dns', ['10.244.2.3 node-2'], [{ name: 'dns', port: 53, protocol: 'UDP' }]);
    const fqdn = parseObject({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'default', name: 'dns-fqdn', labels: { [SERVICE_NAME_LABEL]: 'dns' } },
      addressType: 'FQDN',
      endpoints: [{ addresses: ['dns.example.com'] }],
      ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
    }) as ReturnType<typeof slice>;
    expect(brief(servicePortsOf(svc, [v4, fqdn], at))).toEqual([
      { key: 'default/dns/udp/53', cluster: ['10.244.2.3:53'] },
      { key: 'default/dns/tcp/9153', cluster: [] },
    ]);
  });

  it('takes load-balancer IPs unless they are proxied (ipMode Proxy), and policies and affinity', () => {
    const svc = service(
      'lb',
      {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.20',
        externalIPs: ['192.168.77.100'],
        externalTrafficPolicy: 'Local',
        sessionAffinity: 'ClientIP',
        ports: [{ port: 443, nodePort: 30443 }],
      },
      {
        loadBalancer: {
          ingress: [
            { ip: '192.168.77.200' },
            { ip: '192.168.77.201', ipMode: 'Proxy' },
            { hostname: 'lb.example.com' },
          ],
        },
      },
    );
    expect(servicePortsOf(svc, [], at)).toMatchObject([
      {
        key: 'default/lb/tcp/443',
        clusterIP: '10.96.0.20',
        externalIPs: ['192.168.77.100', '192.168.77.200'],
        nodePort: 30443,
        externalLocal: true,
        internalLocal: false,
        affinitySeconds: 10800,
      },
    ]);
  });

  it('marks endpoints without a node as possibly local (hairpin candidates)', () => {
    const svc = service('web', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] });
    const [port] = servicePortsOf(svc, [slice('web', ['10.244.2.3'], [{ port: 80 }])], at);
    expect(port?.clusterEndpoints).toEqual([
      { ip: '10.244.2.3', port: 80, local: false, nodeUnknown: true },
    ]);
    expect(port?.localEndpoints).toEqual([]);
  });
});
