// Metrics: one prom-client Registry per process (made once at startup and
// passed down, never the library's global one), Node's default metrics, and
// helpers that name every Pier metric `pier_<name>`:
//
//   const requests = metrics.counter('gateway_requests_total', 'Requests by route and status', ['route', 'status']);
//   requests.inc({ route, status });
//
// Asking twice for the same metric returns the same one, so a component can
// be created twice in one process (tests) without "already registered".

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { ObserveErrors } from './errors.ts';

export interface MetricsOptions {
  /** Node's default process and runtime metrics (process_*, nodejs_*). Default true. */
  defaultMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  /** `Content-Type` of `render()`'s output. */
  readonly contentType: string;
  counter<L extends string = string>(
    name: string,
    help: string,
    labelNames?: readonly L[],
  ): Counter<L>;
  gauge<L extends string = string>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
  /** Buckets default to latency in seconds, 1 ms to 10 s. */
  histogram<L extends string = string>(
    name: string,
    help: string,
    labelNames?: readonly L[],
    buckets?: readonly number[],
  ): Histogram<L>;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
}

export const latencyBuckets: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const snake = /^[a-z_][a-z0-9_]*$/;

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const existing = <T>(
    name: string,
    type: new (...args: never[]) => T,
    labelNames: readonly string[],
  ): T | undefined => {
    const metric = registry.getSingleMetric(name);
    if (metric === undefined) return undefined;
    const labels = (metric as unknown as { labelNames: readonly string[] }).labelNames ?? [];
    if (!(metric instanceof type) || labels.join(',') !== labelNames.join(',')) {
      throw ObserveErrors.METRIC_CLASH(name, `${metric.constructor.name}(${labels.join(', ')})`);
    }
    return metric;
  };
  const fullName = (name: string): string => {
    const full = name.startsWith('pier_') ? name : `pier_${name}`;
    if (!snake.test(full)) throw ObserveErrors.METRIC_NAME(name);
    return full;
  };

  return {
    registry,
    contentType: registry.contentType,
    counter(name, help, labelNames = []) {
      const full = fullName(name);
      return (
        existing(full, Counter, labelNames) ??
        new Counter({ name: full, help, labelNames: [...labelNames], registers: [registry] })
      );
    },
    gauge(name, help, labelNames = []) {
      const full = fullName(name);
      return (
        existing(full, Gauge, labelNames) ??
        new Gauge({ name: full, help, labelNames: [...labelNames], registers: [registry] })
      );
    },
    histogram(name, help, labelNames = [], buckets = latencyBuckets) {
      const full = fullName(name);
      return (
        existing(full, Histogram, labelNames) ??
        new Histogram({
          name: full,
          help,
          labelNames: [...labelNames],
          buckets: [...buckets],
          registers: [registry],
        })
      );
    },
    render: () => registry.metrics(),
  };
}
