// The Kubernetes DNS specification as a table: a question, and the answer in
// zone-file lines (convention 7). The zone comes from the objects below.

import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Namespace, Pod, Service } from '../../src/model.ts';
import { resolve } from './resolve.ts';
import { typeNumber } from './wire.ts';
import { buildZone, type PodRecords, type ZoneObjects } from './zone.ts';
import { formatRecord } from './zone-file.ts';

const svc = (ns: string, name: string, spec: Record<string, unknown>) =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec,
  }) as unknown as Service;
const slice = (ns: string, name: string, service: string, body: Record<string, unknown>) =>
  ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
    ...body,
  }) as unknown as EndpointSlice;
const namespace = (name: string) =>
  ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }) as unknown as Namespace;
const pod = (
  ns: string,
  name: string,
  spec: Record<string, unknown>,
  ips: string[],
  ready = true,
) =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec,
    status: {
      phase: 'Running',
      podIPs: ips.map((ip) => ({ ip })),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  }) as unknown as Pod;

const objects: ZoneObjects = {
  namespaces: [namespace('bar'), namespace('quux'), namespace('empty')],
  services: [
    svc('bar', 'foo', {
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      ports: [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    }),
    svc('bar', 'dual', {
      type: 'ClusterIP',
      clusterIP: '10.96.0.20',
      clusterIPs: ['10.96.0.20', 'fd00:96::20'],
      ports: [{ port: 80, protocol: 'TCP' }],
    }),
    svc('bar', 'db', {
      type: 'ClusterIP',
      clusterIP: 'None',
      clusterIPs: ['None'],
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    }),
    svc('bar', 'web', {
      type: 'ClusterIP',
      clusterIP: 'None',
      clusterIPs: ['None'],
      publishNotReadyAddresses: true,
    }),
    svc('bar', 'ext', { type: 'ExternalName', externalName: 'db.example.com', ports: [] }),
    svc('bar', 'alias', { type: 'ExternalName', externalName: 'foo.bar.svc.cluster.local.' }),
    svc('bar', 'lost', { type: 'ExternalName', externalName: 'nope.bar.svc.cluster.local' }),
  ],
  endpointSlices: [
    slice('bar', 'db-abc', 'db', {
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.0.1.5'], hostname: 'db-0', conditions: { ready: true } },
        { addresses: ['10.0.1.6'], conditions: {} },
        { addresses: ['10.0.1.7'], hostname: 'db-2', conditions: { ready: false } },
      ],
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    }),
    slice('bar', 'db-v6', 'db', {
      addressType: 'IPv6',
      endpoints: [{ addresses: ['fd00:1::5'], hostname: 'db-0' }],
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    }),
    slice('bar', 'web-1', 'web', {
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.2.9'], conditions: { ready: false } }],
      ports: [],
    }),
  ],
  pods: [
    pod('bar', 'db-0', { hostname: 'db-0', subdomain: 'db' }, ['10.0.1.5']),
    pod('bar', 'solo', { hostname: 'solo', subdomain: 'db' }, ['10.0.1.9']),
    pod('bar', 'sleepy', { hostname: 'sleepy', subdomain: 'db' }, ['10.0.1.10'], false),
    pod('quux', 'client', {}, ['10.0.3.3', 'fd00:3::3']),
  ],
};

const zoneWith = (pods: PodRecords) =>
  buildZone(objects, {
    domain: 'cluster.local',
    ttl: 5,
    pods,
    serial: 42,
    nameservers: ['10.96.0.53'],
  });

const SOA =
  'cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 42 7200 1800 86400 5';

interface Case {
  q: string;
  rcode?: 'NOERROR' | 'NXDOMAIN';
  answer?: string[];
  authority?: string[];
  additional?: string[];
  chase?: string;
  /** undefined answer: the name is not the zone's (the forwarder's). */
  notOurs?: true;
  pods?: PodRecords;
}

const cases: Case[] = [
  // Schema version and the apex.
  { q: 'dns-version.cluster.local. TXT', answer: ['dns-version.cluster.local. 5 IN TXT "1.1.0"'] },
  { q: 'cluster.local. SOA', answer: [SOA] },
  {
    q: 'cluster.local. NS',
    answer: ['cluster.local. 5 IN NS ns.dns.cluster.local.'],
    additional: ['ns.dns.cluster.local. 5 IN A 10.96.0.53'],
  },
  // ClusterIP Service.
  { q: 'foo.bar.svc.cluster.local. A', answer: ['foo.bar.svc.cluster.local. 5 IN A 10.96.0.10'] },
  { q: 'foo.bar.svc.cluster.local. AAAA', authority: [SOA] },
  { q: 'foo.bar.svc.cluster.local. TXT', authority: [SOA] },
  {
    q: '_http._tcp.foo.bar.svc.cluster.local. SRV',
    answer: ['_http._tcp.foo.bar.svc.cluster.local. 5 IN SRV 0 100 80 foo.bar.svc.cluster.local.'],
    additional: ['foo.bar.svc.cluster.local. 5 IN A 10.96.0.10'],
  },
  {
    q: '_dns._udp.foo.bar.svc.cluster.local. SRV',
    answer: ['_dns._udp.foo.bar.svc.cluster.local. 5 IN SRV 0 100 53 foo.bar.svc.cluster.local.'],
    additional: ['foo.bar.svc.cluster.local. 5 IN A 10.96.0.10'],
  },
  { q: '_dns._tcp.foo.bar.svc.cluster.local. SRV', rcode: 'NXDOMAIN', authority: [SOA] },
  { q: '_tcp.foo.bar.svc.cluster.local. SRV', authority: [SOA] },
  {
    q: '10.0.96.10.in-addr.arpa. PTR',
    answer: ['10.0.96.10.in-addr.arpa. 5 IN PTR foo.bar.svc.cluster.local.'],
  },
  // Dual-stack.
  { q: 'dual.bar.svc.cluster.local. A', answer: ['dual.bar.svc.cluster.local. 5 IN A 10.96.0.20'] },
  {
    q: 'dual.bar.svc.cluster.local. AAAA',
    answer: ['dual.bar.svc.cluster.local. 5 IN AAAA fd00:96::20'],
  },
  {
    q: '0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa. PTR',
    answer: [
      '0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa. 5 IN PTR dual.bar.svc.cluster.local.',
    ],
  },
  // Headless: one record per ready endpoint, hostnames, SRV per endpoint.
  {
    q: 'db.bar.svc.cluster.local. A',
    answer: [
      'db.bar.svc.cluster.local. 5 IN A 10.0.1.5',
      'db.bar.svc.cluster.local. 5 IN A 10.0.1.6',
    ],
  },
  {
    q: 'db.bar.svc.cluster.local. AAAA',
    answer: ['db.bar.svc.cluster.local. 5 IN AAAA fd00:1::5'],
  },
  {
    q: 'db-0.db.bar.svc.cluster.local. A',
    answer: ['db-0.db.bar.svc.cluster.local. 5 IN A 10.0.1.5'],
  },
  {
    q: 'db-0.db.bar.svc.cluster.local. AAAA',
    answer: ['db-0.db.bar.svc.cluster.local. 5 IN AAAA fd00:1::5'],
  },
  {
    q: '10-0-1-6.db.bar.svc.cluster.local. A',
    answer: ['10-0-1-6.db.bar.svc.cluster.local. 5 IN A 10.0.1.6'],
  },
  { q: 'db-2.db.bar.svc.cluster.local. A', rcode: 'NXDOMAIN', authority: [SOA] },
  {
    q: '_pg._tcp.db.bar.svc.cluster.local. SRV',
    answer: [
      // db-0 is one dual-stack endpoint: one SRV, both addresses in the additional section.
      '_pg._tcp.db.bar.svc.cluster.local. 5 IN SRV 0 50 5432 db-0.db.bar.svc.cluster.local.',
      '_pg._tcp.db.bar.svc.cluster.local. 5 IN SRV 0 50 5432 10-0-1-6.db.bar.svc.cluster.local.',
    ],
    additional: [
      'db-0.db.bar.svc.cluster.local. 5 IN A 10.0.1.5',
      'db-0.db.bar.svc.cluster.local. 5 IN AAAA fd00:1::5',
      '10-0-1-6.db.bar.svc.cluster.local. 5 IN A 10.0.1.6',
    ],
  },
  {
    q: '5.1.0.10.in-addr.arpa. PTR',
    answer: ['5.1.0.10.in-addr.arpa. 5 IN PTR db-0.db.bar.svc.cluster.local.'],
  },
  // Pods' hostname.subdomain: ready pods only (solo), not sleepy.
  {
    q: 'solo.db.bar.svc.cluster.local. A',
    answer: ['solo.db.bar.svc.cluster.local. 5 IN A 10.0.1.9'],
  },
  { q: 'sleepy.db.bar.svc.cluster.local. A', rcode: 'NXDOMAIN', authority: [SOA] },
  // publishNotReadyAddresses, and a headless Service without ports.
  { q: 'web.bar.svc.cluster.local. A', answer: ['web.bar.svc.cluster.local. 5 IN A 10.0.2.9'] },
  // ExternalName: a CNAME; outside targets are chased by the caller, inside ones here.
  {
    q: 'ext.bar.svc.cluster.local. A',
    answer: ['ext.bar.svc.cluster.local. 5 IN CNAME db.example.com.'],
    chase: 'db.example.com.',
  },
  {
    q: 'ext.bar.svc.cluster.local. CNAME',
    answer: ['ext.bar.svc.cluster.local. 5 IN CNAME db.example.com.'],
  },
  {
    q: 'alias.bar.svc.cluster.local. A',
    answer: [
      'alias.bar.svc.cluster.local. 5 IN CNAME foo.bar.svc.cluster.local.',
      'foo.bar.svc.cluster.local. 5 IN A 10.96.0.10',
    ],
  },
  {
    q: 'lost.bar.svc.cluster.local. A',
    rcode: 'NXDOMAIN',
    answer: ['lost.bar.svc.cluster.local. 5 IN CNAME nope.bar.svc.cluster.local.'],
    authority: [SOA],
  },
  // Negative answers: empty non-terminals are NODATA, the rest NXDOMAIN.
  { q: 'svc.cluster.local. A', authority: [SOA] },
  { q: 'bar.svc.cluster.local. A', authority: [SOA] },
  { q: 'empty.svc.cluster.local. A', authority: [SOA] },
  { q: 'nope.svc.cluster.local. A', rcode: 'NXDOMAIN', authority: [SOA] },
  { q: 'nope.bar.svc.cluster.local. A', rcode: 'NXDOMAIN', authority: [SOA] },
  { q: 'foo.bar.cluster.local. A', rcode: 'NXDOMAIN', authority: [SOA] },
  { q: 'www.example.com.bar.svc.cluster.local. A', rcode: 'NXDOMAIN', authority: [SOA] },
  // Pod records: off by default...
  { q: '10-0-3-3.quux.pod.cluster.local. A', rcode: 'NXDOMAIN', authority: [SOA] },
  { q: 'pod.cluster.local. A', rcode: 'NXDOMAIN', authority: [SOA] },
  // ...verified: only existing pods in that namespace...
  {
    q: '10-0-3-3.quux.pod.cluster.local. A',
    answer: ['10-0-3-3.quux.pod.cluster.local. 5 IN A 10.0.3.3'],
    pods: 'verified',
  },
  {
    q: 'fd00-3--3.quux.pod.cluster.local. AAAA',
    answer: ['fd00-3--3.quux.pod.cluster.local. 5 IN AAAA fd00:3::3'],
    pods: 'verified',
  },
  { q: '10-0-3-3.bar.pod.cluster.local. A', rcode: 'NXDOMAIN', authority: [SOA], pods: 'verified' },
  { q: 'quux.pod.cluster.local. A', authority: [SOA], pods: 'verified' },
  // ...insecure: any address, any namespace.
  {
    q: '1-2-3-4.anywhere.pod.cluster.local. A',
    answer: ['1-2-3-4.anywhere.pod.cluster.local. 5 IN A 1.2.3.4'],
    pods: 'insecure',
  },
  { q: '1-2-3-4.anywhere.pod.cluster.local. AAAA', authority: [SOA], pods: 'insecure' },
  { q: 'anywhere.pod.cluster.local. A', authority: [SOA], pods: 'insecure' },
  {
    q: '1-2-3.anywhere.pod.cluster.local. A',
    rcode: 'NXDOMAIN',
    authority: [SOA],
    pods: 'insecure',
  },
  // Not the zone's: left to the forwarder.
  { q: 'example.com. A', notOurs: true },
  { q: '1.1.168.192.in-addr.arpa. PTR', notOurs: true },
  { q: 'local. SOA', notOurs: true },
];

describe('resolve (Kubernetes DNS schema 1.1.0)', () => {
  const zones = {
    disabled: zoneWith('disabled'),
    insecure: zoneWith('insecure'),
    verified: zoneWith('verified'),
  };
  it('builds the zone from every object', () => {
    expect(zones.disabled.problems).toEqual(new Map());
  });
  for (const c of cases) {
    it(`${c.q}${c.pods ? ` (pods ${c.pods})` : ''}`, () => {
      const [name, type] = c.q.split(' ');
      const result = resolve(
        { name: name!, type: typeNumber(type!)! },
        zones[c.pods ?? 'disabled'],
      );
      if (c.notOurs) {
        expect(result).toBeUndefined();
        return;
      }
      expect(result).toBeDefined();
      expect({
        rcode: result!.rcode === 0 ? 'NOERROR' : result!.rcode === 3 ? 'NXDOMAIN' : result!.rcode,
        answer: result!.answer.map(formatRecord),
        authority: result!.authority.map(formatRecord),
        additional: result!.additional.map(formatRecord),
        chase: result!.chase,
      }).toEqual({
        rcode: c.rcode ?? 'NOERROR',
        answer: c.answer ?? [],
        authority: c.authority ?? [],
        additional: c.additional ?? [],
        chase: c.chase,
      });
    });
  }

  it('reports an unreadable object and keeps the rest', () => {
    const zone = buildZone(
      {
        ...objects,
        services: [...objects.services, { metadata: { name: 'broken' } } as unknown as Service],
      },
      { domain: 'cluster.local', ttl: 5, pods: 'disabled', serial: 1, nameservers: [] },
    );
    expect([...zone.problems]).toEqual([['svc//broken', 'has no namespace']]);
    expect(zone.nodes.has('foo.bar.svc.cluster.local.')).toBe(true);
  });

  it('serves a configured domain and TTL', () => {
    const zone = buildZone(objects, {
      domain: 'Corp.Example.',
      ttl: 30,
      pods: 'disabled',
      serial: 1,
      nameservers: [],
    });
    const r = resolve({ name: 'foo.bar.svc.corp.example.', type: 1 }, zone);
    expect(r?.answer.map(formatRecord)).toEqual(['foo.bar.svc.corp.example. 30 IN A 10.96.0.10']);
    expect(resolve({ name: 'foo.bar.svc.cluster.local.', type: 1 }, zone)).toBeUndefined();
  });
});
