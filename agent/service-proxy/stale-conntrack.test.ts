import { describe, expect, it } from 'vitest';
import { conntrackArgs } from './conntrack.ts';
import { servicePortsOf } from './service-ports.ts';
import { staleConntrack } from './stale-conntrack.ts';
import { service, slice } from './testing/objects.ts';

const dns = service('dns', {
  type: 'NodePort',
  clusterIP: '10.96.0.10',
  externalIPs: ['192.168.77.100'],
  ports: [
    { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 },
    { name: 'dns-tcp', port: 53, protocol: 'TCP', nodePort: 30054 },
  ],
});
const ports = [
  { name: 'dns', port: 5353, protocol: 'UDP' as const },
  { name: 'dns-tcp', port: 5353, protocol: 'TCP' as const },
];
const at = (endpoints: string[]) =>
  servicePortsOf(dns, endpoints.length === 0 ? [] : [slice('dns', endpoints, ports)], {
    nodeName: 'node-1',
  });

// What `conntrack` is run with, one invocation a line.
const commands = (before: string[], after: string[]) =>
  staleConntrack(at(before), at(after)).map((f) => `conntrack ${conntrackArgs(f).join(' ')}`);

describe('stale UDP conntrack entries', () => {
  it('go for an endpoint that left: ClusterIP, external IP and NodePort, UDP only', () => {
    expect(commands(['10.244.2.3 node-2', '10.244.3.3 node-3'], ['10.244.3.3 node-3'])).toEqual([
      'conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --dst-nat 10.244.2.3',
      'conntrack -D -p udp --orig-dst 192.168.77.100 --orig-port-dst 53 --dst-nat 10.244.2.3',
      'conntrack -D -p udp --orig-port-dst 30053 --dst-nat 10.244.2.3',
    ]);
  });

  it('go for a Service that had no endpoints and has one now', () => {
    expect(commands([], ['10.244.3.3 node-3'])).toEqual([
      'conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 53',
      'conntrack -D -p udp --orig-dst 192.168.77.100 --orig-port-dst 53',
      'conntrack -D -p udp --orig-port-dst 30053',
    ]);
  });

  it('stay when nothing left, and for an endpoint that only became not ready then came back', () => {
    expect(commands(['10.244.3.3 node-3'], ['10.244.3.3 node-3', '10.244.2.3 node-2'])).toEqual([]);
    expect(commands(['10.244.3.3 node-3'], ['10.244.3.3 node-3'])).toEqual([]);
  });

  it('go for every endpoint of a deleted Service', () => {
    const gone = staleConntrack(at(['10.244.3.3 node-3']), []);
    expect(gone.map((f) => f.dstNat)).toEqual(['10.244.3.3', '10.244.3.3', '10.244.3.3']);
  });
});
