// What the proxy benchmark programs: N Services of one TCP port each, every
// one with the same E endpoints (10.244.2.1..E on the server namespace), as
// objects for Pier's proxier and as kube-proxy's iptables-mode layout for
// the comparison, written in nft so both run on the same kernel:
//
//   nat prerouting/output -> services: two rules per Service, as KUBE-SERVICES
//       ip saddr != <pods> ip daddr <clusterIP> tcp dport 80 mark for masquerade
//       ip daddr <clusterIP> tcp dport 80 goto svc-<i>
//   svc-<i>: numgen random mod E-j 0 ... dnat to <endpoint> (KUBE-SVC, with the
//       KUBE-SEP chains folded in: they do not change the scan measured here)
//
// A new connection's first packet walks `services` rule by rule until its
// Service: on average half of 2N rules.

import { service, slice } from '../../agent/service-proxy/testing/objects.ts';
import type { EndpointSlice, Service } from '../../src/model.ts';

export const POD_NETWORK = '10.244.0.0/16';
export const SERVICE_PORT = 80;
export const TARGET_PORT = 8080;
export const LINEAR_TABLE = 'linear_services';

/** The i-th Service's ClusterIP: 10.96.0.0/16 has room for 65 534. */
export function clusterIp(i: number): string {
  const n = i + 1;
  return `10.96.${(n >> 8) & 255}.${n & 255}`;
}

export function endpointIp(j: number): string {
  return `10.244.2.${j + 1}`;
}

export function serviceObjects(
  count: number,
  endpoints: number,
): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  const eps = Array.from({ length: endpoints }, (_, j) => `${endpointIp(j)} node-2`);
  for (let i = 0; i < count; i++) {
    const name = `svc-${i}`;
    services.push(
      service(`bench/${name}`, {
        clusterIP: clusterIp(i),
        ports: [{ port: SERVICE_PORT, targetPort: TARGET_PORT }],
      }),
    );
    slices.push(slice(`bench/${name}`, eps, [{ port: TARGET_PORT }]));
  }
  return { services, slices };
}

/** Addresses the server namespace answers on: the endpoints and spares for the changes. */
export const SERVER_ADDRESSES = 250;

/**
 * The endpoints of Service i after the benchmark's one change: endpoint 0
 * swapped for a spare address (one the server answers on, so traffic still flows).
 */
export function changedSlice(i: number, endpoints: number, round: number): EndpointSlice {
  const spare = endpoints + (round % (SERVER_ADDRESSES - endpoints));
  const eps = Array.from({ length: endpoints }, (_, j) =>
    j === 0 ? `${endpointIp(spare)} node-2` : `${endpointIp(j)} node-2`,
  );
  return slice(`bench/svc-${i}`, eps, [{ port: TARGET_PORT }]);
}

/** kube-proxy's iptables-mode layout, in nft: one table, replaced whole. */
export function linearScript(count: number, endpoints: number): string {
  const t = LINEAR_TABLE;
  const out: string[] = [
    `table ip ${t} {}`,
    `delete table ip ${t}`,
    `table ip ${t} {`,
    '\tchain prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t\tjump services',
    '\t}',
    '\tchain output {',
    '\t\ttype nat hook output priority -100; policy accept;',
    '\t\tjump services',
    '\t}',
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    '\t\tmeta mark & 0x00004000 == 0x00004000 meta mark set meta mark ^ 0x00004000 masquerade fully-random',
    '\t}',
    '\tchain mark-for-masquerade {',
    '\t\tmeta mark set meta mark | 0x00004000',
    '\t}',
  ];
  const services: string[] = ['\tchain services {'];
  for (let i = 0; i < count; i++) {
    const ip = clusterIp(i);
    services.push(
      `\t\tip saddr != ${POD_NETWORK} ip daddr ${ip} tcp dport ${SERVICE_PORT} jump mark-for-masquerade`,
      `\t\tip daddr ${ip} tcp dport ${SERVICE_PORT} goto svc-${i}`,
    );
    out.push(`\tchain svc-${i} {`);
    for (let j = 0; j < endpoints; j++) {
      const dnat = `meta l4proto tcp dnat ip to ${endpointIp(j)}:${TARGET_PORT}`;
      out.push(
        j < endpoints - 1 ? `\t\tnumgen random mod ${endpoints - j} 0 ${dnat}` : `\t\t${dnat}`,
      );
    }
    out.push('\t}');
  }
  services.push('\t}');
  out.push(...services, '}', '');
  return out.join('\n');
}
