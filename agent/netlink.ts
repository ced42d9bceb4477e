// The Netlink port: the agent's only way to change or read the kernel's
// links, addresses, routes, neighbours and forwarding entries.
//
// Changes are typed operations applied as one batch per network namespace
// (`ip -batch`, `bridge -batch`: one child process, not one per change);
// reads return plain records. Implementations: netlink/ip-netlink.ts runs
// iproute2, netlink/fake.ts keeps a model of namespaces in memory for unit
// tests. Both pass netlink/netlink.case.ts.
//
// A batch stops at its first failing operation (NetlinkError says which):
// callers that need all-or-nothing undo what they asked for, which they can,
// since they know the operations.

import { PierError } from '../src/errors.ts';

export type LinkOp =
  | { op: 'add-bridge'; name: string; mtu: number; mac?: string }
  | {
      op: 'add-veth';
      name: string;
      mtu: number;
      mac?: string;
      /** Enslave the new host end to this bridge and bring it up, in the same operation. */
      master?: string;
      up?: boolean;
      peer: string;
      peerMac?: string;
      /** Network namespace (a path: /var/run/netns/x, /proc/<pid>/ns/net) the peer is created in. */
      peerNetns?: string;
    }
  | {
      op: 'add-vxlan';
      name: string;
      vni: number;
      /** Underlay address packets leave from. */
      local: string;
      /** Underlay device. */
      dev: string;
      port: number;
      mtu: number;
      mac: string;
    }
  | { op: 'add-dummy'; name: string }
  | {
      op: 'set-link';
      name: string;
      up?: boolean;
      mtu?: number;
      master?: string;
      mac?: string;
    }
  | { op: 'set-hairpin'; name: string; on: boolean }
  | { op: 'del-link'; name: string }
  | { op: 'add-addr' | 'del-addr'; dev: string; address: string }
  | {
      op: 'replace-route' | 'del-route';
      /** `10.244.2.0/24` or `default`. */
      dst: string;
      via?: string;
      dev?: string;
      onlink?: boolean;
      /** The route's protocol number: how the agent tells its own routes apart. */
      proto?: number;
      src?: string;
    }
  | { op: 'replace-neigh' | 'del-neigh'; address: string; lladdr: string; dev: string }
  | { op: 'replace-fdb' | 'del-fdb'; lladdr: string; dev: string; dst: string };

export interface LinkInfo {
  name: string;
  index: number;
  mtu: number;
  up: boolean;
  mac: string;
  /** `bridge`, `veth`, `vxlan`, `dummy`; undefined for plain devices (lo, a NIC). */
  kind?: string;
  master?: string;
  hairpin?: boolean;
  /** VXLAN only. */
  vxlan?: { vni: number; local?: string; port: number; dev?: string };
}

export interface AddrInfo {
  dev: string;
  /** `10.244.1.1/24`. */
  address: string;
}

export interface RouteInfo {
  dst: string;
  via?: string;
  dev?: string;
  onlink: boolean;
}

export interface NeighInfo {
  address: string;
  lladdr: string;
  dev: string;
}

export interface FdbInfo {
  lladdr: string;
  dev: string;
  dst: string;
}

export interface NetnsOption {
  /** A network namespace path; the agent's own namespace when omitted. */
  netns?: string;
}

export interface Netlink {
  /**
   * Applies the operations in order, in one batch per tool; stops at the first
   * failure. Given a promise (another namespace, ip lines only), the batch's
   * process starts at once and its operations follow when the promise
   * resolves, so the start overlaps the caller's other work; if the promise
   * rejects, nothing is applied and apply() rejects with its reason.
   */
  apply(ops: readonly LinkOp[] | Promise<readonly LinkOp[]>, options?: NetnsOption): Promise<void>;
  links(options?: NetnsOption): Promise<LinkInfo[]>;
  addresses(options?: NetnsOption & { dev?: string }): Promise<AddrInfo[]>;
  /** Main-table IPv4 routes; only those of one protocol number when `proto` is given. */
  routes(options?: NetnsOption & { proto?: number }): Promise<RouteInfo[]>;
  /** Permanent IPv4 neighbour entries of a device. */
  neighbours(dev: string, options?: NetnsOption): Promise<NeighInfo[]>;
  /** Forwarding entries with a remote destination (VXLAN) of a device. */
  fdb(dev: string, options?: NetnsOption): Promise<FdbInfo[]>;
  /** Ends helper processes (a long-lived ip session); later calls start them again. */
  close(): void;
}

export type NetlinkFailure = 'exists' | 'missing' | 'no-netns' | 'other';

/** A batch failed: which operation, how (classified for callers), and the tool's own words. */
export class NetlinkError extends PierError {
  readonly failure: NetlinkFailure;
  /** Index into the ops passed to apply(), when known. */
  readonly opIndex: number | undefined;
  readonly op: LinkOp | undefined;

  constructor(
    message: string,
    failure: NetlinkFailure,
    opIndex: number | undefined,
    op: LinkOp | undefined,
  ) {
    super('PIER_AGENT_NETLINK', message);
    this.name = 'NetlinkError';
    this.failure = failure;
    this.opIndex = opIndex;
    this.op = op;
  }
}

export function isNetlinkError(error: unknown, failure?: NetlinkFailure): error is NetlinkError {
  return error instanceof NetlinkError && (failure === undefined || error.failure === failure);
}
