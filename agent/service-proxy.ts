// The Service proxy: on every node, a connection to a Service's ClusterIP,
// NodePort, external or load-balancer IP reaches one of its endpoints, in the
// kernel (nftables maps: one lookup per packet, however many Services).
//
// Implementation: service-proxy/nftables-proxier.ts, after kube-proxy's
// nftables mode (service-proxy/README.md: packet paths, layout, sync).
// Record then sync (convention 4): the informer only records which Services
// changed; a rate-limited runner builds the desired ruleset (pure), plans
// one nft transaction from the difference (pure) and applies it.

import type { Store } from '../src/store.ts';
import type { AgentLogger } from './logger.ts';
import type { NftReader } from './nftables/read.ts';
import type { Nftables } from './nftables.ts';
import type { Conntrack } from './service-proxy/conntrack.ts';

export interface ServiceProxySettings {
  /** This node's name: endpoints with this nodeName are local. */
  nodeName: string;
  /** The proxy's own nftables table (family ip). */
  table: string;
  /** The pod network (CIDR): traffic from elsewhere to a ClusterIP is masqueraded. */
  clusterCidr?: string;
  /** Packet mark bit (0-31) that asks for masquerade. */
  masqueradeBit: number;
  /** Least time between two syncs. */
  minSyncIntervalMs: number;
  /** A sync at least this often, and the kernel's table checked (and repaired) at this pace. */
  syncPeriodMs: number;
  /** A full rewrite at least this often (compacts slot ranges). */
  fullSyncPeriodMs: number;
  /** Slot maps the endpoints are spread over. */
  shards?: number;
  /** Apply in this network namespace (a path) instead of the agent's own. */
  netns?: string;
}

export interface ServiceProxyPorts {
  store: Store;
  nftables: Nftables;
  reader: NftReader;
  conntrack: Conntrack;
  logger: AgentLogger;
  /** Called after each sync (metrics). */
  observeSync?: (sync: SyncReport) => void;
  now?: () => number;
}

export interface SyncReport {
  ok: boolean;
  full: boolean;
  seconds: number;
  /** Why a full sync: `start`, `period`, `table changed`, `after a failure`, `settings`. */
  reason?: string;
  services: number;
  chainsAdded: number;
  chainsChanged: number;
  chainsRemoved: number;
  elementsAdded: number;
  elementsRemoved: number;
  conntrackDeleted: number;
  /** Seconds in each step: reading the marker, building, planning, `nft -f`, `conntrack -D`. */
  phases: { check: number; build: number; plan: number; apply: number; conntrack: number };
}

export interface ServiceProxyInfo {
  table: string;
  /** Services and Service ports programmed. */
  services: number;
  servicePorts: number;
  endpoints: number;
  generation: number;
  syncs: number;
  fullSyncs: number;
  failedSyncs: number;
  lastSync?: SyncReport & { at: string };
  /** Services left partly unserved because another one holds their address and port. */
  conflicts: { service: string; claims: string[] }[];
}

export interface ServiceProxy {
  /** Lists and watches Services and EndpointSlices; resolves after the first full sync. */
  start(): Promise<void>;
  /** Stops watching and syncing; the table stays, so traffic keeps flowing. */
  stop(): Promise<void>;
  /** Syncs now, reading the kernel's table back first, and waits for it. */
  sync(): Promise<void>;
  /** True once a sync has applied. */
  ready(): boolean;
  info(): ServiceProxyInfo;
}
