// Cluster DNS: the agent's (and `pier dns`'s) DNS server, authoritative for
// the cluster zone built from the Store and forwarding everything else
// through a cache. See agent/dns/README.md for the query path.
//
// Implementation: agent/dns/. createDnsServer (dns/server.ts) runs the
// query path in this thread (workers: 1) or in worker threads sharing the
// listen addresses (SO_REUSEPORT).

import type { DnsStatsSnapshot } from './dns/stats.ts';
import type { PodRecords } from './dns/zone.ts';
import type { ObjectChange, ObjectView } from './dns/zone-sync.ts';

export { type CniDns, formatResolvConf, podDns } from './dns/resolv-conf.ts';
export { createDnsServer } from './dns/server.ts';
export type { DnsStatsSnapshot } from './dns/stats.ts';
export { ZONE_KINDS } from './dns/zone-sync.ts';

export interface DnsSettings {
  /** `host:port` addresses; UDP and TCP on each. Port 0 picks one (tests). */
  listen: readonly string[];
  /** The cluster domain: `cluster.local`. */
  domain: string;
  /** TTL of cluster records and of negative answers, seconds. */
  ttl: number;
  pods: PodRecords;
  /** Query loops (worker threads sharing the sockets); 0: one per core. 1 runs in the caller's thread. */
  workers: number;
  /** How pods reach this server (CNI result nameservers, `ns.dns.<domain>`); empty: the listen hosts. */
  serverAddresses: readonly string[];
  /** The ndots option pods get. */
  ndots: number;
  forward: {
    enabled: boolean;
    /** `ip[:port]`; empty: the nameservers of `resolvConf`. */
    upstreams: readonly string[];
    resolvConf: string;
    timeoutMs: number;
    maxConcurrent: number;
    healthCheckMs: number;
    /** Client networks (CIDR, or `private`) that may have names outside the cluster resolved. */
    allowedNetworks: readonly string[];
  };
  cache: {
    /** Cached upstream answers, per worker. */
    size: number;
    maxTtl: number;
    maxNegativeTtl: number;
    /** How long expired answers may still be served while upstreams fail; 0: never. */
    staleSeconds: number;
    /** Hits after which a name is refreshed before it expires; 0: no prefetch. */
    prefetchHits: number;
    prefetchPercent: number;
  };
  /** Response-rate limit per client network over UDP; 0: off. */
  rateLimit: { responsesPerSecond: number; slip: number };
}

export const defaultDnsSettings: DnsSettings = {
  listen: ['127.0.0.1:5353'],
  domain: 'cluster.local',
  ttl: 5,
  pods: 'disabled',
  workers: 1,
  serverAddresses: [],
  ndots: 5,
  forward: {
    enabled: true,
    upstreams: [],
    resolvConf: '/etc/resolv.conf',
    timeoutMs: 2000,
    maxConcurrent: 1000,
    healthCheckMs: 500,
    allowedNetworks: ['private'],
  },
  cache: {
    size: 10_000,
    maxTtl: 3600,
    maxNegativeTtl: 1800,
    staleSeconds: 3600,
    prefetchHits: 2,
    prefetchPercent: 10,
  },
  rateLimit: { responsesPerSecond: 0, slip: 2 },
};

/** Where the objects come from: the informer (its list and subscribe), or anything shaped like it. */
export interface DnsObjectSource extends ObjectView {
  subscribe(
    fn: (batch: {
      /** `previous`: the object before a modification (a slice may move to another Service). */
      changes: readonly ObjectChange[];
    }) => void,
  ): () => void;
}

/** The subset of pino the DNS server logs through. */
export interface DnsLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface DnsServerOptions {
  settings: DnsSettings;
  objects: DnsObjectSource;
  logger?: DnsLogger;
}

export interface DnsAddress {
  transport: 'udp' | 'tcp';
  address: string;
  port: number;
}

export interface DnsServer {
  /** Builds the zone, binds every listen address; rejects with LISTEN_FAILED. */
  start(): Promise<void>;
  /** Bound addresses (ports resolved), once started. */
  addresses(): DnsAddress[];
  /** Counters summed over workers. */
  stats(): Promise<DnsStatsSnapshot>;
  close(): Promise<void>;
}
