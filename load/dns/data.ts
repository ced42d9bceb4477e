// What the DNS benchmark serves and asks: 10 000 ClusterIP Services in 100
// namespaces (the cluster case), and 1 000 names outside the cluster held
// by a fake upstream (the cached case). knotd and unbound get the cluster
// zone as a zone file written from Pier's own zone for the same objects,
// so every server holds the same records.

import { stringify } from 'yaml';
import { namespace, service } from '../../agent/dns/testing/objects.ts';
import { buildZone } from '../../agent/dns/zone.ts';
import { formatRecord } from '../../agent/dns/zone-file.ts';
import type { KubeObject } from '../../src/model/object.ts';
import type { EndpointSlice, Namespace, Pod, Service } from '../../src/model.ts';

export const SERVICES = 10_000;
export const NAMESPACES = 100;
export const EXTERNAL_NAMES = 1_000;
export const DOMAIN = 'cluster.local';

const serviceName = (i: number) => `svc-${i}.ns-${i % NAMESPACES}`;

export function clusterObjects(): KubeObject[] {
  const objects: KubeObject[] = [];
  for (let n = 0; n < NAMESPACES; n++) objects.push(namespace(`ns-${n}`));
  for (let i = 0; i < SERVICES; i++) {
    objects.push(
      service(`ns-${i % NAMESPACES}`, `svc-${i}`, {
        clusterIPs: [`10.96.${(i >> 8) & 255}.${i & 255}`],
        ports: [{ name: 'http', port: 80 }],
      }),
    );
  }
  return objects;
}

export function manifestsYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

/** The cluster zone in zone-file lines, from Pier's own zone for these objects (reverse names left out). */
export function zoneFile(objects: readonly KubeObject[]): string {
  const kind = (k: string) => objects.filter((o) => o.kind === k);
  const zone = buildZone(
    {
      services: kind('Service') as unknown as Service[],
      endpointSlices: kind('EndpointSlice') as unknown as EndpointSlice[],
      pods: kind('Pod') as unknown as Pod[],
      namespaces: kind('Namespace') as unknown as Namespace[],
    },
    { domain: DOMAIN, ttl: 5, pods: 'disabled', serial: 1, nameservers: ['127.0.0.1'] },
  );
  const lines: string[] = [formatRecord(zone.soa)];
  for (const [name, node] of zone.nodes) {
    if (name !== zone.origin && !name.endsWith(`.${zone.origin}`)) continue;
    for (const set of node.rrsets.values())
      for (const r of set) if (r !== zone.soa) lines.push(formatRecord(r));
  }
  return `${lines.join('\n')}\n`;
}

/** dnsperf's input: `name type` per line. */
export function clusterQueries(): string {
  return Array.from({ length: SERVICES }, (_, i) => `${serviceName(i)}.svc.${DOMAIN} A\n`).join('');
}

export function externalRecords(): string[] {
  return Array.from(
    { length: EXTERNAL_NAMES },
    (_, i) => `host-${i}.example.com. 3600 IN A 198.18.${i >> 8}.${i & 255}`,
  );
}

export function externalQueries(): string {
  return Array.from({ length: EXTERNAL_NAMES }, (_, i) => `host-${i}.example.com A\n`).join('');
}
