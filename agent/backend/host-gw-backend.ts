// host-gw: every other node's pod subnet is routed via that node's underlay
// address, as flannel's host-gw does. No encapsulation, so the full MTU and
// the best throughput, but all nodes must share one L2 segment (a route's
// next hop must be directly reachable).
//
//   node A (10.244.1.0/24)                       node B (10.244.2.0/24)
//   ip route: 10.244.2.0/24 via <B eth0> dev eth0 proto 91

import type { BackendSelf, NetworkBackend, NodeEndpoint } from '../backend.ts';
import { PIER_ROUTE_PROTOCOL } from '../backend.ts';
import { formatCidr, formatIp } from '../ipam/ipv4.ts';
import type { LinkInfo, LinkOp, Netlink, RouteInfo } from '../netlink.ts';

export interface HostGwObserved {
  routes: RouteInfo[];
  /** Pier VXLAN devices left from an earlier backend: removed. */
  staleVxlan: string[];
}

export interface HostGwOptions {
  /** Name prefix of the VXLAN devices the vxlan backend makes (`pier.`), to remove after a switch. */
  vxlanPrefix?: string;
}

export function createHostGwBackend(options: HostGwOptions = {}): NetworkBackend<HostGwObserved> {
  const vxlanPrefix = options.vxlanPrefix ?? 'pier.';
  return {
    type: 'host-gw',
    overhead: 0,
    leaseData: () => ({ type: 'host-gw' }),
    async observe(netlink: Netlink) {
      const [routes, links] = await Promise.all([
        netlink.routes({ proto: PIER_ROUTE_PROTOCOL }),
        netlink.links(),
      ]);
      return {
        routes,
        staleVxlan: links
          .filter((l: LinkInfo) => l.kind === 'vxlan' && l.name.startsWith(vxlanPrefix))
          .map((l) => l.name),
      };
    },
    plan(self: BackendSelf, peers: readonly NodeEndpoint[], observed: HostGwObserved): LinkOp[] {
      const desired = new Map<string, { via: string }>();
      for (const peer of peers) {
        desired.set(formatCidr(peer.subnet), { via: formatIp(peer.publicIp) });
      }
      const ops: LinkOp[] = [];
      for (const route of observed.routes) {
        const want = desired.get(route.dst);
        if (want === undefined)
          ops.push({ op: 'del-route', dst: route.dst, proto: PIER_ROUTE_PROTOCOL });
      }
      for (const name of observed.staleVxlan) ops.push({ op: 'del-link', name });
      for (const [dst, want] of desired) {
        const have = observed.routes.find((r) => r.dst === dst);
        if (have?.via === want.via && have.dev === self.iface && !have.onlink) continue;
        ops.push({
          op: 'replace-route',
          dst,
          via: want.via,
          dev: self.iface,
          proto: PIER_ROUTE_PROTOCOL,
        });
      }
      return ops;
    },
  };
}
