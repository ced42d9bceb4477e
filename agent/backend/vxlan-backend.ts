// vxlan: pod traffic to another node is wrapped in UDP (VXLAN) between the
// nodes' underlay addresses, as flannel's vxlan backend does, so nodes need
// only IP reachability, not a shared L2 segment. Costs 50 bytes of MTU.
//
// Each node has one device `pier.<VNI>` (nolearning: the agent, not flooding,
// tells the kernel where everything is), holding its subnet's network
// address as a /32, with a MAC derived from its underlay address and
// published in its lease. For each peer the agent writes three entries:
//
//   route  10.244.2.0/24 via 10.244.2.0 dev pier.1 onlink   (the peer's subnet, via its VTEP address)
//   neigh  10.244.2.0 lladdr <peer VTEP MAC> dev pier.1 nud permanent
//   fdb    <peer VTEP MAC> dev pier.1 dst <peer underlay address>
//
// so a packet for 10.244.2.7 routes to the peer's VTEP address, which
// resolves (statically) to its MAC, which forwards (statically) to its
// underlay address inside a VXLAN packet.

import type { BackendSelf, NetworkBackend, NodeEndpoint } from '../backend.ts';
import { PIER_ROUTE_PROTOCOL } from '../backend.ts';
import { formatCidr, formatIp } from '../ipam/ipv4.ts';
import type {
  AddrInfo,
  FdbInfo,
  LinkInfo,
  LinkOp,
  NeighInfo,
  Netlink,
  RouteInfo,
} from '../netlink.ts';
import { macFromIp, VTEP_MAC_PREFIX } from '../pod-network/names.ts';

/** IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
export const VXLAN_OVERHEAD = 50;

export interface VxlanOptions {
  vni: number;
  port: number;
  /** Device name prefix: `pier.` gives `pier.<VNI>`. */
  prefix?: string;
}

export interface VxlanObserved {
  link: LinkInfo | undefined;
  /** Other Pier VXLAN devices (an earlier VNI): removed. */
  stale: string[];
  addresses: AddrInfo[];
  routes: RouteInfo[];
  neighbours: NeighInfo[];
  fdb: FdbInfo[];
}

export function createVxlanBackend(
  options: VxlanOptions,
): NetworkBackend<VxlanObserved> & { device: string } {
  const prefix = options.prefix ?? 'pier.';
  const device = `${prefix}${options.vni}`;
  return {
    type: 'vxlan',
    device,
    overhead: VXLAN_OVERHEAD,
    leaseData: (publicIp) => ({
      type: 'vxlan',
      vni: options.vni,
      vtepMAC: macFromIp(VTEP_MAC_PREFIX, publicIp),
    }),

    async observe(netlink: Netlink): Promise<VxlanObserved> {
      const [links, routes] = await Promise.all([
        netlink.links(),
        netlink.routes({ proto: PIER_ROUTE_PROTOCOL }),
      ]);
      const link = links.find((l) => l.name === device);
      const stale = links
        .filter((l) => l.kind === 'vxlan' && l.name.startsWith(prefix) && l.name !== device)
        .map((l) => l.name);
      if (link === undefined)
        return { link, stale, addresses: [], routes, neighbours: [], fdb: [] };
      const [addresses, neighbours, fdb] = await Promise.all([
        netlink.addresses({ dev: device }),
        netlink.neighbours(device),
        netlink.fdb(device),
      ]);
      return { link, stale, addresses, routes, neighbours, fdb };
    },

    plan(self: BackendSelf, peers: readonly NodeEndpoint[], observed: VxlanObserved): LinkOp[] {
      const mac = macFromIp(VTEP_MAC_PREFIX, self.publicIp);
      const mtu = self.ifaceMtu - VXLAN_OVERHEAD;
      const local = formatIp(self.publicIp);
      const ownAddress = `${formatIp(self.subnet.base)}/32`;
      const ops: LinkOp[] = [];

      const wanted = peers.flatMap((peer) => {
        if (peer.backend.type !== 'vxlan') return [];
        return [
          {
            dst: formatCidr(peer.subnet),
            vtep: formatIp(peer.subnet.base),
            mac: peer.backend.vtepMAC,
            underlay: formatIp(peer.publicIp),
          },
        ];
      });

      // Routes of ours that no longer belong (a peer left, or an earlier backend's).
      for (const route of observed.routes) {
        const want = wanted.find((w) => w.dst === route.dst);
        if (want === undefined)
          ops.push({ op: 'del-route', dst: route.dst, proto: PIER_ROUTE_PROTOCOL });
      }
      for (const name of observed.stale) ops.push({ op: 'del-link', name });

      const link = observed.link;
      const vx = link?.vxlan;
      const recreate =
        link !== undefined &&
        (link.kind !== 'vxlan' ||
          vx?.vni !== options.vni ||
          vx.port !== options.port ||
          vx.local !== local ||
          (vx.dev !== undefined && vx.dev !== self.iface));
      if (recreate) ops.push({ op: 'del-link', name: device });
      const fresh = link === undefined || recreate;
      if (fresh) {
        ops.push({
          op: 'add-vxlan',
          name: device,
          vni: options.vni,
          local,
          dev: self.iface,
          port: options.port,
          mtu,
          mac,
        });
      } else {
        if (link.mac !== mac) ops.push({ op: 'set-link', name: device, mac });
        if (link.mtu !== mtu) ops.push({ op: 'set-link', name: device, mtu });
      }
      const addresses = fresh ? [] : observed.addresses;
      for (const a of addresses) {
        if (a.address !== ownAddress) ops.push({ op: 'del-addr', dev: device, address: a.address });
      }
      if (!addresses.some((a) => a.address === ownAddress)) {
        ops.push({ op: 'add-addr', dev: device, address: ownAddress });
      }
      if (fresh || !link.up) ops.push({ op: 'set-link', name: device, up: true });

      const neighbours = fresh ? [] : observed.neighbours;
      const fdb = fresh ? [] : observed.fdb;
      for (const n of neighbours) {
        if (!wanted.some((w) => w.vtep === n.address && w.mac === n.lladdr)) {
          ops.push({ op: 'del-neigh', address: n.address, lladdr: n.lladdr, dev: device });
        }
      }
      for (const f of fdb) {
        if (!wanted.some((w) => w.mac === f.lladdr && w.underlay === f.dst)) {
          ops.push({ op: 'del-fdb', lladdr: f.lladdr, dev: device, dst: f.dst });
        }
      }
      // Forwarding entry and neighbour before the route, so the first packet finds its way.
      for (const w of wanted) {
        if (!fdb.some((f) => f.lladdr === w.mac && f.dst === w.underlay)) {
          ops.push({ op: 'replace-fdb', lladdr: w.mac, dev: device, dst: w.underlay });
        }
        if (!neighbours.some((n) => n.address === w.vtep && n.lladdr === w.mac)) {
          ops.push({ op: 'replace-neigh', address: w.vtep, lladdr: w.mac, dev: device });
        }
        const have = fresh ? undefined : observed.routes.find((r) => r.dst === w.dst);
        if (have?.via === w.vtep && have.dev === device && have.onlink) continue;
        ops.push({
          op: 'replace-route',
          dst: w.dst,
          via: w.vtep,
          dev: device,
          onlink: true,
          proto: PIER_ROUTE_PROTOCOL,
        });
      }
      return ops;
    },
  };
}
