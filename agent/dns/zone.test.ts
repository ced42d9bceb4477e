// The zone index: swapping fragments one at a time ends in the same zone as
// building from scratch, reports exactly the names whose answers changed,
// and leaves nothing behind when everything is removed.

import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '../../src/model.ts';
import {
  buildZone,
  createZoneIndex,
  namespaceFragment,
  serviceFragment,
  serviceKey,
  type Zone,
  type ZoneOptions,
} from './zone.ts';
import { formatRecord } from './zone-file.ts';

const options: ZoneOptions = {
  domain: 'cluster.local',
  ttl: 5,
  pods: 'disabled',
  serial: 1,
  nameservers: [],
};

const svc = (ns: string, name: string, ip: string | 'None', port = 'http') =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: {
      type: 'ClusterIP',
      clusterIP: ip,
      clusterIPs: [ip],
      ports: [{ name: port, port: 80, protocol: 'TCP' }],
    },
  }) as unknown as Service;
const slice = (ns: string, service: string, ips: string[]) =>
  ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-x`,
      namespace: ns,
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip] })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  }) as unknown as EndpointSlice;

/** The zone as sorted text: every name, and its records. */
function dump(zone: Zone): string[] {
  const out: string[] = [];
  for (const [name, node] of zone.nodes) {
    out.push(`${name} exists`);
    for (const set of node.rrsets.values()) for (const r of set) out.push(formatRecord(r));
  }
  return out.sort();
}

describe('zone index', () => {
  it('ends where a build from scratch ends, whatever the order of changes', () => {
    const index = createZoneIndex(options);
    const random = (() => {
      let seed = 7;
      return () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed / 0x7fffffff;
      };
    })();
    const services = new Map<string, Service>();
    const slices = new Map<string, EndpointSlice>();
    for (let step = 0; step < 400; step++) {
      const ns = `ns${Math.floor(random() * 3)}`;
      const name = `s${Math.floor(random() * 8)}`;
      const key = `${ns}/${name}`;
      const roll = random();
      if (roll < 0.35)
        services.set(
          key,
          svc(ns, name, `10.96.${Math.floor(random() * 3)}.${Math.floor(random() * 250)}`),
        );
      else if (roll < 0.55)
        services.set(key, svc(ns, name, 'None', random() < 0.5 ? 'http' : 'web'));
      else if (roll < 0.75) services.delete(key);
      else if (roll < 0.9)
        slices.set(
          key,
          slice(ns, name, [
            `10.0.0.${Math.floor(random() * 4)}`,
            `10.0.1.${Math.floor(random() * 4)}`,
          ]),
        );
      else slices.delete(key);
      const s = services.get(key);
      const sl = slices.get(key);
      index.set(
        serviceKey(ns, name),
        s ? serviceFragment(s, sl ? [sl] : [], [], options) : undefined,
      );
    }
    index.takeTouched();
    const scratch = buildZone(
      { services: services.values(), endpointSlices: slices.values(), pods: [], namespaces: [] },
      options,
    );
    expect(dump(index.zone)).toEqual(dump(scratch));
  });

  it('reports the names whose answers changed, and only those', () => {
    const index = createZoneIndex(options);
    index.set(
      serviceKey('bar', 'foo'),
      serviceFragment(svc('bar', 'foo', '10.96.0.10'), [], [], options),
    );
    index.set(
      serviceKey('bar', 'other'),
      serviceFragment(svc('bar', 'other', '10.96.0.11'), [], [], options),
    );
    index.takeTouched();
    index.set(
      serviceKey('bar', 'foo'),
      serviceFragment(svc('bar', 'foo', '10.96.0.12'), [], [], options),
    );
    expect([...index.takeTouched()].sort()).toEqual([
      '10.0.96.10.in-addr.arpa.',
      '12.0.96.10.in-addr.arpa.',
      '_http._tcp.foo.bar.svc.cluster.local.',
      'foo.bar.svc.cluster.local.',
    ]);
    index.set(serviceKey('bar', 'other'), undefined);
    index.set(serviceKey('bar', 'foo'), undefined);
    // The last Service of namespace bar takes bar.svc.cluster.local. with it.
    expect([...index.takeTouched()]).toContain('bar.svc.cluster.local.');
    expect([...index.zone.nodes.keys()].sort()).toEqual([
      'cluster.local.',
      'dns-version.cluster.local.',
      'dns.cluster.local.',
      'ns.dns.cluster.local.',
      'svc.cluster.local.',
    ]);
  });

  it('keeps a name while any fragment still holds it', () => {
    const index = createZoneIndex(options);
    index.set('ns/bar', namespaceFragment('bar', options));
    index.set(
      serviceKey('bar', 'foo'),
      serviceFragment(svc('bar', 'foo', '10.96.0.10'), [], [], options),
    );
    index.set(serviceKey('bar', 'foo'), undefined);
    expect(index.zone.nodes.has('bar.svc.cluster.local.')).toBe(true);
    index.set('ns/bar', undefined);
    expect(index.zone.nodes.has('bar.svc.cluster.local.')).toBe(false);
  });
});
