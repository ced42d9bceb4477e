// The ruleset model: what the proxy wants in its nftables table, as data.
//
// Every rule is one of a small set of matches and actions, so the same
// model is rendered to nft text (render.ts), diffed into a transaction
// (plan.ts) and evaluated packet by packet in tests (evaluate.ts), and the
// three cannot disagree about what a rule means.
//
// A ruleset is the fixed layout (layout.ts: base chains, shared maps) plus
// one fragment per Service: its chains, its affinity sets and its elements in
// the shared maps. Fragments are immutable and shared between consecutive
// rulesets when their Service did not change, so planning a change costs
// what changed, not the size of the cluster.

import type { L4Proto, ServicePortInfo } from '../service-ports.ts';

export type { L4Proto };

export type Match =
  /** `ip saddr CIDR` or `ip saddr != CIDR` */
  | { saddr: string; not?: boolean }
  /** `fib saddr type local`: sent by this node itself. */
  | { saddrLocal: true }
  /** `ip saddr @set` (session affinity) */
  | { saddrIn: string }
  /** `numgen random mod N 0`: true with probability 1/N. */
  | { random: number }
  /** `ct state new` */
  | { ctNew: true }
  /** `meta mark & BIT == 0` */
  | { markClear: number }
  /** `ct status dnat ip saddr . ip daddr @set`: a pod reaching itself through a Service. */
  | { hairpin: string }
  /** `ip daddr @set` */
  | { daddrIn: string }
  /** `meta l4proto P` */
  | { proto: L4Proto };

/** The keys the shared verdict maps are looked up with. */
export type LookupKey =
  /** `ip daddr . meta l4proto . th dport` */
  | 'daddr-proto-port'
  /** `fib daddr type local meta l4proto . th dport`: any of this node's addresses. */
  | 'local-proto-port';

export type Action =
  | { vmap: string; key: LookupKey }
  | { jump: string }
  | { goto: string }
  | { verdict: 'return' | 'drop' | 'accept' }
  | { reject: 'tcp-reset' | 'icmp' }
  | { markOr: number }
  | { markXor: number }
  | { masquerade: true }
  /** `dnat ip to numgen random mod COUNT offset OFFSET map @MAP`: equal odds over COUNT slots. */
  | { dnatSlots: { map: string; offset: number; count: number } }
  | { dnat: { ip: string; port: number } }
  /** `update @set { ip saddr }` */
  | { updateSet: string }
  /** `counter comment "TEXT"`: the generation marker. */
  | { marker: string };

export interface Rule {
  match?: readonly Match[];
  action: Action;
}

export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

export interface ChainDef {
  name: string;
  /** Base chains only: where netfilter calls them. */
  hook?: { type: 'nat' | 'filter'; hook: Hook; priority: string };
  rules: readonly Rule[];
}

export type ElementValue =
  | { goto: string }
  | { verdict: 'drop' }
  /** A DNAT target in an endpoint slot map. */
  | { ip: string; port: number };

export interface SetDef {
  name: string;
  kind: 'set' | 'map';
  /** The nft `type`/`typeof` line, without the keyword's trailing semicolon. */
  type: string;
  flags?: readonly string[];
  timeoutSeconds?: number;
}

export interface Element {
  set: string;
  /** The key in nft notation, built by the helpers in layout.ts (the evaluator builds the same). */
  key: string;
  value?: ElementValue;
}

/** Endpoint slots of one selection (a Service port's cluster-wide or node-local endpoints). */
export interface SlotRange {
  /** `<service port key>#cluster` or `#local` */
  id: string;
  /** The slot map: one per protocol and shard (`endpoints-tcp-2d`). */
  map: string;
  proto: L4Proto;
  shard: number;
  offset: number;
  /** Slots reserved; endpoints.length are used. */
  capacity: number;
  /** `ip:port` by slot. */
  endpoints: readonly string[];
}

export interface Fragment {
  /** `namespace/name` */
  service: string;
  ports: readonly ServicePortInfo[];
  chains: readonly ChainDef[];
  sets: readonly SetDef[];
  elements: readonly Element[];
  slots: readonly SlotRange[];
  clusterIPs: readonly string[];
  /** Endpoint addresses that may be the client itself (on this node, or unknown). */
  hairpin: readonly string[];
  /** Keys another Service already holds: left out, reported. */
  conflicts: readonly string[];
}

export interface LayoutOptions {
  /** The table's name (family ip). */
  table: string;
  /** The pod network: traffic from elsewhere to a ClusterIP is masqueraded. */
  clusterCidr?: string;
  /** The packet mark bit (0-31) that asks for masquerade in postrouting. */
  masqueradeBit: number;
  /** How many endpoint slot maps the slots are spread over (see README: why). */
  shards: number;
}

export interface Ruleset {
  /** This ruleset's identity (a fresh object per build). */
  id: object;
  /**
   * The Services rebuilt since `parent` (a ruleset's id): planning from that
   * very ruleset looks at these only.
   */
  changedSince?: { parent: object; names: ReadonlySet<string> };
  options: LayoutOptions;
  /** Counts syncs; the kernel's copy carries it in the marker chain. */
  generation: number;
  fragments: ReadonlyMap<string, Fragment>;
  /** Lookup key -> the Service holding it (`service-ips` and `service-nodeports` keys). */
  owners: ReadonlyMap<string, string>;
  /** Next free slot offset in each slot map. */
  nextOffset: Readonly<Record<string, number>>;
  clusterIPs: ReadonlySet<string>;
  hairpin: ReadonlySet<string>;
  /** Slot maps that hold at least one slot, and their protocol. */
  slotMaps: ReadonlyMap<string, L4Proto>;
}
