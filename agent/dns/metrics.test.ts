import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerDnsMetrics } from './metrics.ts';
import { clientNetwork } from './stages/rate-limit-stage.ts';
import { createDnsStats, mergeSnapshots } from './stats.ts';

describe('DNS metrics', () => {
  it('renders the counters of every worker, summed', async () => {
    const a = createDnsStats();
    const b = createDnsStats();
    a.countReply(1, 0);
    a.countReply(1, 0);
    b.countReply(1, 3);
    b.countReply(33, 0);
    b.countReply(65, 0);
    a.countDrop('malformed');
    a.countCache('hit');
    b.countCache('miss');
    a.observeUpstream('10.0.0.2:53', 0.003);
    b.observeUpstream('10.0.0.2:53', 0.2);
    b.observeUpstream('10.0.0.2:53', undefined);
    b.setUpstreamHealth('10.0.0.2:53', false);
    a.recordRebuild(0.002, 40, 1);
    const registry = new Registry();
    registerDnsMetrics(registry, async () => mergeSnapshots([a.snapshot(), b.snapshot()]));
    const text = await registry.metrics();
    for (const line of [
      'pier_dns_queries_total{type="A",rcode="NOERROR"} 2',
      'pier_dns_queries_total{type="A",rcode="NXDOMAIN"} 1',
      'pier_dns_queries_total{type="SRV",rcode="NOERROR"} 1',
      'pier_dns_queries_total{type="other",rcode="NOERROR"} 1',
      'pier_dns_dropped_total{reason="malformed"} 1',
      'pier_dns_cache_hits_total 1',
      'pier_dns_cache_misses_total 1',
      'pier_dns_upstream_duration_seconds_bucket{le="0.005",upstream="10.0.0.2:53"} 1',
      'pier_dns_upstream_duration_seconds_bucket{le="+Inf",upstream="10.0.0.2:53"} 2',
      'pier_dns_upstream_duration_seconds_count{upstream="10.0.0.2:53"} 2',
      'pier_dns_upstream_errors_total{upstream="10.0.0.2:53"} 1',
      'pier_dns_upstream_healthy{upstream="10.0.0.2:53"} 0',
      'pier_dns_zone_names 40',
      'pier_dns_zone_problems 1',
    ]) {
      expect(text).toContain(line);
    }
    // Registering again (a second server in one process) replaces, never throws.
    registerDnsMetrics(registry, async () => mergeSnapshots([]));
    expect(await registry.metrics()).toContain('pier_dns_cache_hits_total 0');
  });

  it('limits per client network: /24 for IPv4, /56 for IPv6', () => {
    expect(clientNetwork('10.1.2.3')).toBe('10.1.2');
    expect(clientNetwork('2001:db8:1:2ff::9')).toBe('2001:db8:1:200');
    expect(clientNetwork('2001:db8:1:2aa:1::')).toBe('2001:db8:1:200');
    expect(clientNetwork('::1')).toBe('0:0:0:0');
  });
});
