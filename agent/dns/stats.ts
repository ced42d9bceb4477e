// The DNS server's counters: plain numbers in typed arrays, bumped on the
// hot path without allocation, and snapshots that workers send to the
// main thread, where they are summed and exposed as Prometheus metrics
// (metrics.ts). Queries are counted by type and rcode; drops by reason;
// the cache by outcome; each upstream with a latency histogram.

import { Rcode, RRType } from './wire.ts';

export const QUERY_TYPES = [
  'A',
  'AAAA',
  'CNAME',
  'PTR',
  'SRV',
  'TXT',
  'SOA',
  'NS',
  'MX',
  'ANY',
  'other',
] as const;
export const RCODES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'BADVERS',
  'other',
] as const;
export const DROP_REASONS = ['malformed', 'ratelimit', 'overload'] as const;
export const CACHE_OUTCOMES = ['hit', 'miss', 'stale', 'prefetch'] as const;
/** Upstream latency histogram bounds, seconds. */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
] as const;

const typeSlots = new Uint8Array(256).fill(QUERY_TYPES.length - 1);
for (const [i, name] of QUERY_TYPES.entries()) {
  if (name !== 'other') typeSlots[RRType[name]] = i;
}
const rcodeSlots = new Uint8Array(32).fill(RCODES.length - 1);
for (const [i, name] of RCODES.entries()) {
  if (name !== 'other') rcodeSlots[Rcode[name]] = i;
}

export interface UpstreamStats {
  /** Cumulative counts per LATENCY_BUCKETS bound, then +Inf. */
  buckets: number[];
  sum: number;
  count: number;
  errors: number;
  healthy: boolean;
}

export interface DnsStatsSnapshot {
  /** QUERY_TYPES x RCODES, row-major. */
  queries: number[];
  drops: number[];
  cache: number[];
  upstreams: Record<string, UpstreamStats>;
  zone: { rebuilds: number; lastRebuildSeconds: number; names: number; problems: number };
}

export interface DnsStats {
  countReply(qtype: number, rcode: number): void;
  countDrop(reason: (typeof DROP_REASONS)[number]): void;
  countCache(outcome: (typeof CACHE_OUTCOMES)[number]): void;
  observeUpstream(upstream: string, seconds: number | undefined): void;
  setUpstreamHealth(upstream: string, healthy: boolean): void;
  recordRebuild(seconds: number, names: number, problems: number): void;
  snapshot(): DnsStatsSnapshot;
}

export function createDnsStats(): DnsStats {
  const queries = new Float64Array(QUERY_TYPES.length * RCODES.length);
  const drops = new Float64Array(DROP_REASONS.length);
  const cache = new Float64Array(CACHE_OUTCOMES.length);
  const upstreams = new Map<string, UpstreamStats>();
  const zone = { rebuilds: 0, lastRebuildSeconds: 0, names: 0, problems: 0 };
  const upstream = (name: string) => {
    let u = upstreams.get(name);
    if (u === undefined) {
      u = {
        buckets: new Array(LATENCY_BUCKETS.length + 1).fill(0),
        sum: 0,
        count: 0,
        errors: 0,
        healthy: true,
      };
      upstreams.set(name, u);
    }
    return u;
  };
  return {
    countReply(qtype, rcode) {
      const t = qtype < 256 ? typeSlots[qtype]! : QUERY_TYPES.length - 1;
      const r = rcode < 32 ? rcodeSlots[rcode]! : RCODES.length - 1;
      queries[t * RCODES.length + r]!++;
    },
    countDrop(reason) {
      drops[DROP_REASONS.indexOf(reason)]!++;
    },
    countCache(outcome) {
      cache[CACHE_OUTCOMES.indexOf(outcome)]!++;
    },
    observeUpstream(name, seconds) {
      const u = upstream(name);
      if (seconds === undefined) {
        u.errors++;
        return;
      }
      u.sum += seconds;
      u.count++;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++)
        if (seconds <= LATENCY_BUCKETS[i]!) u.buckets[i]!++;
      u.buckets[LATENCY_BUCKETS.length]!++;
    },
    setUpstreamHealth(name, healthy) {
      upstream(name).healthy = healthy;
    },
    recordRebuild(seconds, names, problems) {
      zone.rebuilds++;
      zone.lastRebuildSeconds = seconds;
      zone.names = names;
      zone.problems = problems;
    },
    snapshot() {
      return {
        queries: [...queries],
        drops: [...drops],
        cache: [...cache],
        upstreams: Object.fromEntries(
          [...upstreams].map(([k, v]) => [k, { ...v, buckets: [...v.buckets] }]),
        ),
        zone: { ...zone },
      };
    },
  };
}

/** Sums the snapshots of several workers. */
export function mergeSnapshots(snapshots: readonly DnsStatsSnapshot[]): DnsStatsSnapshot {
  const sum = (pick: (s: DnsStatsSnapshot) => number[], length: number) => {
    const out = new Array<number>(length).fill(0);
    for (const s of snapshots) {
      pick(s).forEach((v, i) => {
        out[i]! += v;
      });
    }
    return out;
  };
  const upstreams: Record<string, UpstreamStats> = {};
  for (const s of snapshots) {
    for (const [name, u] of Object.entries(s.upstreams)) {
      const into = upstreams[name];
      if (into === undefined) {
        upstreams[name] = { ...u, buckets: [...u.buckets] };
        continue;
      }
      u.buckets.forEach((v, i) => {
        into.buckets[i]! += v;
      });
      into.sum += u.sum;
      into.count += u.count;
      into.errors += u.errors;
      into.healthy &&= u.healthy;
    }
  }
  return {
    queries: sum((s) => s.queries, QUERY_TYPES.length * RCODES.length),
    drops: sum((s) => s.drops, DROP_REASONS.length),
    cache: sum((s) => s.cache, CACHE_OUTCOMES.length),
    upstreams,
    // Every worker holds the same zone: its figures are the largest any reports; rebuilds add up.
    zone: {
      rebuilds: snapshots.reduce((n, s) => n + s.zone.rebuilds, 0),
      lastRebuildSeconds: Math.max(0, ...snapshots.map((s) => s.zone.lastRebuildSeconds)),
      names: Math.max(0, ...snapshots.map((s) => s.zone.names)),
      problems: Math.max(0, ...snapshots.map((s) => s.zone.problems)),
    },
  };
}
