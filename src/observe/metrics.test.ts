import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';

describe('createMetrics', () => {
  it('prefixes names with pier_ and renders Prometheus text', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.counter('dns_queries_total', 'DNS queries', ['rcode']).inc({ rcode: 'NOERROR' });
    metrics.gauge('pier_store_revision', 'Store revision').set(42);
    metrics
      .histogram('gateway_request_seconds', 'Latency', ['route'], [0.1, 1])
      .observe({ route: 'web' }, 0.5);
    expect(await metrics.render()).toBe(
      [
        '# HELP pier_dns_queries_total DNS queries',
        '# TYPE pier_dns_queries_total counter',
        'pier_dns_queries_total{rcode="NOERROR"} 1',
        '',
        '# HELP pier_store_revision Store revision',
        '# TYPE pier_store_revision gauge',
        'pier_store_revision 42',
        '',
        '# HELP pier_gateway_request_seconds Latency',
        '# TYPE pier_gateway_request_seconds histogram',
        'pier_gateway_request_seconds_bucket{le="0.1",route="web"} 0',
        'pier_gateway_request_seconds_bucket{le="1",route="web"} 1',
        'pier_gateway_request_seconds_bucket{le="+Inf",route="web"} 1',
        'pier_gateway_request_seconds_sum{route="web"} 0.5',
        'pier_gateway_request_seconds_count{route="web"} 1',
        '',
      ].join('\n'),
    );
  });

  it('returns the same metric when asked twice, and refuses a clashing definition', () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const a = metrics.counter('x_total', 'x', ['a']);
    expect(metrics.counter('x_total', 'x', ['a'])).toBe(a);
    expect(() => metrics.counter('x_total', 'x', ['b'])).toThrow(
      'metric pier_x_total is already registered as Counter(a); use one definition per name',
    );
    expect(() => metrics.gauge('x_total', 'x', ['a'])).toThrow('already registered as Counter(a)');
    expect(() => metrics.counter('Bad-Name', 'x')).toThrow(
      'metric name Bad-Name must be snake_case',
    );
  });

  it('keeps one registry per instance, with Node default metrics by default', async () => {
    const one = createMetrics();
    const two = createMetrics();
    one.counter('only_here_total', 'x').inc();
    expect(await one.render()).toContain('pier_only_here_total 1');
    expect(await two.render()).not.toContain('pier_only_here_total');
    expect(await two.render()).toMatch(/^process_resident_memory_bytes \d+/m);
  });
});
