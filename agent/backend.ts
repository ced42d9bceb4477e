// A network backend: how this node reaches the pod subnets of the others
// (flannel's backends). Given this node and its peers (from their subnet
// leases) and what the kernel holds now, a backend plans the operations that
// make the kernel hold what it should: a pure function, applied through the
// Netlink port by the agent's sync (record, then sync).
//
// Implementations: backend/host-gw-backend.ts (a route per peer via its
// underlay address; the nodes share an L2 segment) and
// backend/vxlan-backend.ts (an overlay device with a route, a neighbour and a
// forwarding entry per peer).

import type { Cidr } from './ipam/ipv4.ts';
import type { SubnetLeaseSpec } from './ipam/subnet-lease.ts';
import type { LinkOp, Netlink } from './netlink.ts';

/** The route protocol number on every route the agent owns: how it finds its own routes again. */
export const PIER_ROUTE_PROTOCOL = 91;

export interface NodeEndpoint {
  node: string;
  subnet: Cidr;
  /** Underlay address. */
  publicIp: number;
  backend: SubnetLeaseSpec['backend'];
}

export interface BackendSelf {
  subnet: Cidr;
  publicIp: number;
  /** The underlay interface (eth0). */
  iface: string;
  /** The underlay interface's MTU. */
  ifaceMtu: number;
}

export interface NetworkBackend<Observed = unknown> {
  readonly type: 'host-gw' | 'vxlan';
  /** Bytes each packet loses to the overlay: the pods' MTU is the node interface's less this. */
  readonly overhead: number;
  /** What this node publishes in its lease for the others. */
  leaseData(publicIp: number): SubnetLeaseSpec['backend'];
  /** Reads the kernel state this backend owns. */
  observe(netlink: Netlink, self: BackendSelf): Promise<Observed>;
  /** Pure: the operations that turn `observed` into what `self` and `peers` need, in order. */
  plan(self: BackendSelf, peers: readonly NodeEndpoint[], observed: Observed): LinkOp[];
}
