// The DNS counters as Prometheus metrics. The query path counts in plain
// typed arrays (stats.ts), in each worker; a scrape asks the server for one
// summed snapshot and renders it, so nothing on the hot path touches
// prom-client.
//
//   pier_dns_queries_total{type,rcode}      replies sent
//   pier_dns_dropped_total{reason}          packets not answered: malformed, ratelimit, overload
//   pier_dns_cache_{hits,misses,stale,prefetches}_total
//   pier_dns_upstream_duration_seconds{upstream}   histogram of answered upstream queries
//   pier_dns_upstream_errors_total{upstream}       timeouts and network errors
//   pier_dns_upstream_healthy{upstream}            1 while not marked down
//   pier_dns_zone_names, pier_dns_zone_problems, pier_dns_zone_rebuilds_total,
//   pier_dns_zone_rebuild_seconds (the last one)

import type { Registry } from 'prom-client';
import {
  CACHE_OUTCOMES,
  type DnsStatsSnapshot,
  DROP_REASONS,
  LATENCY_BUCKETS,
  QUERY_TYPES,
  RCODES,
} from './stats.ts';

interface Sample {
  labels?: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** Registers the DNS metrics; `snapshot` is asked at most once per scrape. */
export function registerDnsMetrics(
  registry: Registry,
  snapshot: () => Promise<DnsStatsSnapshot>,
): void {
  let pending: { at: number; value: Promise<DnsStatsSnapshot> } | undefined;
  const current = () => {
    const now = Date.now();
    if (pending === undefined || now - pending.at > 250) pending = { at: now, value: snapshot() };
    return pending.value;
  };
  const metric = (
    name: string,
    help: string,
    type: 'counter' | 'gauge' | 'histogram',
    samples: (s: DnsStatsSnapshot) => Sample[],
  ) => {
    const existing = registry.getSingleMetric(name);
    if (existing !== undefined) registry.removeSingleMetric(name);
    registry.registerMetric({
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: samples(await current()) }),
      reset: () => {},
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  };

  metric('pier_dns_queries_total', 'DNS replies sent, by query type and rcode', 'counter', (s) =>
    QUERY_TYPES.flatMap((type, t) =>
      RCODES.map((rcode, r) => ({
        labels: { type, rcode },
        value: s.queries[t * RCODES.length + r] ?? 0,
      })),
    ).filter((sample) => sample.value > 0),
  );
  metric('pier_dns_dropped_total', 'DNS packets not answered, by reason', 'counter', (s) =>
    DROP_REASONS.map((reason, i) => ({ labels: { reason }, value: s.drops[i] ?? 0 })),
  );
  const cacheNames: Record<(typeof CACHE_OUTCOMES)[number], string> = {
    hit: 'hits',
    miss: 'misses',
    stale: 'stale',
    prefetch: 'prefetches',
  };
  CACHE_OUTCOMES.forEach((outcome, i) => {
    metric(
      `pier_dns_cache_${cacheNames[outcome]}_total`,
      `DNS cache ${cacheNames[outcome]} (upstream answers)`,
      'counter',
      (s) => [{ value: s.cache[i] ?? 0 }],
    );
  });
  metric(
    'pier_dns_upstream_duration_seconds',
    'Time upstream resolvers took to answer',
    'histogram',
    (s) =>
      Object.entries(s.upstreams).flatMap(([upstream, u]) => [
        ...[...LATENCY_BUCKETS, '+Inf' as const].map((le, i) => ({
          labels: { le, upstream },
          value: u.buckets[i] ?? 0,
          metricName: 'pier_dns_upstream_duration_seconds_bucket',
        })),
        {
          labels: { upstream },
          value: u.sum,
          metricName: 'pier_dns_upstream_duration_seconds_sum',
        },
        {
          labels: { upstream },
          value: u.count,
          metricName: 'pier_dns_upstream_duration_seconds_count',
        },
      ]),
  );
  metric(
    'pier_dns_upstream_errors_total',
    'Upstream queries that timed out or failed',
    'counter',
    (s) =>
      Object.entries(s.upstreams).map(([upstream, u]) => ({
        labels: { upstream },
        value: u.errors,
      })),
  );
  metric('pier_dns_upstream_healthy', '1 while the upstream is not marked down', 'gauge', (s) =>
    Object.entries(s.upstreams).map(([upstream, u]) => ({
      labels: { upstream },
      value: u.healthy ? 1 : 0,
    })),
  );
  metric('pier_dns_zone_names', 'Names in the cluster zone (with reverse names)', 'gauge', (s) => [
    { value: s.zone.names },
  ]);
  metric('pier_dns_zone_problems', 'Objects left out of the cluster zone', 'gauge', (s) => [
    { value: s.zone.problems },
  ]);
  metric('pier_dns_zone_rebuilds_total', 'Zone rebuilds (summed over workers)', 'counter', (s) => [
    { value: s.zone.rebuilds },
  ]);
  metric('pier_dns_zone_rebuild_seconds', 'Duration of the last zone rebuild', 'gauge', (s) => [
    { value: s.zone.lastRebuildSeconds },
  ]);
}
